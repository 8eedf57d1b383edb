with

source as (

    {{ union_latest('file_drop_3pl', 'stock', ['warehouse', 'sku', 'status']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        -- the key columns as landed (the same text as the payload's fields): a filter on them
        -- reaches raw's index through the latest-version window (the narrow path reads by SKU)
        warehouse,
        sku,
        status,
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
