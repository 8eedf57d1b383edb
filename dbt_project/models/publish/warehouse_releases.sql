-- Order lines to release to the location that ships them (marts.order_routing, 'ship' rows at
-- an own DC or the 3PL): to a DC's WMS over its REST API, to the 3PL as an X12 940. Only orders
-- the ERP has accepted (order intake passed: a sales order with the storefront reference exists)
-- are released. A kit line is released as its components.
{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on order events #}

with

routing as (

    select * from {{ ref('order_routing') }}

),

orders as (

    select * from {{ ref('order') }}

),

locations as (

    select * from {{ ref('location') }}

),

kit_components as (

    select * from {{ ref('stg_planning__kit_components') }}

),

releasable as (

    select
        routing.*,
        orders.erp_sale_id,
        orders.shipping_country_code,
        orders.shipping_province_code,
        locations.system as target_system,
        case locations.kind when 'dc' then 'wms_rest' else 'x12_940' end as transport
    from routing
    inner join orders on orders.order_key = routing.order_key
    inner join locations on locations.location_code = routing.location
    where routing.fulfilment = 'ship'
      and orders.erp_sale_id is not null
      and not orders.is_cancelled

),

release_lines as (

    select
        releasable.*,
        releasable.sku as release_sku,
        releasable.quantity as release_quantity,
        null::text as kit_sku
    from releasable
    where releasable.supply_kind = 'stocked'

    union all

    select
        releasable.*,
        kit_components.component_sku,
        releasable.quantity * kit_components.quantity,
        releasable.sku
    from releasable
    inner join kit_components on kit_components.kit_sku = releasable.sku
    where releasable.supply_kind = 'kit'

),

final as (

    select
        order_key || '@' || location as release_key,
        target_system,
        transport,
        location,
        order_key,
        erp_sale_id,
        channel,
        customer_key,
        service_level,
        shipping_country_code,
        shipping_province_code,
        line_number,
        release_sku as sku,
        kit_sku,
        release_quantity::integer as quantity,
        ordered_at
    from release_lines

)

select * from final
