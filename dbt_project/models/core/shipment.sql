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

tracker_events as (

    select * from {{ ref('stg_carrier__tracker_events') }}

),

orders as (

    select * from {{ ref('order') }}

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

shipments as (

    select * from wms
    union all
    select * from tpl

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
        orders.order_key,
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
    left join orders on orders.order_key = shipments.order_ref
    left join latest_tracking on latest_tracking.tracking_code = shipments.tracking_number

)

select * from final
