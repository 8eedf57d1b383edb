with

source as (

    {{ union_latest('x12_supplier', 'po_acks', ['record_key']) }}

),

lines as (

    {{ unnest_lines('source', '{document,lines}') }}

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,po_number}' as po_number,
        line->>'line_id' as line_id,
        {{ x12_item_id('line', 'SK') }} as sku,
        {{ x12_item_id('line', 'VP') }} as supplier_part,
        line->>'unit' as unit,
        (line#>>'{quantity,value}')::numeric as quantity_ordered,
        (line#>>'{unit_price,value}')::numeric as unit_price,
        line#>>'{acks,0,status}' as ack_status,
        (line#>>'{acks,0,quantity,value}')::numeric as quantity_acknowledged,
        (line#>>'{acks,0,date,value}')::date as ack_date,
        _loaded_at as loaded_at
    from lines

)

select * from final
