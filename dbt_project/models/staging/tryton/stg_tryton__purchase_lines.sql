with

source as (

    {{ union_latest('tryton', 'purchase_lines', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as purchase_line_id,
        (payload->>'purchase')::bigint as purchase_id,
        payload->>'type' as line_type,
        (payload->>'sequence')::integer as sequence,
        (payload->>'product')::bigint as product_id,
        payload#>>'{"product.",code}' as sku,
        (payload->>'quantity')::numeric as quantity,
        (payload->>'actual_quantity')::numeric as actual_quantity,
        (payload->>'unit')::bigint as unit_id,
        (payload->>'unit_price')::numeric as unit_price,
        (payload->>'amount')::numeric as amount,
        (payload->>'delivery_date')::date as delivery_date,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
