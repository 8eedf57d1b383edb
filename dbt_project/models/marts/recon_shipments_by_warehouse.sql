{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}

with

recon_shipments as (

    select * from {{ ref('recon_shipments') }}

),

by_warehouse as (

    select
        location,
        discrepancy,
        min(shipment_system) as shipment_system,
        count(*)::integer as shipment_count,
        (count(*) filter (where sla_status = 'breached'))::integer as breached_count,
        min(since) as oldest_since,
        max(age_hours) as oldest_age_hours,
        max(sla_hours) as sla_hours,
        max(detected_at) as detected_at
    from recon_shipments
    group by location, discrepancy

),

final as (

    select
        location,
        discrepancy,
        shipment_system,
        shipment_count,
        breached_count,
        oldest_since,
        oldest_age_hours,
        sla_hours,
        case when breached_count > 0 then 'breached' else 'within_sla' end as sla_status,
        shipment_count::text
            || ' shipment confirmation' || case when shipment_count = 1 then '' else 's' end
            || ' from ' || location
            || case discrepancy
                when 'not_posted' then ' not posted to ERP'
                when 'not_invoiced' then ' not invoiced in ERP'
                when 'unmatched' then ' matching no order'
                else ' ' || discrepancy
            end
            || ' for '
            || case
                when oldest_age_hours < 1 then floor(oldest_age_hours * 60)::text || ' min'
                when oldest_age_hours < 48 then floor(oldest_age_hours)::text || ' h'
                else floor(oldest_age_hours / 24)::text || ' d'
            end
            as message,
        detected_at
    from by_warehouse

)

select * from final
