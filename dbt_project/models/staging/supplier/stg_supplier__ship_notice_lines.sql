with

source as (

    {{ union_latest('x12_supplier', 'ship_notices', ['record_key']) }}

),

lines as (

    {{ unnest_lines('source', '{document,items}') }}

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,shipment_id}' as shipment_id,
        line->>'po_number' as po_number,
        line->>'line_id' as line_id,
        {{ x12_item_id('line', 'SK') }} as sku,
        line->>'unit' as unit,
        (line#>>'{ordered,value}')::numeric as quantity_ordered,
        (line#>>'{quantity,value}')::numeric as quantity_shipped,
        _loaded_at as loaded_at
    from lines

)

select * from final
