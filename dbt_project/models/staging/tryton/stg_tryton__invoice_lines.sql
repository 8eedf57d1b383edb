with

source as (

    {{ union_latest('tryton', 'invoice_lines', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as invoice_line_id,
        (payload->>'invoice')::bigint as invoice_id,
        payload->>'type' as line_type,
        payload->>'origin' as origin,
        (payload->>'product')::bigint as product_id,
        payload#>>'{"product.",code}' as sku,
        (payload->>'quantity')::numeric as quantity,
        (payload->>'unit')::bigint as unit_id,
        (payload->>'unit_price')::numeric as unit_price,
        (payload->>'amount')::numeric as amount,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
