with

order_lines as (

    select * from {{ ref('stg_shopify__order_lines') }}

),

orders as (

    select * from {{ ref('order') }}

),

shipments as (

    select * from {{ ref('shipment') }}

),

wms_shipment_lines as (

    select * from {{ ref('stg_wms__shipment_lines') }}

),

wms_short_picks as (

    select * from {{ ref('stg_wms__short_picks') }}

),

wms_releases as (

    select * from {{ ref('stg_wms__releases') }}

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

lines as (

    select
        orders.order_key || '/' || order_lines.line_number as order_line_key,
        orders.order_key,
        order_lines.line_number,
        orders.channel,
        orders.system as storefront_system,
        orders.is_cancelled as order_is_cancelled,
        order_lines.line_item_id,
        order_lines.sku,
        order_lines.variant_id,
        order_lines.title,
        order_lines.variant_title,
        coalesce(substring(order_lines.variant_title from 'Case of ([0-9]+)')::integer, 1)
            as units_per_selling_unit,
        order_lines.quantity,
        order_lines.current_quantity,
        order_lines.fulfillable_quantity,
        order_lines.fulfillment_status,
        order_lines.price as unit_price,
        order_lines.presentment_price as presentment_unit_price,
        order_lines.total_discount,
        order_lines.price * order_lines.quantity - coalesce(order_lines.total_discount, 0)
            as line_amount,
        orders.erp_sale_id
    from order_lines
    inner join orders
        on orders.system = order_lines.system
        and orders.order_id = order_lines.order_id

),

-- the lowest line of each SKU of an order: where a 945's or an 856's SKU lands
sku_lines as (

    select distinct on (order_key, sku)
        order_key,
        sku,
        line_number
    from lines
    order by order_key asc, sku asc, line_number asc

),

-- what each shipment shipped of each order line, in base units (EA), and whether short: a
-- WMS line names its order line (line_ref <line>[.<kit component>]; a kit ships by its
-- least-shipped component's share), a 945 or an 856 its SKU
wms_line_shipped as (

    select
        shipments.order_key,
        split_part(wms_shipment_lines.line_ref, '.', 1)::integer as line_number,
        wms_shipment_lines.line_ref ~ '\.' as is_component,
        min(wms_shipment_lines.quantity::numeric / nullif(wms_shipment_lines.ordered, 0))
            as shipped_share,
        sum(wms_shipment_lines.quantity)::numeric as shipped_units,
        bool_or(wms_shipment_lines.quantity < wms_shipment_lines.ordered) as is_short
    from wms_shipment_lines
    inner join shipments
        on shipments.system = wms_shipment_lines.system
        and shipments.shipment_id = wms_shipment_lines.shipment_id
    where shipments.order_key is not null
      and wms_shipment_lines.line_ref ~ '^[0-9]+(\.[0-9]+)?$'
    group by
        shipments.order_key,
        split_part(wms_shipment_lines.line_ref, '.', 1)::integer,
        wms_shipment_lines.line_ref ~ '\.',
        shipments.system,
        shipments.shipment_id

),

edi_shipped as (

    select
        shipments.order_key,
        sent.sku,
        sum(sent.quantity_shipped)::numeric as shipped_units,
        bool_or(sent.quantity_shipped < sent.quantity_ordered) as is_short
    from (
        select
            tpl_advices.system,
            tpl_advices.shipment_id,
            tpl_advice_lines.sku,
            tpl_advice_lines.quantity_ordered,
            tpl_advice_lines.quantity_shipped
        from tpl_advice_lines
        inner join tpl_advices
            on tpl_advices.system = tpl_advice_lines.system
            and tpl_advices.record_key = tpl_advice_lines.record_key
        union all
        select
            supplier_notices.system,
            supplier_notices.shipment_id,
            supplier_notice_lines.sku,
            supplier_notice_lines.quantity_ordered,
            supplier_notice_lines.quantity_shipped
        from supplier_notice_lines
        inner join supplier_notices
            on supplier_notices.system = supplier_notice_lines.system
            and supplier_notices.record_key = supplier_notice_lines.record_key
    ) as sent
    inner join shipments
        on shipments.system = sent.system
        and shipments.shipment_id = sent.shipment_id
    where shipments.order_key is not null
    group by shipments.order_key, sent.sku

),

shipped_units as (

    select
        wms_line_shipped.order_key,
        wms_line_shipped.line_number,
        sum(
            case
                when wms_line_shipped.is_component
                    then floor(
                        lines.quantity * lines.units_per_selling_unit
                        * wms_line_shipped.shipped_share
                    )
                else wms_line_shipped.shipped_units
            end
        ) as units,
        bool_or(wms_line_shipped.is_short) as is_short
    from wms_line_shipped
    inner join lines
        on lines.order_key = wms_line_shipped.order_key
        and lines.line_number = wms_line_shipped.line_number
    group by wms_line_shipped.order_key, wms_line_shipped.line_number
    union all
    select
        sku_lines.order_key,
        sku_lines.line_number,
        edi_shipped.shipped_units,
        edi_shipped.is_short
    from edi_shipped
    inner join sku_lines
        on sku_lines.order_key = edi_shipped.order_key
        and sku_lines.sku = edi_shipped.sku

),

-- a WMS short pick on a release of the order, by its line
short_picked as (

    select distinct
        wms_releases.order_ref as order_key,
        split_part(wms_short_picks.line_ref, '.', 1)::integer as line_number
    from wms_short_picks
    inner join wms_releases
        on wms_releases.system = wms_short_picks.system
        and wms_releases.release_id = wms_short_picks.release_id
    where wms_short_picks.short > 0
      and wms_short_picks.line_ref ~ '^[0-9]+(\.[0-9]+)?$'

),

shipped as (

    select
        order_key,
        line_number,
        sum(units) as units,
        bool_or(is_short) as is_short
    from shipped_units
    group by order_key, line_number

),

quantities as (

    select
        lines.*,
        policies.backorder,
        lines.quantity::numeric as ordered_quantity,
        least(
            coalesce(shipped.units, 0) / lines.units_per_selling_unit,
            coalesce(lines.current_quantity, lines.quantity)
        )::numeric as shipped_quantity,
        greatest(
            coalesce(lines.current_quantity, lines.quantity)
            - coalesce(shipped.units, 0) / lines.units_per_selling_unit,
            0
        )::numeric as open_quantity,
        coalesce(shipped.is_short, false) or short_picked.line_number is not null as is_short
    from lines
    left join shipped
        on shipped.order_key = lines.order_key
        and shipped.line_number = lines.line_number
    left join short_picked
        on short_picked.order_key = lines.order_key
        and short_picked.line_number = lines.line_number
    left join policies on policies.system = lines.storefront_system

),

final as (

    select
        order_line_key,
        order_key,
        line_number,
        channel,
        line_item_id,
        sku,
        variant_id,
        title,
        variant_title,
        units_per_selling_unit,
        quantity,
        current_quantity,
        fulfillable_quantity,
        fulfillment_status,
        unit_price,
        presentment_unit_price,
        total_discount,
        line_amount,
        erp_sale_id,
        ordered_quantity,
        -- trim_scale: a division's scale (1.0000…) is noise for a count of units
        trim_scale(shipped_quantity) as shipped_quantity,
        trim_scale(
            case
                when is_short and not order_is_cancelled and coalesce(backorder, 'allow') = 'allow'
                    then open_quantity
                else 0
            end::numeric
        ) as backordered_quantity,
        trim_scale(
            (
                quantity - coalesce(current_quantity, quantity)
                + case
                    when order_is_cancelled then open_quantity
                    when is_short and backorder = 'cancel' then open_quantity
                    else 0
                end
            )::numeric
        ) as cancelled_quantity
    from quantities

)

select * from final
