with

source as (

    {{ union_latest('wms_rest', 'receipts', ['receipt_id']) }}

),

lines as (

    {{ unnest_lines('source', '{lines}') }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        header->>'receipt_id' as receipt_id,
        line_number::integer as line_number,
        header->>'po_number' as po_number,
        header->>'asn_id' as asn_id,
        line->>'sku' as sku,
        (line->>'expected')::integer as expected_quantity,
        (line->>'received')::integer as received_quantity,
        (header->>'received_at')::timestamptz as received_at,
        _loaded_at as loaded_at
    from lines

)

select * from final
