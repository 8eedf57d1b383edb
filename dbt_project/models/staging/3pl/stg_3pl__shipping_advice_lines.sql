with

source as (

    {{ union_latest('file_drop_3pl', 'shipping_advices', ['record_key']) }}

),

lines as (

    {{ unnest_lines('source', '{document,lines}') }}

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,depositor_order_number}' as order_ref,
        {{ x12_item_id('line', 'SK') }} as sku,
        line->>'unit' as unit,
        line->>'status' as status,
        (line#>>'{quantity_ordered,value}')::numeric as quantity_ordered,
        (line#>>'{quantity_shipped,value}')::numeric as quantity_shipped,
        (line#>>'{quantity_difference,value}')::numeric as quantity_difference,
        _loaded_at as loaded_at
    from lines

)

select * from final
