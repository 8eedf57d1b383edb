with

source as (

    {{ union_latest('shopify', 'inventory_levels', ['inventory_item_id', 'location_id']) }}

),

final as (

    select
        system,
        (payload->>'inventory_item_id')::bigint as inventory_item_id,
        (payload->>'location_id')::bigint as location_id,
        (payload->>'available')::integer as available,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
