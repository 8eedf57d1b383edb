with

source as (

    {{ union_latest('shopify', 'orders', ['id']) }}

),

final as (

    select
        system,
        (payload->>'id')::bigint as order_id,
        payload->>'name' as order_name,
        (payload->>'order_number')::bigint as order_number,
        (payload#>>'{customer,id}')::bigint as customer_id,
        payload->>'email' as email,
        payload->>'currency' as currency,
        payload->>'financial_status' as financial_status,
        payload->>'fulfillment_status' as fulfillment_status,
        payload->>'cancel_reason' as cancel_reason,
        payload->>'po_number' as po_number,
        payload->>'source_name' as source_name,
        payload->>'tags' as tags,
        (payload->>'test')::boolean as is_test,
        (payload->>'taxes_included')::boolean as taxes_included,
        (payload->>'subtotal_price')::numeric as subtotal_price,
        (payload->>'total_discounts')::numeric as total_discounts,
        (payload->>'total_tax')::numeric as total_tax,
        (payload#>>'{total_shipping_price_set,shop_money,amount}')::numeric as total_shipping,
        (payload->>'total_price')::numeric as total_price,
        coalesce(payload->>'presentment_currency', payload->>'currency') as presentment_currency,
        coalesce(
            (payload#>>'{total_price_set,presentment_money,amount}')::numeric,
            (payload->>'total_price')::numeric
        ) as presentment_total_price,
        (payload->>'total_outstanding')::numeric as total_outstanding,
        payload#>>'{shipping_address,country_code}' as shipping_country_code,
        payload#>>'{shipping_address,province_code}' as shipping_province_code,
        payload#>>'{shipping_address,zip}' as shipping_zip,
        payload#>>'{shipping_lines,0,code}' as shipping_service_level,
        jsonb_array_length(payload->'line_items') as line_item_count,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'processed_at')::timestamptz as processed_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        (payload->>'cancelled_at')::timestamptz as cancelled_at,
        (payload->>'closed_at')::timestamptz as closed_at,
        _loaded_at as loaded_at
    from source

)

select * from final
