-- Compensating actions for storefront orders cancelled after intake (an ERP sale exists),
-- one row per (order, step), by how far the order had gone (docs/architecture.md,
-- Cancellations):
--   * not released to a warehouse: step erp_cancel (the ERP sale is cancelled);
--   * released, nothing shipped: step warehouse_cancel per release (the WMS's cancel call, or
--     a 940 with the cancel purpose to the 3PL), then erp_cancel once every release of the
--     order is confirmed cancelled (the WMS reports the release cancelled; the 3PL answers
--     the cancel 940 with a 945 that ships nothing);
--   * shipped (before or despite the cancel): no row: the order is a return
--     (marts.order_cancellations_status lists it as return_required).
-- A release the hub sent is one in ops.outbox (target warehouse_releases) delivered or
-- existed; while one is still pending the order waits (no row) so a cancel never overtakes it.
{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on order events #}

with

orders as (

    select * from {{ ref('order') }}

),

outbox as (

    select * from {{ ref('stg_ops__outbox') }}

),

shipments as (

    select * from {{ ref('shipment') }}

),

wms_releases as (

    select * from {{ ref('stg_wms__releases') }}

),

tpl_advices as (

    select * from {{ ref('stg_3pl__shipping_advices') }}

),

-- storefront orders cancelled after intake, whose ERP sale is not cancelled already
cancelled as (

    select
        order_key,
        channel,
        erp_sale_id,
        cancelled_at,
        cancel_reason
    from orders
    where is_cancelled
      and erp_sale_id is not null
      and coalesce(erp_sale_state, '') <> 'cancelled'

),

-- the 3PL's 945s per order: all of them shipping nothing confirms a cancel 940
tpl_confirmations as (

    select
        system,
        order_ref,
        sum(units_shipped) as units_shipped
    from tpl_advices
    group by system, order_ref

),

-- the latest message per release the hub sent
release_messages as (

    select distinct on (record_key)
        record_key as release_key,
        system as target_system,
        status,
        payload->'lines'->0->>'order_key' as order_key,
        payload->'lines'->0->>'location' as location,
        payload->'lines'->0->>'transport' as release_transport,
        payload->'lines' as release_lines
    from outbox
    where target = 'warehouse_releases'
    order by record_key asc, enqueued_at desc, message_id desc

),

releases as (

    select
        release_messages.*,
        release_messages.status in ('delivered', 'existed') as landed,
        coalesce(
            wms_releases.status = 'cancelled'
            or (tpl_confirmations.order_ref is not null and tpl_confirmations.units_shipped = 0),
            false
        ) as cancel_confirmed
    from release_messages
    inner join cancelled on cancelled.order_key = release_messages.order_key
    left join wms_releases
        on wms_releases.system = release_messages.target_system
        and wms_releases.release_id = release_messages.release_key
    left join tpl_confirmations
        on tpl_confirmations.system = release_messages.target_system
        and tpl_confirmations.order_ref = release_messages.order_key
    where release_messages.status <> 'dead'

),

shipped as (

    select distinct order_key
    from shipments
    where order_key is not null
      and units_shipped > 0

),

staged as (

    select
        cancelled.*,
        count(releases.release_key) as releases,
        count(*) filter (where not releases.landed) as releases_pending,
        count(*) filter (where releases.cancel_confirmed) as releases_cancelled,
        shipped.order_key is not null as is_shipped
    from cancelled
    left join releases on releases.order_key = cancelled.order_key
    left join shipped on shipped.order_key = cancelled.order_key
    group by
        cancelled.order_key,
        cancelled.channel,
        cancelled.erp_sale_id,
        cancelled.cancelled_at,
        cancelled.cancel_reason,
        shipped.order_key

),

steps as (

    select
        staged.order_key,
        'warehouse_cancel'::text as step,
        'released'::text as stage,
        releases.target_system,
        releases.location,
        releases.release_key,
        releases.release_transport,
        releases.release_lines
    from staged
    inner join releases on releases.order_key = staged.order_key
    where not staged.is_shipped
      and staged.releases_pending = 0

    union all

    select
        staged.order_key,
        'erp_cancel',
        case when staged.releases = 0 then 'not_released' else 'released' end,
        'tryton',
        null,
        null,
        null,
        null
    from staged
    where not staged.is_shipped
      and staged.releases_pending = 0
      and staged.releases_cancelled = staged.releases

),

final as (

    select
        steps.order_key || '/' || steps.step || coalesce('@' || steps.location, '') as cancel_key,
        steps.order_key,
        steps.step,
        steps.stage,
        steps.target_system,
        steps.location,
        steps.release_key,
        -- the lines of the release (the 3PL's cancel 940 repeats them)
        case when steps.release_transport = 'x12_940' then steps.release_lines end as release_lines,
        staged.channel,
        staged.erp_sale_id,
        staged.cancelled_at,
        staged.cancel_reason
    from steps
    inner join staged on staged.order_key = steps.order_key

)

select * from final
