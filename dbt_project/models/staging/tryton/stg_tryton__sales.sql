with

source as (

    {{ union_latest('tryton', 'sales', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as sale_id,
        payload->>'number' as sale_number,
        payload->>'reference' as reference,
        (payload->>'party')::bigint as party_id,
        payload#>>'{"party.",code}' as party_code,
        payload->>'state' as state,
        payload->>'invoice_state' as invoice_state,
        payload->>'invoice_method' as invoice_method,
        payload->>'shipment_state' as shipment_state,
        (payload->>'sale_date')::date as sale_date,
        (payload->>'warehouse')::bigint as warehouse_id,
        (payload->>'currency')::bigint as currency_id,
        payload#>>'{"currency.",code}' as currency_code,
        (payload->>'price_list')::bigint as price_list_id,
        (payload->>'payment_term')::bigint as payment_term_id,
        (payload->>'untaxed_amount')::numeric as untaxed_amount,
        (payload->>'tax_amount')::numeric as tax_amount,
        (payload->>'total_amount')::numeric as total_amount,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
