with

orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

customers as (

    select * from {{ ref('stg_shopify__customers') }}

),

systems as (

    {% for system in distrohub_systems('shopify') %}
    select '{{ system }}'::text as system
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
        {{ channel_code('systems.system') }} as channel,
        systems.system,
        coalesce(order_currencies.currency, customer_currencies.currency) as currency
    from systems
    left join order_currencies on order_currencies.system = systems.system
    left join customer_currencies on customer_currencies.system = systems.system

)

select * from final
