-- Supply in transit to an own DC that the policy may sell: supplier ASN (856) lines for a
-- purchase order shipping to a DC whose WMS has not received that ASN, due (ship date plus
-- var asn_transit_days) inside var incoming_horizon_days. The 3PL sends no receipt advice,
-- so the hub cannot tell when an ASN to the 3PL has arrived: those are not counted.
with

notices as (

    select * from {{ ref('stg_supplier__ship_notices') }}

),

notice_lines as (

    select * from {{ ref('stg_supplier__ship_notice_lines') }}

),

commitments as (

    select * from {{ ref('supplier_commitment') }}

),

locations as (

    select * from {{ ref('location') }}

),

receipts as (

    select * from {{ ref('stg_wms__receipts') }}

),

po_locations as (

    select distinct po_number, location
    from commitments
    where location is not null

),

in_transit as (

    select
        notice_lines.sku,
        po_locations.location,
        notices.shipment_id,
        notices.ship_date,
        notices.ship_date + {{ var('asn_transit_days', 3) }} as due_date,
        notice_lines.quantity_shipped
    from notices
    inner join notice_lines
        on notice_lines.system = notices.system
        and notice_lines.record_key = notices.record_key
    inner join po_locations on po_locations.po_number = notices.po_number
    inner join locations
        on locations.location_code = po_locations.location
        and locations.kind = 'dc'
    where notice_lines.sku is not null
      and not exists (
          select 1
          from receipts
          where receipts.asn_id = notices.shipment_id
             or (receipts.asn_id is null and receipts.po_number = notices.po_number)
      )

),

final as (

    select
        sku,
        location,
        floor(sum(quantity_shipped))::integer as incoming_quantity,
        min(due_date) as first_due_date,
        count(distinct shipment_id)::integer as asn_count
    from in_transit
    where due_date <= ({{ as_of() }})::date + {{ var('incoming_horizon_days', 14) }}
    group by sku, location

)

select * from final
