with

source as (

    {{ union_latest('x12_supplier', 'invoices', ['record_key']) }}

),

lines as (

    {{ unnest_lines('source', '{document,lines}') }}

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,invoice_number}' as invoice_number,
        line->>'line_id' as line_id,
        {{ x12_item_id('line', 'SK') }} as sku,
        line->>'unit' as unit,
        (line#>>'{quantity,value}')::numeric as quantity,
        (line#>>'{unit_price,value}')::numeric as unit_price,
        _loaded_at as loaded_at
    from lines

)

select * from final
