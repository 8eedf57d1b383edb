{#
  Live storefront variant prices that differ from what the hub wants them to
  be (publish.storefront_prices): one row per mismatching variant, aged from
  when the discrepancy began (the later of the hub first landing the live
  price and the desired price taking effect).
#}

{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}

with

live as (

    select * from {{ ref('int_shopify__variant_prices__tracked') }}

),

desired as (

    select * from {{ ref('storefront_prices') }}

),

compared as (

    select
        desired.system,
        desired.channel,
        desired.variant_id,
        desired.sku,
        desired.currency,
        live.price as live_price,
        desired.price as desired_price,
        live.price - desired.price as price_difference,
        live.compare_at_price as live_compare_at_price,
        desired.compare_at_price as desired_compare_at_price,
        desired.rule,
        desired.rule_reference,
        live.updated_at as live_updated_at,
        live.price_seen_since,
        desired.price_valid_from,
        case
            when (live.price is distinct from desired.price)
                and (live.compare_at_price is distinct from desired.compare_at_price)
                then 'price_and_compare_at'
            when (live.price is distinct from desired.price) then 'price'
            when (live.compare_at_price is distinct from desired.compare_at_price)
                then 'compare_at_price'
        end as mismatch
    from desired
    inner join live
        on live.system = desired.system
        and live.variant_id = desired.variant_id

),

mismatches as (

    select
        compared.*,
        greatest(compared.price_seen_since, compared.price_valid_from) as detected_at
    from compared
    where compared.mismatch is not null

),

final as (

    select
        mismatches.*,
        {{ recon_age_columns('mismatches.detected_at', var('recon_sla_hours', {}).get('prices', 4)) }}
    from mismatches

)

select * from final
