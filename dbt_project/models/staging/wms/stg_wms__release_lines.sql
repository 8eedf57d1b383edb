with

source as (

    {{ union_latest('wms_rest', 'releases', ['release_id']) }}

),

lines as (

    {{ unnest_lines('source', '{lines}') }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        header->>'release_id' as release_id,
        line_number::integer as line_number,
        header->>'order_ref' as order_ref,
        header->>'status' as release_status,
        line->>'line_ref' as line_ref,
        line->>'sku' as sku,
        line->>'status' as status,
        (line->>'quantity')::integer as quantity,
        coalesce((line->>'allocated')::integer, 0) as allocated,
        coalesce((line->>'shipped')::integer, 0) as shipped,
        _loaded_at as loaded_at
    from lines

)

select * from final
