{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}
{%- set tolerance = var('recon_amount_tolerance') -%}
{%- set transit = "interval '" ~ var('recon_asn_transit_hours') ~ " hours'" -%}

with

commitments as (

    select * from {{ ref('supplier_commitment') }}

),

locations as (

    select * from {{ ref('location') }}

),

po_acks as (

    select * from {{ ref('stg_supplier__po_acks') }}

),

ship_notices as (

    select * from {{ ref('stg_supplier__ship_notices') }}

),

ship_notice_lines as (

    select * from {{ ref('stg_supplier__ship_notice_lines') }}

),

receipt_lines as (

    select * from {{ ref('stg_wms__receipt_lines') }}

),

supplier_invoices as (

    select * from {{ ref('stg_supplier__invoices') }}

),

supplier_invoice_lines as (

    select * from {{ ref('stg_supplier__invoice_lines') }}

),

purchase_orders as (

    select
        po_number,
        min(supplier_code) as supplier_code,
        min(location) as location,
        min(purchase_date) as purchase_date,
        min(delivery_date) as delivery_date
    from commitments
    group by po_number

),

acks as (

    select po_number, min(system) as system, min(ack_date) as ack_date
    from po_acks
    group by po_number

),

asns as (

    select
        ship_notice_lines.po_number,
        min(ship_notices.system) as system,
        min(ship_notices.shipped_at) as shipped_at
    from ship_notice_lines
    inner join ship_notices
        on ship_notices.system = ship_notice_lines.system
        and ship_notices.record_key = ship_notice_lines.record_key
    group by ship_notice_lines.po_number

),

receipts as (

    select po_number, min(system) as system, min(received_at) as received_at
    from receipt_lines
    group by po_number

),

stages as (

    select
        purchase_orders.*,
        'supplier_' || lower(purchase_orders.supplier_code) as supplier_system,
        locations.kind as location_kind,
        locations.system as location_system,
        acks.ack_date,
        asns.shipped_at as asn_shipped_at,
        receipts.received_at
    from purchase_orders
    left join locations on locations.location_code = purchase_orders.location
    left join acks on acks.po_number = purchase_orders.po_number
    left join asns on asns.po_number = purchase_orders.po_number
    left join receipts on receipts.po_number = purchase_orders.po_number

),

ack_missing as (

    select
        po_number,
        'ack_missing'::text as discrepancy,
        'tryton'::text as expected_system,
        supplier_system as actual_system,
        'sent ' || purchase_date::text as expected_value,
        'no 855'::text as actual_value,
        null::text as sku,
        purchase_date::timestamptz as since
    from stages
    where ack_date is null

),

-- the 856 is due by the ship date: the ERP's expected delivery less the transit
-- time (a PO with no delivery date in the ERP has no due date for its 856)
asn_missing as (

    select
        po_number,
        'asn_missing'::text as discrepancy,
        'tryton'::text as expected_system,
        supplier_system as actual_system,
        'acknowledged ' || ack_date::text || ', due ' || delivery_date::text as expected_value,
        'no 856'::text as actual_value,
        null::text as sku,
        delivery_date::timestamptz - {{ transit }} as since
    from stages
    where ack_date is not null
      and asn_shipped_at is null
      and delivery_date is not null
      and delivery_date::timestamptz - {{ transit }} <= {{ as_of() }}

),

-- the receipt is due when the 856's goods arrive; only locations with a receipt feed (WMS)
receipt_missing as (

    select
        po_number,
        'receipt_missing'::text as discrepancy,
        supplier_system as expected_system,
        location_system as actual_system,
        'shipped ' || to_char(asn_shipped_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
            as expected_value,
        'no receipt at ' || location as actual_value,
        null::text as sku,
        asn_shipped_at + {{ transit }} as since
    from stages
    where asn_shipped_at is not null
      and received_at is null
      and location_kind = 'dc'
      and asn_shipped_at + {{ transit }} <= {{ as_of() }}

),

po_lines as (

    select
        po_number,
        sku,
        sum(ordered_quantity) as ordered_quantity,
        sum(shipped_quantity) as shipped_quantity,
        min(unit_price) as min_unit_price,
        max(unit_price) as max_unit_price
    from commitments
    group by po_number, sku

),

invoice_lines as (

    select
        supplier_invoices.po_number,
        supplier_invoices.system,
        supplier_invoice_lines.sku,
        sum(supplier_invoice_lines.quantity) as invoiced_quantity,
        min(supplier_invoice_lines.unit_price) as min_unit_price,
        max(supplier_invoice_lines.unit_price) as max_unit_price,
        min(supplier_invoices.invoice_date) as invoice_date
    from supplier_invoice_lines
    inner join supplier_invoices
        on supplier_invoices.system = supplier_invoice_lines.system
        and supplier_invoices.record_key = supplier_invoice_lines.record_key
    group by supplier_invoices.po_number, supplier_invoices.system, supplier_invoice_lines.sku

),

line_checks as (

    select
        invoice_lines.po_number,
        invoice_lines.system,
        invoice_lines.sku,
        invoice_lines.invoice_date,
        invoice_lines.max_unit_price as invoice_unit_price,
        invoice_lines.invoiced_quantity,
        po_lines.max_unit_price as po_unit_price,
        coalesce(nullif(po_lines.shipped_quantity, 0), po_lines.ordered_quantity)
            as expected_quantity
    from invoice_lines
    inner join purchase_orders on purchase_orders.po_number = invoice_lines.po_number
    left join po_lines
        on po_lines.po_number = invoice_lines.po_number
        and po_lines.sku = invoice_lines.sku
    where po_lines.sku is null
       or abs(invoice_lines.max_unit_price - po_lines.max_unit_price) > {{ tolerance }}
       or abs(invoice_lines.min_unit_price - po_lines.min_unit_price) > {{ tolerance }}
       or invoice_lines.invoiced_quantity
          > coalesce(nullif(po_lines.shipped_quantity, 0), po_lines.ordered_quantity)

),

invoice_mismatch as (

    select
        po_number,
        'invoice_mismatch'::text as discrepancy,
        'tryton'::text as expected_system,
        min(system) as actual_system,
        string_agg(
            sku || coalesce(
                ' ' || trim_scale(expected_quantity)::text || ' @ ' || trim_scale(po_unit_price)::text,
                ' not on the PO'
            ),
            '; ' order by sku
        ) as expected_value,
        string_agg(
            sku || ' ' || trim_scale(invoiced_quantity)::text || ' @ '
            || trim_scale(invoice_unit_price)::text,
            '; ' order by sku
        ) as actual_value,
        string_agg(sku, ',' order by sku) as sku,
        min(invoice_date)::timestamptz as since
    from line_checks
    group by po_number

),

discrepancies as (

    select * from ack_missing
    union all
    select * from asn_missing
    union all
    select * from receipt_missing
    union all
    select * from invoice_mismatch

),

final as (

    select
        discrepancies.po_number,
        discrepancies.discrepancy,
        stages.supplier_code,
        stages.supplier_system,
        stages.location,
        discrepancies.expected_system,
        discrepancies.actual_system,
        discrepancies.expected_value,
        discrepancies.actual_value,
        discrepancies.sku,
        discrepancies.since,
        {{ recon_sla_columns('discrepancies.since', var('recon_sla_hours')['supplier']) }}
    from discrepancies
    inner join stages on stages.po_number = discrepancies.po_number

)

select * from final
