with

source as (

    {{ union_latest('tryton', 'party_categories', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as category_id,
        payload->>'name' as name,
        (payload->>'parent')::bigint as parent_id,
        (payload->>'active')::boolean as is_active,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
