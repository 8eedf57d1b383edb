with

orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

customers as (

    select * from {{ ref('stg_shopify__customers') }}

),

{%- set policies = distrohub_channels() %}

systems as (

    {% for system in distrohub_systems('shopify') %}
    {%- set policy = policies.get(system, {}) %}
    {%- set allocation = policy.get('allocation', {}) %}
    select
        '{{ system }}'::text as system,
        {{ "'" ~ policy.code ~ "'" if policy.code else "null" }}::text as declared_code,
        '{{ policy.get('selling_unit', 'EA') }}'::text as selling_unit,
        {{ "'" ~ policy.price_list ~ "'" if policy.price_list else "null" }}::text as price_list_code,
        {{ "'" ~ policy.currency ~ "'" if policy.currency else "null" }}::text as declared_currency,
        array[{% for level in policy.get('service_levels', []) %}'{{ level }}'{{ "," if not loop.last }}{% endfor %}]::text[]  -- noqa: LT05 (rendered: every service level)
            as service_levels,
        {{ 'true' if policy.get('sell_incoming') else 'false' }} as sell_incoming,
        {{ allocation.get('priority', 1) }}::integer as allocation_priority,
        {{ allocation.get('reserved', 0) }}::integer as allocation_reserved,
        {{ allocation.get('share', 1.0) }}::numeric as allocation_share
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

order_currencies as (

    select system, mode() within group (order by currency) as currency
    from orders
    where currency is not null
    group by system

),

customer_currencies as (

    select system, mode() within group (order by currency) as currency
    from customers
    where currency is not null
    group by system

),

final as (

    select
        coalesce(systems.declared_code, {{ channel_code('systems.system') }}) as channel,
        systems.system,
        coalesce(
            systems.declared_currency, order_currencies.currency, customer_currencies.currency
        ) as currency,
        systems.selling_unit,
        systems.price_list_code,
        systems.service_levels,
        systems.sell_incoming,
        systems.allocation_priority,
        systems.allocation_reserved,
        systems.allocation_share
    from systems
    left join order_currencies on order_currencies.system = systems.system
    left join customer_currencies on customer_currencies.system = systems.system

)

select * from final
