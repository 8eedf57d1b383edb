-- Order lines given to a warehouse that the warehouse's own figures do not commit yet, in base
-- units per location (docs/architecture.md, Sellable inventory: a unit of an order line is
-- committed at exactly one place until it ships or is cancelled). Three sources:
--
--   wms_release  a WMS release line's units the WMS has not allocated (accepted, backordered):
--                quantity − the most the WMS says it allocated or shipped of the line (its
--                release line, or its allocation rows, whichever feed is newer); allocated
--                units are committed by the allocations (int_inventory__physical_stock).
--                A line the WMS closed short (release.backorder_cancelled), rejected or shipped
--                short (a short pick's units are written off, not retried) commits nothing;
--   hub_release  a release the hub sent or has waiting for a WMS (ops.outbox) that the WMS's
--                release feed does not show yet: its lines as sent;
--   3pl_940      a 940 for the 3PL that its latest stock snapshot does not reflect (the hub
--                loaded the SKU's snapshot row before it sent the 940, or the 940 is not sent
--                yet; both times on the hub's clock, never against the 3PL's own snapshot_at):
--                its lines; when the 3PL's 945 has come, the units it shipped (they are
--                still in that snapshot's on-hand). A snapshot after the sending reflects the
--                940: its `committed` column holds what is accepted and not shipped, and its
--                on-hand no longer holds what shipped.
{{ config(indexes=[{'columns': ['sku']}]) }}

with

wms_release_lines as (

    select * from {{ ref('stg_wms__release_lines') }}

),

wms_releases as (

    select * from {{ ref('stg_wms__releases') }}

),

allocations as (

    select * from {{ ref('stg_wms__allocations') }}

),

outbox as (

    select * from {{ ref('stg_ops__outbox') }}
    where target = 'warehouse_releases'

),

locations as (

    select * from {{ ref('location') }}

),

tpl_stock as (

    select * from {{ ref('stg_3pl__stock') }}

),

tpl_advices as (

    select * from {{ ref('stg_3pl__shipping_advices') }}

),

tpl_advice_lines as (

    select * from {{ ref('stg_3pl__shipping_advice_lines') }}

),

allocated_by_line as (

    select system, release_id, line_ref, sum(quantity) as allocated
    from allocations
    where state <> 'cancelled'
    group by system, release_id, line_ref

),

wms_unallocated as (

    select
        'wms_release'::text as source,
        wms_release_lines.location,
        wms_release_lines.release_id,
        wms_release_lines.order_ref as order_key,
        wms_release_lines.sku,
        greatest(
            wms_release_lines.quantity
            - greatest(
                wms_release_lines.allocated,
                wms_release_lines.shipped,
                coalesce(allocated_by_line.allocated, 0)
            ),
            0
        ) as quantity
    from wms_release_lines
    left join allocated_by_line
        on allocated_by_line.system = wms_release_lines.system
        and allocated_by_line.release_id = wms_release_lines.release_id
        and allocated_by_line.line_ref = wms_release_lines.line_ref
    where coalesce(wms_release_lines.release_status, 'accepted')
        not in ('cancelled', 'shipped', 'short_shipped', 'closed_short')
      and coalesce(wms_release_lines.status, 'open')
        not in ('rejected', 'cancelled', 'shipped', 'short_shipped', 'closed_short')

),

-- the hub's latest message per release; a suppressed one (the target already had it) and an
-- older version do not count
latest_messages as (

    select distinct on (record_key) *
    from outbox
    order by record_key asc, enqueued_at desc, message_id desc

),

hub_lines as (

    select
        latest_messages.record_key as release_id,
        latest_messages.sent_at,
        locations.kind as location_kind,
        line.value->>'location' as location,
        line.value->>'order_key' as order_key,
        line.value->>'sku' as sku,
        (line.value->>'quantity')::integer as quantity
    from latest_messages
    cross join lateral jsonb_array_elements(latest_messages.payload->'lines') as line
    inner join locations on locations.location_code = line.value->>'location'
    where latest_messages.status in ('pending', 'delivered', 'existed', 'dead')

),

hub_not_seen as (

    select
        'hub_release'::text as source,
        hub_lines.location,
        hub_lines.release_id,
        hub_lines.order_key,
        hub_lines.sku,
        hub_lines.quantity
    from hub_lines
    where hub_lines.location_kind = 'dc'
      and not exists (
          select 1
          from wms_releases
          where wms_releases.location = hub_lines.location
            and wms_releases.release_id = hub_lines.release_id
      )

),

snapshot_by_sku as (

    select location, sku, max(loaded_at) as loaded_at
    from tpl_stock
    where {{ tpl_stock_status('status') }} = 'sellable'
    group by location, sku

),

snapshot_by_location as (

    select location, max(loaded_at) as loaded_at
    from tpl_stock
    group by location

),

advised_orders as (

    select distinct order_ref
    from tpl_advices
    where order_ref is not null

),

advised_by_sku as (

    select order_ref, sku, sum(quantity_shipped)::integer as quantity_shipped
    from tpl_advice_lines
    group by order_ref, sku

),

tpl_not_reflected as (

    select
        '3pl_940'::text as source,
        hub_lines.location,
        hub_lines.release_id,
        hub_lines.order_key,
        hub_lines.sku,
        case
            when advised_orders.order_ref is not null
                then coalesce(advised_by_sku.quantity_shipped, 0)
            else hub_lines.quantity
        end as quantity
    from hub_lines
    left join snapshot_by_sku
        on snapshot_by_sku.location = hub_lines.location
        and snapshot_by_sku.sku = hub_lines.sku
    left join snapshot_by_location on snapshot_by_location.location = hub_lines.location
    left join advised_orders on advised_orders.order_ref = hub_lines.order_key
    left join advised_by_sku
        on advised_by_sku.order_ref = hub_lines.order_key
        and advised_by_sku.sku = hub_lines.sku
    where hub_lines.location_kind = '3pl'
      and (
          hub_lines.sent_at is null
          or hub_lines.sent_at
          > coalesce(snapshot_by_sku.loaded_at, snapshot_by_location.loaded_at, '-infinity')
      )

),

committed as (

    select * from wms_unallocated
    union all
    select * from hub_not_seen
    union all
    select * from tpl_not_reflected

),

final as (

    select
        source,
        location,
        release_id,
        order_key,
        sku,
        sum(quantity)::integer as quantity
    from committed
    group by source, location, release_id, order_key, sku
    having sum(quantity) > 0

)

select * from final
