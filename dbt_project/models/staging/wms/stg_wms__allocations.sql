with

source as (

    {{ union_latest('wms_rest', 'allocations', ['allocation_id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        (payload->>'allocation_id')::bigint as allocation_id,
        payload->>'release_id' as release_id,
        payload->>'line_ref' as line_ref,
        payload->>'sku' as sku,
        payload->>'bin' as bin,
        payload->>'state' as state,
        (payload->>'quantity')::integer as quantity,
        (payload->>'picked')::integer as picked,
        (payload->>'pick_id')::bigint as pick_id,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
