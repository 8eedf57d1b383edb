with

source as (

    {{ union_latest('file_drop_3pl', 'stock', ['warehouse', 'sku', 'status']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'warehouse' as warehouse,
        payload->>'sku' as sku,
        payload->>'status' as status,
        payload->>'uom' as uom,
        payload->>'description' as description,
        (payload->>'on_hand')::integer as on_hand,
        (payload->>'committed')::integer as committed,
        (payload->>'available')::integer as available,
        (payload->>'snapshot_at')::timestamptz as snapshot_at,
        payload->>'file' as file,
        _loaded_at as loaded_at
    from source

)

select * from final
