with

source as (

    {{ union_latest('x12_supplier', 'ship_notices', ['record_key']) }}

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
        header#>>'{document,shipment_id}' as shipment_id,
        line->>'po_number' as po_number,
        line->>'line_id' as line_id,
        (select i->>'value' from jsonb_array_elements(line->'ids') as i where i->>'qualifier' = 'SK' limit 1) as sku,
        line->>'unit' as unit,
        (line#>>'{ordered,value}')::numeric as quantity_ordered,
        (line#>>'{quantity,value}')::numeric as quantity_shipped,
        _loaded_at as loaded_at
    from lines

)

select * from final
