{#-
  ERP book vs physical on-hand per SKU x location. The ERP books a movement only
  once it is posted, so the physical count is first brought back to what the ERP
  should hold: movements the WMS/3PL made before its count and the ERP has not
  posted are reversed (timing differences); what is left is a discrepancy.
-#}

{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}

with

positions as (

    select * from {{ ref('inventory_position') }}

),

locations as (

    select * from {{ ref('location') }}

),

orders as (

    select * from {{ ref('order') }}

),

invoices as (

    select * from {{ ref('invoice') }}

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

receipt_lines as (

    select * from {{ ref('stg_wms__receipt_lines') }}

),

return_lines as (

    select * from {{ ref('stg_wms__return_lines') }}

),

pick_lines as (

    select * from {{ ref('stg_wms__pick_lines') }}

),

wms_shipments as (

    select * from {{ ref('stg_wms__shipments') }}

),

wms_events as (

    select * from {{ ref('stg_wms__events') }}

),

purchases as (

    select * from {{ ref('stg_tryton__purchases') }}

),

purchase_warehouses as (

    select * from {{ ref('stg_tryton__warehouses') }}

),

ship_notices as (

    select * from {{ ref('stg_supplier__ship_notices') }}

),

ship_notice_lines as (

    select * from {{ ref('stg_supplier__ship_notice_lines') }}

),

-- when each location last counted (a SKU it holds none of has no row of its own)
location_counts as (

    select location, max(as_of) as counted_at
    from positions
    group by location

),

counts as (

    select
        positions.sku,
        positions.location,
        min(positions.system) as system,
        sum(positions.on_hand) as physical_quantity,
        sum(positions.erp_book_quantity) as erp_book_quantity,
        coalesce(max(positions.as_of), min(location_counts.counted_at)) as counted_at
    from positions
    left join location_counts on location_counts.location = positions.location
    group by positions.sku, positions.location

),

posted_sales as (

    select order_key
    from orders
    where erp_shipment_state = 'sent'

),

received_purchases as (

    select purchases.reference as po_number
    from purchases
    where purchases.shipment_state = 'received'

),

credited_orders as (

    select reference
    from invoices
    where source = 'erp'
      and invoice_type = 'out'
      and total_amount < 0

),

-- shipped by the WMS or the 3PL, not posted on the ERP sale: the ERP still books it
unposted_outbound as (

    select wms_shipment_lines.sku, wms_shipment_lines.location, wms_shipment_lines.quantity,
           wms_shipment_lines.shipped_at as moved_at
    from wms_shipment_lines
    where not exists (
        select 1 from posted_sales where posted_sales.order_key = wms_shipment_lines.order_ref
    )
    union all
    select tpl_advice_lines.sku, tpl_advices.location, tpl_advice_lines.quantity_shipped,
           tpl_advices.ship_date::timestamptz
    from tpl_advice_lines
    inner join tpl_advices
        on tpl_advices.system = tpl_advice_lines.system
        and tpl_advices.record_key = tpl_advice_lines.record_key
    where not exists (
        select 1 from posted_sales where posted_sales.order_key = tpl_advices.order_ref
    )

),

-- picked (out of the bins) and not yet confirmed shipped: the ERP still books it
picked_unshipped as (

    select
        pick_lines.sku,
        pick_lines.location,
        pick_lines.picked as quantity,
        pick_lines.completed_at as moved_at
    from pick_lines
    where pick_lines.state in ('done', 'short')
      and pick_lines.picked > 0
      and not exists (
          select 1
          from wms_shipments
          where wms_shipments.system = pick_lines.system
            and wms_shipments.release_id = pick_lines.release_id
      )

),

-- written off in the WMS (short picks, count adjustments): the ERP is not told
unposted_adjustments as (

    select
        sku,
        location,
        -(data->>'quantity_change')::numeric as quantity,
        occurred_at as moved_at
    from wms_events
    where event_type = 'stock.adjusted'
      and sku is not null

),

-- received into the WMS against a PO the ERP has not received: the ERP does not book it yet
unposted_inbound as (

    select sku, location, -received_quantity as quantity, received_at as moved_at
    from receipt_lines
    where not exists (
        select 1 from received_purchases where received_purchases.po_number = receipt_lines.po_number
    )

),

-- customer returns received into the WMS with no ERP credit note for the order
unposted_returns as (

    select sku, location, -quantity as quantity, received_at as moved_at
    from return_lines
    where received_at is not null
      and not exists (
          select 1
          from credited_orders
          where credited_orders.reference in (return_lines.order_ref, return_lines.rma)
      )

),

movements as (

    select * from unposted_outbound
    union all
    select * from picked_unshipped
    union all
    select * from unposted_adjustments
    union all
    select * from unposted_inbound
    union all
    select * from unposted_returns

),

timing_differences as (

    select
        movements.sku,
        movements.location,
        sum(movements.quantity) as quantity
    from movements
    inner join counts
        on counts.sku = movements.sku
        and counts.location = movements.location
    -- only what the count already reflects
    where movements.moved_at <= counts.counted_at
    group by movements.sku, movements.location

),

-- a location with no receipt feed (the 3PL) cannot be reconciled for a SKU whose
-- supplier shipment may have arrived before the count while the ERP has not received
-- it: how much the location received is unknown
unconfirmed_inbound as (

    select distinct
        ship_notice_lines.sku,
        locations.location_code as location
    from ship_notice_lines
    inner join ship_notices
        on ship_notices.system = ship_notice_lines.system
        and ship_notices.record_key = ship_notice_lines.record_key
    inner join purchases on purchases.reference = ship_notice_lines.po_number
    inner join purchase_warehouses on purchase_warehouses.warehouse_id = purchases.warehouse_id
    inner join locations on locations.location_code = purchase_warehouses.warehouse_code
    inner join counts
        on counts.sku = ship_notice_lines.sku
        and counts.location = locations.location_code
    where locations.kind = '3pl'
      and ship_notices.shipped_at <= counts.counted_at
      and not exists (
          select 1
          from received_purchases
          where received_purchases.po_number = ship_notice_lines.po_number
      )

),

compared as (

    select
        counts.sku,
        counts.location,
        counts.system,
        counts.physical_quantity,
        coalesce(timing_differences.quantity, 0) as unposted_quantity,
        counts.physical_quantity + coalesce(timing_differences.quantity, 0) as expected_book_quantity,
        coalesce(counts.erp_book_quantity, 0) as erp_book_quantity,
        counts.counted_at
    from counts
    left join timing_differences
        on timing_differences.sku = counts.sku
        and timing_differences.location = counts.location

),

final as (

    select
        compared.sku,
        compared.location,
        'onhand_mismatch'::text as discrepancy,
        coalesce(compared.system, locations.system) as physical_system,
        'tryton'::text as erp_system,
        compared.physical_quantity,
        compared.unposted_quantity,
        compared.expected_book_quantity,
        compared.erp_book_quantity,
        compared.erp_book_quantity - compared.expected_book_quantity as difference,
        trim_scale(compared.physical_quantity)::text as physical_value,
        trim_scale(compared.erp_book_quantity)::text as erp_value,
        coalesce(compared.counted_at, {{ as_of() }}) as since,
        {{ recon_sla_columns('coalesce(compared.counted_at, ' ~ as_of() ~ ')', var('recon_sla_hours')['inventory']) }}
    from compared
    left join locations on locations.location_code = compared.location
    where compared.erp_book_quantity <> compared.expected_book_quantity
      and not exists (
          select 1
          from unconfirmed_inbound
          where unconfirmed_inbound.sku = compared.sku
            and unconfirmed_inbound.location = compared.location
      )

)

select * from final
