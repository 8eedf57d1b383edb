with

source as (

    {{ union_latest('wms_rest', 'picks', ['pick_id']) }}

),

lines as (

    {{ unnest_lines('source', '{lines}') }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        (header->>'pick_id')::bigint as pick_id,
        line_number::integer as line_number,
        header->>'release_id' as release_id,
        header->>'state' as state,
        (line->>'allocation_id')::bigint as allocation_id,
        line->>'sku' as sku,
        line->>'bin' as bin,
        (line->>'quantity')::integer as quantity,
        (line->>'picked')::integer as picked,
        (header->>'completed_at')::timestamptz as completed_at,
        _loaded_at as loaded_at
    from lines

)

select * from final
