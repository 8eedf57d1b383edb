with

source as (

    {{ union_latest('wms_rest', 'returns', ['rma']) }}

),

lines as (

    {{ unnest_lines('source', '{lines}') }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        header->>'rma' as rma,
        line_number::integer as line_number,
        header->>'order_ref' as order_ref,
        header->>'state' as state,
        line->>'sku' as sku,
        (line->>'quantity')::integer as quantity,
        (header->>'received_at')::timestamptz as received_at,
        _loaded_at as loaded_at
    from lines

)

select * from final
