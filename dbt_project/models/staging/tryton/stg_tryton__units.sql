with

source as (

    {{ union_latest('tryton', 'units', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as unit_id,
        payload->>'name' as name,
        payload->>'symbol' as symbol,
        (payload->>'category')::bigint as category_id,
        payload#>>'{"category.",name}' as category_name,
        (payload->>'rate')::numeric as rate,
        (payload->>'factor')::numeric as factor,
        (payload->>'rounding')::numeric as rounding,
        (payload->>'digits')::integer as digits,
        (payload->>'active')::boolean as is_active,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
