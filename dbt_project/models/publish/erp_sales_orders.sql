{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on order events #}

with

orders as (

    select * from {{ ref('order') }}

),

order_lines as (

    select * from {{ ref('order_line') }}

),

customers as (

    select * from {{ ref('customer') }}

),

sales as (

    select * from {{ ref('stg_tryton__sales') }}

),

-- storefront orders the ERP must get: not cancelled, no sale with the order key yet
to_create as (

    select
        orders.*,
        customers.party_code,
        customers.credit_limit,
        customers.credit_limit_currency,
        customers.receivable,
        -- the order in the credit limit's currency (the presentment or the shop currency)
        case customers.credit_limit_currency
            when orders.presentment_currency then orders.presentment_total_price
            when orders.currency then orders.total_price
        end as credit_amount
    from orders
    left join customers on customers.customer_key = orders.customer_key
    where not orders.is_cancelled
      and orders.erp_sale_count = 0

),

-- sales the ERP holds and has not invoiced yet: they will add to the receivable
uninvoiced_sales as (

    select
        party_code,
        currency_code,
        sum(total_amount) as amount
    from sales
    where state in ('quotation', 'confirmed', 'processing')
      and invoice_state in ('none', 'pending')
    group by party_code, currency_code

),

-- the customer's exposure with this order: the ERP receivable, its uninvoiced sales,
-- and the hub's own pending orders up to and including this one (oldest first)
exposure as (

    select
        to_create.order_key,
        coalesce(to_create.receivable, 0)
        + coalesce(uninvoiced_sales.amount, 0)
        + sum(to_create.credit_amount) over (
            partition by to_create.party_code
            order by to_create.created_at, to_create.order_key
            rows between unbounded preceding and current row
        ) as credit_exposure
    from to_create
    left join uninvoiced_sales
        on uninvoiced_sales.party_code = to_create.party_code
        and uninvoiced_sales.currency_code = to_create.credit_limit_currency

),

holds as (

    select
        to_create.*,
        exposure.credit_exposure,
        case
            when to_create.party_code is null then 'unknown_customer'
            when to_create.channel in ('D2C', 'MARKETPLACE')
                and coalesce(to_create.financial_status, '') not in ('paid', 'partially_refunded')
                then 'payment_pending'
            -- a limit in a currency the order has no amount in cannot be checked: hold it
            when to_create.credit_limit is not null
                and (
                    to_create.credit_amount is null
                    or exposure.credit_exposure > to_create.credit_limit
                )
                then 'credit_hold'
        end as hold_reason
    from to_create
    inner join exposure on exposure.order_key = to_create.order_key

),

final as (

    select
        holds.order_key,
        order_lines.order_line_key,
        order_lines.line_number,
        holds.channel,
        holds.system as storefront_system,
        holds.order_id as storefront_order_id,
        order_lines.line_item_id,
        holds.customer_key,
        holds.party_code,
        holds.presentment_currency as currency,
        order_lines.sku,
        (coalesce(order_lines.current_quantity, order_lines.quantity)
            * order_lines.units_per_selling_unit)::integer as quantity,
        'EA'::text as unit,
        round(order_lines.presentment_unit_price / order_lines.units_per_selling_unit, 4)
            as unit_price,
        coalesce(order_lines.current_quantity, order_lines.quantity) as selling_quantity,
        case
            when order_lines.units_per_selling_unit > 1
                then 'Case of ' || order_lines.units_per_selling_unit::text
            else 'EA'
        end as selling_unit,
        order_lines.units_per_selling_unit,
        order_lines.presentment_unit_price as selling_unit_price,
        holds.presentment_total_price as order_total,
        holds.po_number as customer_po_number,
        holds.financial_status,
        holds.credit_limit,
        holds.credit_exposure,
        holds.hold_reason,
        holds.created_at as order_created_at
    from holds
    inner join order_lines on order_lines.order_key = holds.order_key
    where coalesce(order_lines.current_quantity, order_lines.quantity) > 0

)

select * from final
