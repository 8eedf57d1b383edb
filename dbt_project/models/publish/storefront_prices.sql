{#
  The desired price of every storefront variant: its channel's current price
  for one base unit (the channel's price list, or an active promotion with the
  undiscounted list price as compare-at), in the channel currency, times the
  case pack on a CS channel. B2B per-customer prices (contracts, customer
  price lists) need Shopify B2B catalogs (GraphQL): they stay in
  marts.customer_prices and are not published here.
#}

{{ config(meta={'freshness_sla_minutes': 180}) }}  {#- freshness SLA: hourly, with the prices #}

with

variants as (

    select * from {{ ref('stg_shopify__product_variants') }}

),

channels as (

    select * from {{ ref('channel') }}

),

prices as (

    select * from {{ ref('customer_prices') }}

),

channel_prices as (

    select *
    from prices
    where owner_type = 'channel'
        and is_current
        and min_quantity = 1

),

listed_variants as (

    select
        variants.system,
        variants.variant_id,
        variants.sku,
        channels.channel,
        channels.currency,
        channels.selling_unit
    from variants
    inner join channels on channels.system = variants.system
    where variants.sku is not null

),

final as (

    select
        listed_variants.system,
        listed_variants.variant_id,
        listed_variants.sku,
        listed_variants.channel,
        channel_prices.currency,
        case
            when listed_variants.selling_unit = 'CS' and channel_prices.case_pack > 1
                then channel_prices.case_pack
            else 1
        end as units_per_variant,
        case
            when listed_variants.selling_unit = 'CS' and channel_prices.case_pack > 1
                then channel_prices.case_price
            else channel_prices.unit_price
        end as price,
        case
            when channel_prices.rule = 'promotion'
                then channel_prices.list_price
                    * case
                        when listed_variants.selling_unit = 'CS' and channel_prices.case_pack > 1
                            then channel_prices.case_pack
                        else 1
                    end
        end as compare_at_price,
        -- the channel's undiscounted list price for the variant's units (the GX gate's band)
        channel_prices.list_price
            * case
                when listed_variants.selling_unit = 'CS' and channel_prices.case_pack > 1
                    then channel_prices.case_pack
                else 1
            end as list_price,
        channel_prices.rule,
        channel_prices.rule_reference,
        channel_prices.rule_source,
        channel_prices.valid_from as price_valid_from,
        channel_prices.valid_to as price_valid_to
    from listed_variants
    inner join channel_prices
        on channel_prices.owner_key = listed_variants.channel
        and channel_prices.sku = listed_variants.sku
        and channel_prices.currency = listed_variants.currency

)

select * from final
