-- Per storefront order cancelled after intake: how far it had gone and where each
-- compensating step (publish.order_cancellations, delivered through ops.outbox) stands.
-- state: cancelled (the ERP sale is cancelled), waiting_for_warehouse (the cancel went to the
-- warehouse, its confirmation is awaited), failed (a step is a dead letter: its error_code
-- and the DLQ say the fix), return_required (goods shipped: a return, not a cancel),
-- pending (a step not delivered yet). A view: it reads the outbox as it is now.
{{ config(materialized='view') }}

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

cancelled as (

    select
        order_key,
        channel,
        system as storefront_system,
        cancelled_at,
        cancel_reason,
        erp_sale_id,
        erp_sale_number,
        erp_sale_state
    from orders
    where is_cancelled
      and erp_sale_id is not null

),

latest as (

    select distinct on (target, record_key)
        target,
        record_key,
        status,
        error_code,
        coalesce(sent_at, enqueued_at) as at,
        payload
    from outbox
    where target in ('warehouse_releases', 'order_cancellations')
    order by target asc, record_key asc, enqueued_at desc, message_id desc

),

released as (

    select
        payload->'lines'->0->>'order_key' as order_key,
        string_agg(record_key, ', ' order by record_key) as releases
    from latest
    where target = 'warehouse_releases'
      and status <> 'dead'
    group by payload->'lines'->0->>'order_key'

),

steps as (

    select
        payload->>'order_key' as order_key,
        payload->>'step' as step,
        -- several releases: the least advanced one speaks for the step
        min(status) filter (where status = 'dead') as dead,
        bool_and(status in ('delivered', 'existed')) as done,
        string_agg(error_code, ', ' order by record_key) as error_codes,
        max(at) as at
    from latest
    where target = 'order_cancellations'
    group by payload->>'order_key', payload->>'step'

),

shipped as (

    select
        order_key,
        string_agg(shipment_id, ', ' order by shipment_id) as shipments
    from shipments
    where order_key is not null
      and units_shipped > 0
    group by order_key

),

final as (

    select
        cancelled.order_key,
        cancelled.channel,
        cancelled.storefront_system,
        cancelled.cancelled_at,
        cancelled.cancel_reason,
        case
            when shipped.order_key is not null then 'shipped'
            when released.order_key is not null then 'released'
            else 'not_released'
        end as stage,
        released.releases,
        shipped.shipments,
        case
            when warehouse.done then 'done'
            when warehouse.dead is not null then 'dead'
            when warehouse.order_key is not null then 'pending'
        end as warehouse_cancel,
        case
            when erp.done then 'done'
            when erp.dead is not null then 'dead'
            when erp.order_key is not null then 'pending'
        end as erp_cancel,
        nullif(concat_ws(', ', warehouse.error_codes, erp.error_codes), '') as error_codes,
        cancelled.erp_sale_id,
        cancelled.erp_sale_number,
        cancelled.erp_sale_state,
        case
            when cancelled.erp_sale_state = 'cancelled' or coalesce(erp.done, false)
                then 'cancelled'
            when shipped.order_key is not null then 'return_required'
            when warehouse.dead is not null or erp.dead is not null then 'failed'
            when coalesce(warehouse.done, false) then 'waiting_for_warehouse'
            else 'pending'
        end as state,
        greatest(warehouse.at, erp.at) as last_step_at
    from cancelled
    left join released on released.order_key = cancelled.order_key
    left join shipped on shipped.order_key = cancelled.order_key
    left join steps as warehouse
        on warehouse.order_key = cancelled.order_key
        and warehouse.step = 'warehouse_cancel'
    left join steps as erp
        on erp.order_key = cancelled.order_key
        and erp.step = 'erp_cancel'

)

select * from final
