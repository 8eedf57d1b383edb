with

source as (

    {{ union_latest('wms_rest', 'shipments', ['shipment_id']) }}

),

lines as (

    {{ unnest_lines('source', '{lines}') }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        header->>'shipment_id' as shipment_id,
        line_number::integer as line_number,
        header->>'order_ref' as order_ref,
        line->>'line_ref' as line_ref,
        line->>'sku' as sku,
        (line->>'ordered')::integer as ordered,
        (line->>'quantity')::integer as quantity,
        (header->>'shipped_at')::timestamptz as shipped_at,
        _loaded_at as loaded_at
    from lines

)

select * from final
