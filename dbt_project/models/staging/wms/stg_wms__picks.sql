with

source as (

    {{ union_latest('wms_rest', 'picks', ['pick_id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        (payload->>'pick_id')::bigint as pick_id,
        payload->>'release_id' as release_id,
        payload->>'state' as state,
        jsonb_array_length(payload->'lines') as line_count,
        (select sum((l->>'quantity')::integer) from jsonb_array_elements(payload->'lines') as l)::integer as quantity,
        (select sum((l->>'picked')::integer) from jsonb_array_elements(payload->'lines') as l)::integer as picked,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'completed_at')::timestamptz as completed_at,
        _loaded_at as loaded_at
    from source

)

select * from final
