with

source as (

    {{ union_latest('tryton', 'stock', ['product', 'warehouse']) }}

),

final as (

    select
        (payload->>'product')::bigint as product_id,
        payload->>'product_code' as sku,
        (payload->>'warehouse')::bigint as warehouse_id,
        payload->>'warehouse_code' as warehouse_code,
        (payload->>'unit')::bigint as unit_id,
        (payload->>'quantity')::numeric as quantity,
        (payload->>'forecast_quantity')::numeric as forecast_quantity,
        _loaded_at as loaded_at
    from source

)

select * from final
