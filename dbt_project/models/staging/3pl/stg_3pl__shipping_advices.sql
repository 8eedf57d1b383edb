with

source as (

    {{ union_latest('file_drop_3pl', 'shipping_advices', ['record_key']) }}

),

final as (

    select
        system,
        payload->>'record_key' as record_key,
        payload->>'file' as file,
        payload#>>'{key,sender_id}' as sender_id,
        payload#>>'{key,interchange_control}' as interchange_control,
        {{ system_location('system') }} as location,
        payload#>>'{document,shipment_id}' as shipment_id,
        payload#>>'{document,depositor_order_number}' as order_ref,
        payload#>>'{document,po_number}' as po_number,
        (payload#>>'{document,date,value}')::date as ship_date,
        payload#>>'{document,carriers,0,scac}' as carrier_scac,
        payload#>>'{document,carriers,0,routing}' as carrier_routing,
        payload#>>'{document,agent_shipment_id}' as tracking_number,
        (payload#>>'{document,totals,units_shipped,value}')::numeric as units_shipped,
        (payload#>>'{document,totals,weight,value}')::numeric as weight,
        jsonb_array_length(payload#>'{document,lines}') as line_count,
        _loaded_at as loaded_at
    from source

)

select * from final
