with

source as (

    {{ union_latest('x12_supplier', 'invoices', ['record_key']) }}

),

final as (

    select
        system,
        payload->>'record_key' as record_key,
        payload->>'file' as file,
        payload#>>'{key,sender_id}' as sender_id,
        payload#>>'{key,interchange_control}' as interchange_control,
        payload#>>'{document,invoice_number}' as invoice_number,
        (payload#>>'{document,invoice_date,value}')::date as invoice_date,
        payload#>>'{document,po_number}' as po_number,
        (payload#>>'{document,po_date,value}')::date as po_date,
        payload#>>'{document,currency}' as currency,
        (payload#>>'{document,total_amount,value}')::numeric as total_amount,
        (payload#>>'{document,terms,0,net_days,value}')::integer as net_days,
        jsonb_array_length(payload#>'{document,lines}') as line_count,
        _loaded_at as loaded_at
    from source

)

select * from final
