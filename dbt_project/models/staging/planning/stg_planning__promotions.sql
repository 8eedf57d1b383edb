with

source as (

    {{ union_latest('file_drop_csv', 'promotions', ['promotion_code', 'channel', 'sku', 'min_quantity']) }}

),

final as (

    select
        system,
        payload->>'promotion_code' as promotion_code,
        payload->>'name' as promotion_name,
        payload->>'channel' as channel,
        payload->>'sku' as sku,
        (payload->>'min_quantity')::integer as min_quantity,
        (payload->>'discount_percent')::numeric as discount_percent,
        (payload->>'valid_from')::timestamptz as valid_from,
        (payload->>'valid_to')::timestamptz as valid_to,
        _loaded_at as loaded_at
    from source

)

select * from final
