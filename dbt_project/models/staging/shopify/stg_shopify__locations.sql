with

source as (

    {{ union_latest('shopify', 'locations', ['id']) }}

),

final as (

    select
        system,
        (payload->>'id')::bigint as location_id,
        payload->>'name' as name,
        (payload->>'active')::boolean as is_active,
        payload->>'address1' as address1,
        payload->>'city' as city,
        payload->>'province_code' as province_code,
        payload->>'country_code' as country_code,
        payload->>'zip' as zip,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
