with

source as (

    {{ union_latest('x12_supplier', 'ship_notices', ['record_key']) }}

),

final as (

    select
        system,
        payload->>'record_key' as record_key,
        payload->>'file' as file,
        payload#>>'{key,sender_id}' as sender_id,
        payload#>>'{key,interchange_control}' as interchange_control,
        payload#>>'{document,shipment_id}' as shipment_id,
        (payload#>>'{document,date,value}')::date as ship_date,
        (
            (payload#>>'{document,date,value}')::date
            + coalesce(to_timestamp(payload#>>'{document,time}', 'HH24MI')::time, time '00:00')
        ) at time zone 'UTC' as shipped_at,
        payload#>>'{document,items,0,po_number}' as po_number,
        -- the shipment level's ship-to (N1*ST): a hub location's code, or a customer (drop-ship)
        jsonb_path_query_first(
            payload, '$.document.nodes[*] ? (@.level == "S").parties[*] ? (@.role == "ST").id'
        )#>>'{}' as ship_to_id,
        jsonb_path_query_first(
            payload, '$.document.nodes[*] ? (@.level == "S").routing[*].carrier_id'
        )#>>'{}' as carrier_scac,
        jsonb_path_query_first(
            payload, '$.document.nodes[*] ? (@.level == "S").routing[*].routing'
        )#>>'{}' as carrier_routing,
        jsonb_path_query_first(
            payload,
            '$.document.nodes[*] ? (@.level == "S").references[*] ? (@.qualifier == "CN").value'
        )#>>'{}' as tracking_number,
        jsonb_array_length(payload#>'{document,items}') as item_count,
        (
            select sum((i#>>'{quantity,value}')::numeric)
            from jsonb_array_elements(payload#>'{document,items}') as i
        ) as quantity,
        _loaded_at as loaded_at
    from source

)

select * from final
