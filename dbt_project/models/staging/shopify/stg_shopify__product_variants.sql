with

source as (

    {{ union_latest('shopify', 'products', ['id']) }}

),

lines as (

    {{ unnest_lines('source', '{variants}') }}

),

final as (

    select
        system,
        (line->>'id')::bigint as variant_id,
        (header->>'id')::bigint as product_id,
        line->>'sku' as sku,
        line->>'title' as title,
        (line->>'position')::integer as position,
        (line->>'price')::numeric as price,
        (line->>'compare_at_price')::numeric as compare_at_price,
        line->>'barcode' as barcode,
        (line->>'grams')::integer as grams,
        (line->>'inventory_item_id')::bigint as inventory_item_id,
        line->>'inventory_policy' as inventory_policy,
        line->>'inventory_management' as inventory_management,
        (line->>'inventory_quantity')::integer as inventory_quantity,
        header->>'status' as product_status,
        (line->>'created_at')::timestamptz as created_at,
        (line->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from lines

)

select * from final
