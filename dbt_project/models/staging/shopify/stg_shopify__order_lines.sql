with

source as (

    {{ union_latest('shopify', 'orders', ['id']) }}

),

lines as (

    {{ unnest_lines('source', '{line_items}') }}

),

final as (

    select
        system,
        (header->>'id')::bigint as order_id,
        (line->>'id')::bigint as line_item_id,
        line_number::integer as line_number,
        line->>'sku' as sku,
        (line->>'product_id')::bigint as product_id,
        (line->>'variant_id')::bigint as variant_id,
        line->>'title' as title,
        line->>'variant_title' as variant_title,
        (line->>'quantity')::integer as quantity,
        (line->>'current_quantity')::integer as current_quantity,
        (line->>'fulfillable_quantity')::integer as fulfillable_quantity,
        line->>'fulfillment_status' as fulfillment_status,
        (line->>'price')::numeric as price,
        coalesce(
            (line#>>'{price_set,presentment_money,amount}')::numeric, (line->>'price')::numeric
        ) as presentment_price,
        (line->>'total_discount')::numeric as total_discount,
        (line->>'requires_shipping')::boolean as requires_shipping,
        (header->>'updated_at')::timestamptz as order_updated_at,
        _loaded_at as loaded_at
    from lines

)

select * from final
