with

source as (

    {{ union_latest('tryton', 'warehouses', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as warehouse_id,
        payload->>'code' as warehouse_code,
        payload->>'name' as name,
        (payload->>'active')::boolean as is_active,
        (payload->>'storage_location')::bigint as storage_location_id,
        (payload->>'input_location')::bigint as input_location_id,
        (payload->>'output_location')::bigint as output_location_id,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
