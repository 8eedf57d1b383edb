with

source as (

    {{ union_latest('file_drop_csv', 'kit_components', ['kit_sku', 'component_sku']) }}

),

final as (

    select
        system,
        -- the key columns as landed (the same text as the payload's fields): a filter on them
        -- reaches raw's index through the latest-version window (the narrow path reads by SKU)
        kit_sku,
        component_sku,
        (payload->>'quantity')::integer as quantity,
        _loaded_at as loaded_at
    from source

)

select * from final
