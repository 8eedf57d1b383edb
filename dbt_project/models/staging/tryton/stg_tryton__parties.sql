with

source as (

    {{ union_latest('tryton', 'parties', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as party_id,
        payload->>'code' as party_code,
        payload->>'name' as name,
        (payload->>'active')::boolean as is_active,
        payload->'categories' as category_ids,
        (payload->>'sale_price_list')::bigint as sale_price_list_id,
        (payload->>'customer_payment_term')::bigint as customer_payment_term_id,
        payload#>>'{"customer_payment_term.",name}' as customer_payment_term_name,
        (payload->>'supplier_payment_term')::bigint as supplier_payment_term_id,
        (payload->>'receivable')::numeric as receivable,
        (payload->>'receivable_today')::numeric as receivable_today,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
