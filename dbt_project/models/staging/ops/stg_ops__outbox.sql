with

outbox as (

    select * from {{ source('ops', 'outbox') }}

),

final as (

    select
        id as message_id,
        target,
        system,
        record_key,
        change,
        status,
        payload,
        attempts,
        error_code,
        enqueued_at,
        sent_at
    from outbox

)

select * from final
