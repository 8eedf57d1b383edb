with

source as (

    {{ union_latest('shopify', 'inventory_items', ['id']) }}

),

final as (

    select
        system,
        (payload->>'id')::bigint as inventory_item_id,
        payload->>'sku' as sku,
        (payload->>'cost')::numeric as cost,
        (payload->>'tracked')::boolean as is_tracked,
        (payload->>'requires_shipping')::boolean as requires_shipping,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
