{#
  The customers that have prices of their own (a sale price list or contract
  prices) and the price group each one is priced with: customers with the same
  price list, channel and currency get the same price for every SKU they have
  no contract price on, so marts.customer_prices prices each group once
  (owner_type customer_group) and a customer only for its contract SKUs
  (owner_type customer). See customer_price_groups.yml.
#}

{{ config(meta={'freshness_sla_minutes': 180}) }}  {#- freshness SLA: hourly, with the prices #}

with

customers as (

    select * from {{ ref('customer') }}

),

price_rules as (

    select * from {{ ref('price_rule') }}

),

planning_contracts as (

    select * from {{ ref('stg_planning__contract_prices') }}

),

-- the active sale price lists (not the ERP's [CONTRACT <customer>] lists)
price_lists as (

    select distinct
        price_list_id,
        price_list_code,
        {{ price_list_currency('price_list_code') }} as currency
    from price_rules
    where price_list_code not like 'CONTRACT %'
        and coalesce(is_price_list_active, true)

),

-- customers with contract prices: in the planning feed or an ERP [CONTRACT <customer>] list
contract_customers as (

    select customer_code
    from planning_contracts

    union

    select substring(price_list_code from '^CONTRACT (.+)$') as customer_code
    from price_rules
    where price_list_code like 'CONTRACT %'
        and coalesce(is_price_list_active, true)
        and sku is not null
        and fixed_price is not null

),

priced_customers as (

    select
        customers.customer_key,
        customers.party_code,
        customers.channel,
        coalesce(customers.currency, price_lists.currency, '{{ var('company_currency', 'USD') }}')
            as currency,
        customers.sale_price_list_id,
        price_lists.price_list_id,
        price_lists.price_list_code,
        exists(
            select 1
            from contract_customers
            where contract_customers.customer_code = customers.party_code
        ) as has_contract_prices
    from customers
    left join price_lists on price_lists.price_list_id = customers.sale_price_list_id
    where customers.party_code is not null
        and (
            customers.sale_price_list_id is not null
            or customers.party_code in (select customer_code from contract_customers)
        )

),

final as (

    select
        customer_key,
        party_code,
        coalesce(channel, '-') || '/' || coalesce(price_list_code, '-') || '/' || currency
            as price_group,
        channel,
        currency,
        sale_price_list_id,
        price_list_id,
        price_list_code,
        has_contract_prices
    from priced_customers

)

select * from final
