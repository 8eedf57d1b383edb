-- Storefront order lines still to ship that no warehouse has been given yet (no WMS release,
-- no 3PL shipping advice for the order, no release the hub has enqueued or sent) and that no
-- warehouse has shipped any of (a confirmed WMS shipment or 945, linked to the order by
-- core.shipment's matching, whatever the store's fulfillment_status still says: routed
-- again, it could ship twice): the demand order routing
-- places. Quantities are converted to base units (a case line on a CS channel is case pack ×
-- quantity).
with

orders as (

    select * from {{ ref('order') }}

),

order_lines as (

    select * from {{ ref('order_line') }}

),

channels as (

    select * from {{ ref('channel') }}

),

items as (

    select * from {{ ref('int_inventory__items') }}

),

zones as (

    select * from {{ ref('shipping_zones') }}

),

wms_releases as (

    select * from {{ ref('stg_wms__releases') }}

),

tpl_advices as (

    select * from {{ ref('stg_3pl__shipping_advices') }}

),

shipments as (

    select * from {{ ref('shipment') }}

),

-- releases the hub has given a location (publish target warehouse_releases): sent, waiting in
-- the outbox, or dead (an operator decides): routing such an order again could ship it twice
hub_releases as (

    select * from {{ ref('stg_ops__outbox') }}
    where target = 'warehouse_releases'
      and status in ('pending', 'delivered', 'existed', 'suppressed', 'dead')

),

released as (

    select order_ref from wms_releases
    union
    select order_ref from tpl_advices where order_ref is not null
    union
    select payload->'lines'->0->>'order_key' from hub_releases
    union
    select order_ref from shipments where order_ref is not null
    union
    -- a confirmation linked to its order by release id or the sender's matching rules
    -- (core.shipment: a 945 for HIST-D2C#1014 ships D2C#1014)
    select order_key from shipments where order_key is not null

),

open_orders as (

    select orders.*
    from orders
    where not orders.is_cancelled
      and coalesce(orders.fulfillment_status, 'unfulfilled') in ('unfulfilled', 'partial')
      and not exists (select 1 from released where released.order_ref = orders.order_key)

),

sized as (

    select
        order_lines.order_line_key,
        open_orders.order_key,
        order_lines.line_number,
        open_orders.channel,
        open_orders.system,
        open_orders.customer_key,
        open_orders.created_at,
        open_orders.shipping_country_code,
        open_orders.shipping_province_code,
        zones.shipping_zone,
        open_orders.shipping_service_level as service_level,
        order_lines.sku,
        items.supply_kind,
        items.drop_ship_supplier,
        order_lines.fulfillable_quantity as quantity,
        case
            when channels.selling_unit = 'CS' and coalesce(items.case_pack, 1) > 1
                then items.case_pack
            else 1
        end as unit_factor
    from open_orders
    inner join order_lines on order_lines.order_key = open_orders.order_key
    inner join channels on channels.channel = open_orders.channel
    left join items on items.sku = order_lines.sku
    left join zones
        on zones.country_code = open_orders.shipping_country_code
        and zones.region_code = open_orders.shipping_province_code
    where order_lines.fulfillable_quantity > 0

),

final as (

    select sized.*, quantity * unit_factor as base_quantity
    from sized

)

select * from final
