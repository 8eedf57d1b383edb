with

source as (

    {{ union_latest('wms_rest', 'releases', ['release_id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'release_id' as release_id,
        payload->>'order_ref' as order_ref,
        payload->>'channel' as channel,
        payload->>'status' as status,
        payload->>'source' as source,
        payload->>'service_level' as service_level,
        payload->>'shipment_id' as shipment_id,
        jsonb_array_length(payload->'lines') as line_count,
        (select sum((l->>'quantity')::integer) from jsonb_array_elements(payload->'lines') as l)::integer as quantity,
        (select sum((l->>'shipped')::integer) from jsonb_array_elements(payload->'lines') as l)::integer as shipped,
        (payload->>'received_at')::timestamptz as received_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
