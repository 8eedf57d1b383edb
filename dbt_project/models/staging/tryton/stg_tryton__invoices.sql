with

source as (

    {{ union_latest('tryton', 'invoices', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as invoice_id,
        payload->>'type' as invoice_type,
        payload->>'number' as invoice_number,
        payload->>'reference' as reference,
        payload->>'origins' as origins,
        (payload->>'party')::bigint as party_id,
        payload#>>'{"party.",code}' as party_code,
        payload->>'state' as state,
        (payload->>'invoice_date')::date as invoice_date,
        (payload->>'payment_term')::bigint as payment_term_id,
        (payload->>'untaxed_amount')::numeric as untaxed_amount,
        (payload->>'tax_amount')::numeric as tax_amount,
        (payload->>'total_amount')::numeric as total_amount,
        (payload->>'amount_to_pay')::numeric as amount_to_pay,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
