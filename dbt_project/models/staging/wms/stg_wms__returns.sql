with

source as (

    {{ union_latest('wms_rest', 'returns', ['rma']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'rma' as rma,
        payload->>'order_ref' as order_ref,
        payload->>'shipment_id' as shipment_id,
        payload->>'state' as state,
        jsonb_array_length(payload->'lines') as line_count,
        (select sum((l->>'quantity')::integer) from jsonb_array_elements(payload->'lines') as l)::integer as quantity,
        payload->'outcome' as outcome,
        (payload->>'received_at')::timestamptz as received_at,
        _loaded_at as loaded_at
    from source

)

select * from final
