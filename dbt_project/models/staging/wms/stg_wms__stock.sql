with

source as (

    {{ union_latest('wms_rest', 'stock', ['sku', 'status', 'bin']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'sku' as sku,
        payload->>'status' as status,
        payload->>'bin' as bin,
        payload->>'unit' as unit,
        (payload->>'quantity')::integer as quantity,
        (payload->>'as_of')::timestamptz as as_of,
        _loaded_at as loaded_at
    from source

)

select * from final
