with

source as (

    {{ union_latest('wms_rest', 'events', ['id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'id' as event_id,
        payload->>'type' as event_type,
        (payload->>'cursor')::bigint as feed_cursor,
        payload#>>'{data,sku}' as sku,
        (payload#>>'{data,quantity}')::integer as quantity,
        payload->'data' as data,
        (payload->>'occurred_at')::timestamptz as occurred_at,
        (payload->>'recorded_at')::timestamptz as recorded_at,
        _loaded_at as loaded_at
    from source

)

select * from final
