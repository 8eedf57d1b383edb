{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on shipment events #}

-- Desired state for the ERP's customer shipments: each confirmed shipment (WMS ship confirm,
-- 3PL 945, drop-ship 856) matched to an order whose sale is in the ERP, one row per SKU with the
-- quantity shipped in base units (EA), and the amount its invoice must total
-- (docs/decisions.md, Shipment postings and invoices).
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

catalog as (

    select * from {{ ref('item') }}

),

wms_shipments as (

    select * from {{ ref('stg_wms__shipments') }}

),

wms_shipment_lines as (

    select * from {{ ref('stg_wms__shipment_lines') }}

),

wms_short_picks as (

    select * from {{ ref('stg_wms__short_picks') }}

),

tpl_advices as (

    select * from {{ ref('stg_3pl__shipping_advices') }}

),

tpl_advice_lines as (

    select * from {{ ref('stg_3pl__shipping_advice_lines') }}

),

supplier_notices as (

    select * from {{ ref('stg_supplier__ship_notices') }}

),

supplier_notice_lines as (

    select * from {{ ref('stg_supplier__ship_notice_lines') }}

),

{%- set channel_policies = distrohub_channels() %}

-- each storefront's short-pick policy (settings.channel.backorder: allow | cancel)
policies as (

    {% for system in distrohub_systems('shopify') %}
    select
        '{{ system }}'::text as system,
        '{{ channel_policies.get(system, {}).get('backorder', 'allow') }}'::text as backorder
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- each order line as the ERP sale has it (erp_sales_orders): base units, price per base unit;
-- a line of a service product in the ERP (a kit: its components are what ships) has no stock
-- move to post, and Tryton invoices it when the sale is processed, like the charges line
erp_lines as (

    select
        order_lines.order_key,
        order_lines.line_number,
        order_lines.sku,
        (
            coalesce(order_lines.current_quantity, order_lines.quantity)
            * order_lines.units_per_selling_unit
        )::numeric as units,
        round(order_lines.presentment_unit_price / order_lines.units_per_selling_unit, 4)
            as unit_price,
        coalesce(catalog.item_type, 'goods') != 'service' as is_moved
    from order_lines
    left join catalog on catalog.sku = order_lines.sku
    where coalesce(order_lines.current_quantity, order_lines.quantity) > 0

),

-- what each confirmation says it shipped, per SKU as the sender names it; a WMS line of a
-- kit's component (line_ref <line>.<component>) stands for its order line (below)
sent_lines as (

    select
        system,
        shipment_id,
        line_ref,
        sku,
        ordered::numeric as ordered,
        quantity::numeric as shipped
    from wms_shipment_lines
    union all
    select
        tpl_advices.system,
        tpl_advices.shipment_id,
        null::text,
        tpl_advice_lines.sku,
        tpl_advice_lines.quantity_ordered::numeric,
        tpl_advice_lines.quantity_shipped::numeric
    from tpl_advice_lines
    inner join tpl_advices
        on tpl_advices.system = tpl_advice_lines.system
        and tpl_advices.record_key = tpl_advice_lines.record_key
    union all
    select
        supplier_notices.system,
        supplier_notices.shipment_id,
        null::text,
        supplier_notice_lines.sku,
        supplier_notice_lines.quantity_ordered::numeric,
        supplier_notice_lines.quantity_shipped::numeric
    from supplier_notice_lines
    inner join supplier_notices
        on supplier_notices.system = supplier_notice_lines.system
        and supplier_notices.record_key = supplier_notice_lines.record_key

),

posted as (

    select
        shipments.system,
        shipments.shipment_id,
        shipments.source,
        shipments.order_key,
        shipments.carrier,
        shipments.tracking_number,
        shipments.shipped_at,
        orders.system as storefront_system,
        orders.erp_sale_id,
        orders.presentment_total_price as order_total
    from shipments
    inner join orders on orders.order_key = shipments.order_key
    where orders.erp_sale_id is not null
      -- a sale the ERP shows fully shipped has nothing left to post (shipped before the hub
      -- posted shipments, or posted already: a record leaving the model is never sent)
      and coalesce(orders.erp_shipment_state, '') != 'sent'

),

-- a kit's components shipped: its order line, by the least-shipped component's share
kit_lines as (

    select
        posted.system,
        posted.shipment_id,
        erp_lines.sku,
        floor(erp_lines.units * min(sent_lines.shipped / nullif(sent_lines.ordered, 0)))
            as quantity
    from posted
    inner join sent_lines
        on sent_lines.system = posted.system
        and sent_lines.shipment_id = posted.shipment_id
    inner join erp_lines
        on erp_lines.order_key = posted.order_key
        and erp_lines.line_number = split_part(sent_lines.line_ref, '.', 1)::integer
    where sent_lines.line_ref ~ '^[0-9]+\.[0-9]+$'
    group by posted.system, posted.shipment_id, erp_lines.sku, erp_lines.units

),

plain_lines as (

    select
        posted.system,
        posted.shipment_id,
        sent_lines.sku,
        sent_lines.shipped as quantity
    from posted
    inner join sent_lines
        on sent_lines.system = posted.system
        and sent_lines.shipment_id = posted.shipment_id
    where sent_lines.line_ref is null or sent_lines.line_ref !~ '^[0-9]+\.[0-9]+$'

),

shipped as (

    select
        system,
        shipment_id,
        sku,
        sum(quantity) as quantity
    from (
        select * from kit_lines
        union all
        select * from plain_lines
    ) as all_lines
    where not exists (
        select 1
        from erp_lines
        inner join posted on posted.order_key = erp_lines.order_key
        where posted.system = all_lines.system
          and posted.shipment_id = all_lines.shipment_id
          and erp_lines.sku = all_lines.sku
          and not erp_lines.is_moved
    )
    group by system, shipment_id, sku
    having sum(quantity) > 0

),

-- the ERP's price of each SKU on the order (the lowest line number when it is on several)
sku_prices as (

    select distinct on (order_key, sku)
        order_key,
        sku,
        unit_price
    from erp_lines
    order by order_key asc, sku asc, line_number asc

),

-- what Tryton invoices when the sale is processed: the product-less charges line the
-- sales-order transport adds and any service (kit) line, i.e. the order total less its moved
-- lines, each rounded to the cent as Tryton does
charges as (

    select
        orders.order_key,
        max(orders.presentment_total_price)
        - coalesce(
            sum(round(erp_lines.units * erp_lines.unit_price, 2)) filter (
                where erp_lines.is_moved
            ),
            0
        ) as amount
    from orders
    inner join erp_lines on erp_lines.order_key = orders.order_key
    where orders.erp_sale_id is not null
    group by orders.order_key

),

-- the charges go on the order's first shipment's invoice
shipment_rank as (

    select
        system,
        shipment_id,
        row_number() over (
            partition by order_key order by shipped_at asc nulls last, system asc, shipment_id asc
        ) as rank_in_order
    from posted

),

-- a shipment short of what was released: a line shipped less than ordered, or a WMS short
-- pick on its release
short_shipments as (

    select distinct
        system,
        shipment_id
    from sent_lines
    where shipped < ordered
    union
    select
        wms_shipments.system,
        wms_shipments.shipment_id
    from wms_shipments
    inner join wms_short_picks
        on wms_short_picks.system = wms_shipments.system
        and wms_short_picks.release_id = wms_shipments.release_id
    where wms_short_picks.short > 0

),

items as (

    select
        shipped.system,
        shipped.shipment_id,
        -- a SKU not on the order has no price here: the transport refuses it by name
        -- (sku_not_on_shipment, a dead letter with both figures) before anything is written
        sum(round(shipped.quantity * coalesce(sku_prices.unit_price, 0), 2)) as amount
    from shipped
    inner join posted
        on posted.system = shipped.system
        and posted.shipment_id = shipped.shipment_id
    left join sku_prices
        on sku_prices.order_key = posted.order_key
        and sku_prices.sku = shipped.sku
    group by shipped.system, shipped.shipment_id

),

final as (

    select
        posted.system || ':' || posted.shipment_id as shipment_key,
        posted.system as shipment_system,
        posted.shipment_id,
        posted.source as shipment_source,
        posted.order_key,
        posted.erp_sale_id,
        posted.storefront_system,
        shipped.sku,
        shipped.quantity,
        'EA'::text as unit,
        sku_prices.unit_price,
        posted.carrier,
        posted.tracking_number,
        posted.shipped_at,
        shipment_rank.rank_in_order = 1 as carries_charges,
        items.amount
        + case when shipment_rank.rank_in_order = 1 then coalesce(charges.amount, 0) else 0 end
            as expected_amount,
        case
            when short_shipments.shipment_id is not null
                then coalesce(policies.backorder, 'allow')
            else 'allow'
        end as backorder_policy,
        short_shipments.shipment_id is not null as is_short
    from posted
    inner join shipped
        on shipped.system = posted.system
        and shipped.shipment_id = posted.shipment_id
    inner join shipment_rank
        on shipment_rank.system = posted.system
        and shipment_rank.shipment_id = posted.shipment_id
    inner join items
        on items.system = posted.system
        and items.shipment_id = posted.shipment_id
    left join sku_prices
        on sku_prices.order_key = posted.order_key
        and sku_prices.sku = shipped.sku
    left join charges on charges.order_key = posted.order_key
    left join policies on policies.system = posted.storefront_system
    left join short_shipments
        on short_shipments.system = posted.system
        and short_shipments.shipment_id = posted.shipment_id

)

select * from final
