-- Live storefront availability against what the hub last published (ops.published_state,
-- target storefront_inventory): one row per store inventory level that differs, or that we
-- published and the store no longer has. A level we never published is not a discrepancy
-- here (publish.storefront_inventory against ops.published_state is the pending diff).
{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}

with

levels as (

    select * from {{ ref('stg_shopify__inventory_levels') }}

),

published as (

    select * from {{ ref('stg_ops__published_state') }}
    where target = 'storefront_inventory'

),

inventory_items as (

    select * from {{ ref('stg_shopify__inventory_items') }}

),

live as (

    select
        system || ':' || inventory_item_id || '@' || location_id as record_key,
        system,
        inventory_item_id,
        location_id,
        available,
        updated_at
    from levels

),

compared as (

    select
        published.record_key,
        split_part(published.record_key, ':', 1) as system,
        (published.payload->>'available')::integer as published_available,
        live.available as live_available,
        published.published_at,
        live.updated_at as live_updated_at,
        split_part(split_part(published.record_key, ':', 2), '@', 1)::bigint as inventory_item_id,
        split_part(published.record_key, '@', 2)::bigint as location_id,
        case
            when live.record_key is null then 'missing_in_store'
            else 'availability_mismatch'
        end as discrepancy
    from published
    left join live on live.record_key = published.record_key
    where live.record_key is null
       or live.available is distinct from (published.payload->>'available')::integer

),

final as (

    select
        compared.record_key,
        compared.system,
        inventory_items.sku,
        compared.inventory_item_id,
        compared.location_id,
        compared.discrepancy,
        compared.published_available,
        compared.live_available,
        compared.live_available - compared.published_available as difference,
        array['hub', compared.system] as systems,
        greatest(compared.published_at, compared.live_updated_at) as detected_at,
        {{ recon_age_columns(
            'greatest(compared.published_at, compared.live_updated_at)',
            var('recon_sla_hours')['availability']
        ) }}
    from compared
    left join inventory_items
        on inventory_items.system = compared.system
        and inventory_items.inventory_item_id = compared.inventory_item_id

)

select * from final
