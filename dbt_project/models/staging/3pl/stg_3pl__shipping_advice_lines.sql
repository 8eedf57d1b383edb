with

source as (

    {{ union_latest('file_drop_3pl', 'shipping_advices', ['record_key']) }}

),

lines as (

    select
        source.system,
        source.payload as header,
        line.value as line,
        line.ordinality as line_number,
        source._loaded_at
    from source
    cross join lateral jsonb_array_elements(
        coalesce(source.payload #> '{document,lines}', '[]'::jsonb)
    ) with ordinality as line

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,depositor_order_number}' as order_ref,
        (select i->>'value' from jsonb_array_elements(line->'ids') as i where i->>'qualifier' = 'SK' limit 1) as sku,
        line->>'unit' as unit,
        line->>'status' as status,
        (line#>>'{quantity_ordered,value}')::numeric as quantity_ordered,
        (line#>>'{quantity_shipped,value}')::numeric as quantity_shipped,
        (line#>>'{quantity_difference,value}')::numeric as quantity_difference,
        _loaded_at as loaded_at
    from lines

)

select * from final
