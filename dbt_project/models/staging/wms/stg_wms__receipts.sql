with

source as (

    {{ union_latest('wms_rest', 'receipts', ['receipt_id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'receipt_id' as receipt_id,
        payload->>'asn_id' as asn_id,
        payload->>'po_number' as po_number,
        (payload->>'qc_released')::boolean as qc_released,
        jsonb_array_length(payload->'lines') as line_count,
        (
            select sum((l->>'expected')::integer) from jsonb_array_elements(payload->'lines') as l
        )::integer as expected_quantity,
        (
            select sum((l->>'received')::integer) from jsonb_array_elements(payload->'lines') as l
        )::integer as received_quantity,
        (payload->>'received_at')::timestamptz as received_at,
        _loaded_at as loaded_at
    from source

)

select * from final
