-- Shipments confirmed by a WMS, the 3PL (945) or a drop-ship supplier (856 to a customer),
-- each linked to its order, first match wins
-- (docs/architecture.md, Shipment confirmations): the sender's order reference is an order
-- key; else the reference, or the WMS's release id, is a release the hub sent (ops.outbox) or
-- the WMS reports; else the sender's own rules (settings.shipment_matching.order_reference of
-- its block in defs.yaml: PostgreSQL patterns tried in order, the capturing group an order
-- key). A confirmation nothing links keeps order_key null (recon_shipments lists it unmatched).
with

wms_shipments as (

    select * from {{ ref('stg_wms__shipments') }}

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

supplier_notices as (

    select * from {{ ref('stg_supplier__ship_notices') }}

),

supplier_notice_lines as (

    select * from {{ ref('stg_supplier__ship_notice_lines') }}

),

tracker_events as (

    select * from {{ ref('stg_carrier__tracker_events') }}

),

orders as (

    select * from {{ ref('order') }}

),

wms_releases as (

    select * from {{ ref('stg_wms__releases') }}

),

-- the releases the hub sent a warehouse (a WMS release or a 3PL 940): release id -> order
hub_releases as (

    select distinct on (record_key)
        record_key as release_id,
        payload->'lines'->0->>'order_key' as order_key
    from {{ ref('stg_ops__outbox') }}
    where target = 'warehouse_releases'
    order by record_key asc, enqueued_at desc, message_id desc

),

matching_rules as (

    {{ shipment_matching_rules() }}

),

wms_line_summary as (

    select
        system,
        shipment_id,
        count(*) as line_count,
        count(distinct sku) as sku_count,
        sum(quantity) as units_shipped
    from wms_shipment_lines
    group by system, shipment_id

),

tpl_line_summary as (

    select
        system,
        record_key,
        count(*) as line_count,
        count(distinct sku) as sku_count,
        sum(quantity_shipped) as units_shipped
    from tpl_advice_lines
    group by system, record_key

),

wms as (

    select
        wms_shipments.shipment_id,
        'wms'::text as source,
        wms_shipments.system,
        wms_shipments.location,
        wms_shipments.order_ref,
        wms_shipments.release_id,
        wms_shipments.carrier,
        wms_shipments.service,
        wms_shipments.tracking_number,
        coalesce(wms_line_summary.line_count, 0)::integer as line_count,
        coalesce(wms_line_summary.sku_count, 0)::integer as sku_count,
        coalesce(wms_line_summary.units_shipped, 0)::numeric as units_shipped,
        wms_shipments.shipped_at
    from wms_shipments
    left join wms_line_summary
        on wms_line_summary.system = wms_shipments.system
        and wms_line_summary.shipment_id = wms_shipments.shipment_id

),

tpl as (

    select
        tpl_advices.shipment_id,
        '3pl'::text as source,
        tpl_advices.system,
        tpl_advices.location,
        tpl_advices.order_ref,
        null::text as release_id,
        tpl_advices.carrier_scac as carrier,
        tpl_advices.carrier_routing as service,
        tpl_advices.tracking_number,
        coalesce(tpl_line_summary.line_count, 0)::integer as line_count,
        coalesce(tpl_line_summary.sku_count, 0)::integer as sku_count,
        coalesce(tpl_line_summary.units_shipped, 0)::numeric as units_shipped,
        tpl_advices.ship_date::timestamptz as shipped_at
    from tpl_advices
    left join tpl_line_summary
        on tpl_line_summary.system = tpl_advices.system
        and tpl_line_summary.record_key = tpl_advices.record_key

),

supplier_line_summary as (

    select
        system,
        record_key,
        count(*) as line_count,
        count(distinct sku) as sku_count,
        sum(quantity_shipped) as units_shipped
    from supplier_notice_lines
    group by system, record_key

),

-- a drop-ship supplier's 856: one shipped to a customer (its ship-to is none of the hub's
-- locations, the declared systems' settings.location); an 856 to a DC or the 3PL is an
-- inbound ASN (int_inventory__incoming)
supplier as (

    select
        supplier_notices.shipment_id,
        'supplier'::text as source,
        supplier_notices.system,
        'DROPSHIP-' || upper(regexp_replace(supplier_notices.system, '^supplier_', '')) as location,
        supplier_notices.po_number as order_ref,
        null::text as release_id,
        supplier_notices.carrier_scac as carrier,
        supplier_notices.carrier_routing as service,
        supplier_notices.tracking_number,
        coalesce(supplier_line_summary.line_count, 0)::integer as line_count,
        coalesce(supplier_line_summary.sku_count, 0)::integer as sku_count,
        coalesce(supplier_line_summary.units_shipped, 0)::numeric as units_shipped,
        supplier_notices.shipped_at
    from supplier_notices
    left join supplier_line_summary
        on supplier_line_summary.system = supplier_notices.system
        and supplier_line_summary.record_key = supplier_notices.record_key
    where supplier_notices.ship_to_id is null
       or supplier_notices.ship_to_id not in (
           {%- for code in distrohub_system_locations().values() -%}
               '{{ code }}'{{ ", " if not loop.last }}
           {%- else -%}
               select null::text where false
           {%- endfor -%}
       )

),

shipments as (

    select * from wms
    union all
    select * from tpl
    union all
    select * from supplier

),

-- every order key a confirmation could name, by precedence (1 first)
candidates as (

    select system, shipment_id, 1 as precedence, 'order_reference'::text as matched_by,
        order_ref as order_key
    from shipments

    union all

    select shipments.system, shipments.shipment_id, 2, 'release_id', hub_releases.order_key
    from shipments
    inner join hub_releases
        on hub_releases.release_id in (shipments.release_id, shipments.order_ref)

    union all

    select shipments.system, shipments.shipment_id, 3, 'release_id', wms_releases.order_ref
    from shipments
    inner join wms_releases
        on wms_releases.system = shipments.system
        and wms_releases.release_id in (shipments.release_id, shipments.order_ref)

    union all

    select
        shipments.system,
        shipments.shipment_id,
        3 + matching_rules.rule_number,
        'shipment_matching.order_reference[' || (matching_rules.rule_number - 1) || ']',
        substring(shipments.order_ref from matching_rules.pattern)
    from shipments
    inner join matching_rules on matching_rules.system = shipments.system

),

matched as (

    select distinct on (candidates.system, candidates.shipment_id)
        candidates.system,
        candidates.shipment_id,
        orders.order_key,
        candidates.matched_by
    from candidates
    inner join orders on orders.order_key = candidates.order_key
    order by candidates.system asc, candidates.shipment_id asc, candidates.precedence asc

),

latest_tracking as (

    select distinct on (tracking_code)
        tracking_code,
        status as tracking_status,
        est_delivery_at,
        updated_at as tracking_updated_at
    from tracker_events
    where tracking_code is not null
    order by tracking_code asc, updated_at desc nulls last, created_at desc nulls last

),

final as (

    select
        shipments.shipment_id,
        shipments.source,
        shipments.system,
        shipments.location,
        shipments.order_ref,
        matched.order_key,
        matched.matched_by,
        shipments.carrier,
        shipments.service,
        shipments.tracking_number,
        shipments.line_count,
        shipments.sku_count,
        shipments.units_shipped,
        shipments.shipped_at,
        latest_tracking.tracking_status,
        latest_tracking.est_delivery_at,
        latest_tracking.tracking_updated_at
    from shipments
    left join matched
        on matched.system = shipments.system
        and matched.shipment_id = shipments.shipment_id
    left join latest_tracking on latest_tracking.tracking_code = shipments.tracking_number

)

select * from final
