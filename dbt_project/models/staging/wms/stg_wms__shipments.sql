with

source as (

    {{ union_latest('wms_rest', 'shipments', ['shipment_id']) }}

),

final as (

    select
        system,
        {{ system_location('system') }} as location,
        payload->>'shipment_id' as shipment_id,
        payload->>'release_id' as release_id,
        payload->>'order_ref' as order_ref,
        payload->>'carrier' as carrier,
        payload->>'service' as service,
        payload->>'tracking_number' as tracking_number,
        payload->>'tracker_id' as tracker_id,
        payload#>>'{ship_to,country}' as ship_to_country,
        payload#>>'{ship_to,postal_code}' as ship_to_postal_code,
        jsonb_array_length(payload->'lines') as line_count,
        (payload->>'shipped_at')::timestamptz as shipped_at,
        _loaded_at as loaded_at
    from source

)

select * from final
