with

published as (

    select * from {{ source('ops', 'published_state') }}

),

final as (

    select
        target,
        record_key,
        payload,
        published_at
    from published

)

select * from final
