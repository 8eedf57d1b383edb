{{ config(materialized='view') }}  {#- live: read from ops.outbox at query time #}

-- The customer notices of each order (publish target customer_notices): what was sent, when,
-- to whom, and what is queued, retrying or dead, one row per order and notice. A view on
-- the hub's tables ops.outbox and ops.published_state only, so it is as current as the outbox
-- (a view on a dbt relation would be dropped with it at every rebuild); held notices are the
-- rows of publish.customer_notices with a hold_reason.
with

outbox as (

    select
        id as message_id, record_key, status, attempts, error_code, payload, enqueued_at, sent_at
    from {{ source('ops', 'outbox') }}
    where target = 'customer_notices'

),

published as (

    select record_key, published_at from {{ source('ops', 'published_state') }}
    where target = 'customer_notices'

),

-- per notice, its newest message that was not superseded
latest as (

    select distinct on (record_key)
        record_key,
        status,
        attempts,
        error_code,
        payload,
        enqueued_at,
        sent_at
    from outbox
    where status <> 'superseded'
    order by record_key asc, enqueued_at desc, message_id desc

),

first_enqueued as (

    select record_key, min(enqueued_at) as first_enqueued_at
    from outbox
    group by record_key

),

told as (

    select
        latest.record_key,
        latest.payload->>'order_key' as order_key,
        latest.payload->>'event' as event,
        latest.payload->>'event_ref' as event_ref,
        latest.payload->>'email' as email,
        latest.payload->>'tracking_number' as tracking_number,
        case
            when latest.status in ('delivered', 'existed') then 'sent'
            when latest.status = 'dead' then 'dead'
            when latest.status = 'pending' and latest.attempts > 0 then 'retrying'
            when latest.status = 'pending' then 'queued'
            else latest.status
        end as status,
        latest.attempts,
        latest.error_code,
        first_enqueued.first_enqueued_at as enqueued_at,
        coalesce(latest.sent_at, published.published_at) as sent_at
    from latest
    left join first_enqueued on first_enqueued.record_key = latest.record_key
    left join published on published.record_key = latest.record_key

),

final as (

    select
        *,
        -- the Message-ID of the notice is <notice.<message_key>@<from domain>> (publish/
        -- transports/smtp.py): what to look for in the relay's logs
        left(encode(sha256(convert_to('customer_notices:' || record_key, 'UTF8')), 'hex'), 32)
            as message_key
    from told

)

select * from final
