with

source as (

    {{ union_latest('file_drop_csv', 'contract_prices', ['customer', 'sku', 'min_quantity', 'valid_from']) }}

),

final as (

    select
        system,
        payload->>'customer' as customer_code,
        payload->>'sku' as sku,
        (payload->>'min_quantity')::integer as min_quantity,
        (payload->>'price')::numeric as price,
        payload->>'currency' as currency,
        (payload->>'valid_from')::timestamptz as valid_from,
        (nullif(payload->>'valid_to', ''))::timestamptz as valid_to,
        _loaded_at as loaded_at
    from source

)

select * from final
