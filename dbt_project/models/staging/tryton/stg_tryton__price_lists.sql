with

source as (

    {{ union_latest('tryton', 'price_lists', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as price_list_id,
        payload->>'name' as name,
        payload->>'price' as price_basis,
        payload->>'unit' as unit_basis,
        (payload->>'tax_included')::boolean as tax_included,
        (payload->>'active')::boolean as is_active,
        (payload->>'company')::bigint as company_id,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
