with

source as (

    {{ union_latest('file_drop_csv', 'item_policy', ['sku']) }}

),

final as (

    select
        system,
        payload->>'sku' as sku,
        (payload->>'case_pack')::integer as case_pack,
        (payload->>'safety_stock')::integer as safety_stock,
        nullif(payload->>'drop_ship_supplier', '') as drop_ship_supplier,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
