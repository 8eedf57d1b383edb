with

source as (

    {{ union_latest('shopify', 'products', ['id']) }}

),

final as (

    select
        system,
        (payload->>'id')::bigint as product_id,
        payload->>'title' as title,
        payload->>'handle' as handle,
        payload->>'vendor' as vendor,
        payload->>'product_type' as product_type,
        payload->>'status' as status,
        payload->>'tags' as tags,
        jsonb_array_length(payload->'variants') as variant_count,
        (payload->>'published_at')::timestamptz as published_at,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
