with

source as (

    {{ union_latest('tryton', 'price_list_lines', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as price_list_line_id,
        (payload->>'price_list')::bigint as price_list_id,
        (payload->>'sequence')::integer as sequence,
        (payload->>'product')::bigint as product_id,
        payload#>>'{"product.",code}' as sku,
        (payload->>'category')::bigint as category_id,
        (payload->>'quantity')::numeric as min_quantity,
        payload->>'formula' as formula,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
