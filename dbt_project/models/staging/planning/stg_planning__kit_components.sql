with

source as (

    {{ union_latest('file_drop_csv', 'kit_components', ['kit_sku', 'component_sku']) }}

),

final as (

    select
        system,
        payload->>'kit_sku' as kit_sku,
        payload->>'component_sku' as component_sku,
        (payload->>'quantity')::integer as quantity,
        _loaded_at as loaded_at
    from source

)

select * from final
