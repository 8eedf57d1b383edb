with

source as (

    {{ union_latest('wms_rest', 'stock', ['sku', 'status', 'bin']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        -- the key columns as landed (the same text as the payload's fields): a filter on them
        -- reaches raw's index through the latest-version window (the narrow path reads by SKU)
        sku,
        status,
        bin,
        payload->>'unit' as unit,
        (payload->>'quantity')::integer as quantity,
        (payload->>'as_of')::timestamptz as as_of,
        _loaded_at as loaded_at
    from source

)

select * from final
