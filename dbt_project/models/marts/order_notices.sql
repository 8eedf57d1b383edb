{{ config(materialized='view') }}  {#- live: read from ops.outbox at query time #}

-- The customer notices of each order (publish target customer_notices): what was sent, when,
-- to whom, and what is queued, retrying, dead or held, one row per order and notice. A view
-- on ops.outbox, so it is as current as the outbox; held notices are as of the last build of
-- publish.customer_notices.
with

outbox as (

    select * from {{ ref('stg_ops__outbox') }}
    where target = 'customer_notices'

),

published as (

    select * from {{ ref('stg_ops__published_state') }}
    where target = 'customer_notices'

),

desired as (

    select * from {{ ref('customer_notices') }}

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
        coalesce(latest.sent_at, published.published_at) as sent_at,
        null::text as hold_reason
    from latest
    left join first_enqueued on first_enqueued.record_key = latest.record_key
    left join published on published.record_key = latest.record_key

),

held as (

    select
        order_key || ':' || event || ':' || event_ref as record_key,
        order_key,
        event,
        event_ref,
        email,
        tracking_number,
        'held' as status,
        0 as attempts,
        null::text as error_code,
        null::timestamptz as enqueued_at,
        null::timestamptz as sent_at,
        hold_reason
    from desired
    where hold_reason is not null

),

final as (

    select
        *,
        -- the Message-ID of the notice is <notice.<message_key>@<from domain>> (publish/
        -- transports/smtp.py): what to look for in the relay's logs
        left(encode(sha256(convert_to('customer_notices:' || record_key, 'UTF8')), 'hex'), 32)
            as message_key
    from told
    union all
    select
        *,
        left(encode(sha256(convert_to('customer_notices:' || record_key, 'UTF8')), 'hex'), 32)
    from held
    where record_key not in (select told.record_key from told)

)

select * from final
