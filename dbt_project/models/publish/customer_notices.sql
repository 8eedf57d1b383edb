{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on shipment events #}

-- One customer notice per order and event (publish target customer_notices, transport
-- smtp_notices): shipped or partly_shipped per shipment, backordered per short-picked
-- release with nothing shipped yet, cancelled per order, refunded per return received. A
-- notice once published leaves the model (ops.published_state), so a later change of its
-- order (an e-mail corrected, a tracking status) never sends it again.
with

orders as (

    select * from {{ ref('order') }}

),

order_lines as (

    select * from {{ ref('order_line') }}

),

shipments as (

    select * from {{ ref('shipment') }}

),

returns as (

    select * from {{ ref('return') }}

),

storefront_customers as (

    select * from {{ ref('stg_shopify__customers') }}

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

short_picks as (

    select * from {{ ref('stg_wms__short_picks') }}

),

wms_releases as (

    select * from {{ ref('stg_wms__releases') }}

),

published as (

    select record_key from {{ ref('stg_ops__published_state') }}
    where target = 'customer_notices'

),

-- what each shipment shipped against what it was asked to ship, per line (base units): the
-- WMS names the order line (line_ref <line>[.<kit component>]); the 3PL's 945 only the SKU
shipped_lines as (

    select
        system,
        shipment_id,
        split_part(line_ref, '.', 1)::integer as line_number,
        sku,
        ordered::numeric as ordered_units,
        quantity::numeric as shipped_units
    from wms_shipment_lines
    where line_ref ~ '^[0-9]+(\.[0-9]+)?$'
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

shipment_lines as (

    select
        shipments.system,
        shipments.shipment_id,
        sum(shipped_lines.ordered_units) as units_ordered,
        sum(shipped_lines.shipped_units) as units_shipped,
        bool_or(shipped_lines.shipped_units < shipped_lines.ordered_units) as is_short,
        jsonb_agg(
            jsonb_build_object(
                'sku', shipped_lines.sku,
                'title', coalesce(order_lines.title, shipped_lines.sku),
                'ordered', shipped_lines.ordered_units,
                'shipped', shipped_lines.shipped_units,
                'backordered', greatest(shipped_lines.ordered_units - shipped_lines.shipped_units, 0)
            )
            order by shipped_lines.line_number nulls last, shipped_lines.sku
        ) as lines
    from shipments
    inner join shipped_lines
        on shipped_lines.system = shipments.system
        and shipped_lines.shipment_id = shipments.shipment_id
    left join order_lines
        on order_lines.order_key = shipments.order_key
        and (
            order_lines.line_number = shipped_lines.line_number
            or (shipped_lines.line_number is null and order_lines.sku = shipped_lines.sku)
        )
    group by shipments.system, shipments.shipment_id

),

shipment_events as (

    select
        shipments.order_key,
        case when shipment_lines.is_short then 'partly_shipped' else 'shipped' end as event,
        shipments.shipment_id as event_ref,
        shipments.shipped_at as event_at,
        shipments.carrier,
        shipments.service,
        shipments.tracking_number,
        coalesce(shipment_lines.lines, '[]'::jsonb) as lines,
        shipment_lines.units_ordered,
        shipment_lines.units_shipped
    from shipments
    left join shipment_lines
        on shipment_lines.system = shipments.system
        and shipment_lines.shipment_id = shipments.shipment_id
    where shipments.order_key is not null

),

-- a short pick on a release of an order nothing has shipped for yet: the customer hears of
-- the backorder now (once an order has a shipment, its partly_shipped notice says it)
backorder_events as (

    select
        wms_releases.order_ref as order_key,
        'backordered' as event,
        short_picks.release_id as event_ref,
        max(short_picks.reported_at) as event_at,
        jsonb_agg(
            jsonb_build_object(
                'sku', short_picks.sku,
                'title', coalesce(order_lines.title, short_picks.sku),
                'ordered', short_picks.expected,
                'shipped', short_picks.picked,
                'backordered', short_picks.short
            )
            order by short_picks.line_ref, short_picks.sku
        ) as lines,
        sum(short_picks.expected) as units_ordered,
        sum(short_picks.picked) as units_shipped
    from short_picks
    inner join wms_releases
        on wms_releases.system = short_picks.system
        and wms_releases.release_id = short_picks.release_id
    left join order_lines
        on order_lines.order_key = wms_releases.order_ref
        and order_lines.line_number::text = split_part(short_picks.line_ref, '.', 1)
    where short_picks.short > 0
      and not exists (
          select 1 from shipments where shipments.order_key = wms_releases.order_ref
      )
    group by wms_releases.order_ref, short_picks.release_id

),

cancel_events as (

    select
        order_key,
        'cancelled' as event,
        'order' as event_ref,
        cancelled_at as event_at,
        null::jsonb as lines,
        null::numeric as units_ordered,
        null::numeric as units_shipped
    from orders
    where is_cancelled

),

refund_events as (

    select
        order_key,
        'refunded' as event,
        return_key as event_ref,
        received_at as event_at,
        null::jsonb as lines,
        quantity::numeric as units_ordered,
        null::numeric as units_shipped
    from returns
    where order_key is not null and received_at is not null

),

events as (

    select
        order_key, event, event_ref, event_at, carrier, service, tracking_number, lines,
        units_ordered, units_shipped
    from shipment_events
    union all
    select
        order_key, event, event_ref, event_at, null, null, null, lines, units_ordered,
        units_shipped
    from backorder_events
    union all
    select
        order_key, event, event_ref, event_at, null, null, null, lines, units_ordered,
        units_shipped
    from cancel_events
    union all
    select
        order_key, event, event_ref, event_at, null, null, null, lines, units_ordered,
        units_shipped
    from refund_events

),

final as (

    select
        events.order_key,
        events.event,
        events.event_ref,
        orders.channel,
        orders.system as storefront_system,
        orders.order_name,
        nullif(trim(coalesce(orders.email, storefront_customers.email)), '') as email,
        nullif(
            trim(concat_ws(' ', storefront_customers.first_name, storefront_customers.last_name)),
            ''
        ) as customer_name,
        events.event_at,
        events.carrier,
        events.service,
        events.tracking_number,
        coalesce(events.lines, '[]'::jsonb) as lines,
        events.units_ordered,
        events.units_shipped,
        case
            when coalesce(orders.email, storefront_customers.email) is null
                or coalesce(orders.email, storefront_customers.email) !~ '^[^@[:space:]]+@[^@[:space:]]+$'
                then 'no usable e-mail address on the storefront order or its customer: add it in '
                || orders.system || ' (order ' || orders.order_name || '), the next build sends it'
        end as hold_reason
    from events
    inner join orders on orders.order_key = events.order_key
    left join storefront_customers
        on storefront_customers.system = orders.system
        and storefront_customers.customer_id = orders.storefront_customer_id
    where not exists (
        select 1 from published
        where published.record_key = events.order_key || ':' || events.event || ':' || events.event_ref
    )

)

select * from final
