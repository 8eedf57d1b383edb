{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on shipment events #}

with

shipments as (

    select * from {{ ref('shipment') }}

),

orders as (

    select * from {{ ref('order') }}

),

order_lines as (

    select * from {{ ref('order_line') }}

),

wms_shipment_lines as (

    select * from {{ ref('stg_wms__shipment_lines') }}

),

tpl_advices as (

    select * from {{ ref('stg_3pl__shipping_advices') }}

),

tpl_advice_lines as (

    select * from {{ ref('stg_3pl__shipping_advice_lines') }}

),

-- what each shipment shipped, per order line: the WMS refers to the order line
-- (line_ref <line>[.<kit component>]); the 3PL's 945 only by SKU
shipped_lines as (

    select
        wms_shipment_lines.system,
        wms_shipment_lines.shipment_id,
        split_part(wms_shipment_lines.line_ref, '.', 1)::integer as line_number,
        null::text as sku,
        wms_shipment_lines.ordered::numeric as ordered_units,
        wms_shipment_lines.quantity::numeric as shipped_units
    from wms_shipment_lines
    where wms_shipment_lines.line_ref ~ '^[0-9]+(\.[0-9]+)?$'
    union all
    select
        tpl_advices.system,
        tpl_advices.shipment_id,
        null::integer,
        tpl_advice_lines.sku,
        tpl_advice_lines.quantity_ordered,
        tpl_advice_lines.quantity_shipped
    from tpl_advice_lines
    inner join tpl_advices
        on tpl_advices.system = tpl_advice_lines.system
        and tpl_advices.record_key = tpl_advice_lines.record_key

),

shipment_order_lines as (

    select
        shipments.system as shipment_system,
        shipments.shipment_id,
        order_lines.order_key,
        order_lines.line_item_id,
        order_lines.line_number,
        order_lines.quantity,
        order_lines.fulfillable_quantity,
        -- the share of the line shipped: the least-shipped component of a kit
        min(shipped_lines.shipped_units / nullif(shipped_lines.ordered_units, 0)) as shipped_share
    from shipments
    inner join shipped_lines
        on shipped_lines.system = shipments.system
        and shipped_lines.shipment_id = shipments.shipment_id
    inner join order_lines
        on order_lines.order_key = shipments.order_key
        and (
            order_lines.line_number = shipped_lines.line_number
            or (shipped_lines.line_number is null and order_lines.sku = shipped_lines.sku)
        )
    group by 1, 2, 3, 4, 5, 6, 7

),

to_fulfil as (

    select
        shipment_system,
        shipment_id,
        order_key,
        line_item_id,
        line_number,
        least(fulfillable_quantity, floor(quantity * shipped_share))::integer as quantity
    from shipment_order_lines
    where fulfillable_quantity > 0
      and least(fulfillable_quantity, floor(quantity * shipped_share)) > 0

),

final as (

    select
        orders.system as storefront_system,
        orders.order_id as storefront_order_id,
        orders.order_key,
        shipments.shipment_id,
        shipments.source as shipment_source,
        shipments.system as shipment_system,
        shipments.location,
        shipments.carrier,
        shipments.service,
        shipments.tracking_number,
        shipments.shipped_at,
        array_agg(to_fulfil.line_item_id order by to_fulfil.line_number) as line_item_ids,
        jsonb_agg(
            jsonb_build_object('id', to_fulfil.line_item_id, 'quantity', to_fulfil.quantity)
            order by to_fulfil.line_number
        ) as line_items,
        sum(to_fulfil.quantity)::integer as quantity
    from to_fulfil
    inner join shipments
        on shipments.system = to_fulfil.shipment_system
        and shipments.shipment_id = to_fulfil.shipment_id
    inner join orders on orders.order_key = to_fulfil.order_key
    where not orders.is_cancelled
    group by  -- noqa: AM06
        orders.system, orders.order_id, orders.order_key, shipments.shipment_id, shipments.source,
        shipments.system, shipments.location, shipments.carrier, shipments.service,
        shipments.tracking_number, shipments.shipped_at

)

select * from final
