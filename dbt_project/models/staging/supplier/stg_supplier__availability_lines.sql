with

source as (

    {{ union_latest('x12_supplier', 'availability', ['record_key']) }}

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
        coalesce(source.payload #> '{document,items}', '[]'::jsonb)
    ) with ordinality as line

),

final as (

    select
        system,
        header->>'record_key' as record_key,
        line_number::integer as line_number,
        header#>>'{document,reference_number}' as reference_number,
        (header#>>'{document,date,value}')::date as report_date,
        line->>'line_id' as line_id,
        (select i->>'value' from jsonb_array_elements(line->'ids') as i where i->>'qualifier' = 'SK' limit 1) as sku,
        (select i->>'value' from jsonb_array_elements(line->'ids') as i where i->>'qualifier' = 'VP' limit 1) as vendor_part,
        (select q->>'unit' from jsonb_array_elements(line->'quantities') as q where q->>'qualifier' = '33' limit 1) as unit,
        (select (q#>>'{quantity,value}')::numeric from jsonb_array_elements(line->'quantities') as q where q->>'qualifier' = '33' limit 1) as quantity_available,
        _loaded_at as loaded_at
    from lines

)

select * from final
