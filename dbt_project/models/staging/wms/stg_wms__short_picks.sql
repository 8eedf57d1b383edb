with

source as (

    {{ union_latest('wms_rest', 'short_picks', ['allocation_id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        (payload->>'allocation_id')::bigint as allocation_id,
        (payload->>'pick_id')::bigint as pick_id,
        payload->>'release_id' as release_id,
        payload->>'line_ref' as line_ref,
        payload->>'sku' as sku,
        payload->>'bin' as bin,
        (payload->>'expected')::integer as expected,
        (payload->>'picked')::integer as picked,
        (payload->>'short')::integer as short,
        (payload->>'reported_at')::timestamptz as reported_at,
        _loaded_at as loaded_at
    from source

)

select * from final
