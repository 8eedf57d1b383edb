with

source as (

    {{ union_latest('carrier_webhook', 'tracker_events', ['id']) }}

),

final as (

    select
        system,
        payload->>'id' as event_id,
        payload->>'description' as event_type,
        payload#>>'{result,id}' as tracker_id,
        payload#>>'{result,tracking_code}' as tracking_code,
        payload#>>'{result,carrier}' as carrier,
        payload#>>'{result,status}' as status,
        payload#>>'{result,status_detail}' as status_detail,
        payload#>>'{previous_attributes,status}' as previous_status,
        payload#>>'{result,signed_by}' as signed_by,
        (payload#>>'{result,est_delivery_date}')::timestamptz as est_delivery_at,
        (payload->>'created_at')::timestamptz as created_at,
        (payload->>'updated_at')::timestamptz as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
