with

source as (

    {{ union_latest('shopify', 'customers', ['id']) }}

),

final as (

    select
        system,
        (payload->>'id')::bigint as customer_id,
        payload->>'email' as email,
        payload->>'first_name' as first_name,
        payload->>'last_name' as last_name,
        payload->>'phone' as phone,
        payload->>'state' as state,
        payload->>'currency' as currency,
        payload->>'tags' as tags,
        (payload->>'tax_exempt')::boolean as tax_exempt,
        (payload->>'orders_count')::integer as orders_count,
        (payload->>'total_spent')::numeric as total_spent,
        payload#>>'{default_address,country_code}' as default_country_code,
        payload#>>'{default_address,province_code}' as default_province_code,
        payload#>>'{default_address,zip}' as default_zip,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
