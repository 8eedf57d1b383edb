with

source as (

    {{ union_latest('x12_supplier', 'po_acks', ['record_key']) }}

),

final as (

    select
        system,
        payload->>'record_key' as record_key,
        payload->>'file' as file,
        payload#>>'{key,sender_id}' as sender_id,
        payload#>>'{key,interchange_control}' as interchange_control,
        payload#>>'{document,po_number}' as po_number,
        payload#>>'{document,ack_type}' as ack_type,
        (payload#>>'{document,ack_date,value}')::date as ack_date,
        (payload#>>'{document,po_date,value}')::date as po_date,
        jsonb_array_length(payload#>'{document,lines}') as line_count,
        _loaded_at as loaded_at
    from source

)

select * from final
