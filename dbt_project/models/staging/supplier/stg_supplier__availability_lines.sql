with

source as (

    {{ union_latest('x12_supplier', 'availability', ['record_key']) }}

),

lines as (

    {{ unnest_lines('source', '{document,items}') }}

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,reference_number}' as reference_number,
        (header#>>'{document,date,value}')::date as report_date,
        line->>'line_id' as line_id,
        {{ x12_item_id('line', 'SK') }} as sku,
        {{ x12_item_id('line', 'VP') }} as vendor_part,
        -- an 846 line has one QTY*33 (quantity available)
        (
            select q->>'unit'
            from jsonb_array_elements(line->'quantities') as q
            where q->>'qualifier' = '33'
            limit 1  -- noqa: AM09
        ) as unit,
        (
            select (q#>>'{quantity,value}')::numeric
            from jsonb_array_elements(line->'quantities') as q
            where q->>'qualifier' = '33'
            limit 1  -- noqa: AM09
        ) as quantity_available,
        _loaded_at as loaded_at
    from lines

)

select * from final
