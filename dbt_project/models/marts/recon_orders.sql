{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}
{%- set tolerance = var('recon_amount_tolerance') -%}

with

orders as (

    select * from {{ ref('order') }}

),

-- orders intake holds back from the ERP (publish.erp_sales_orders): one hold reason per order
holds as (

    select
        order_key,
        min(hold_reason) as hold_reason
    from {{ ref('erp_sales_orders') }}
    where hold_reason is not null
    group by order_key

),

-- Each order is judged by its own age, never by how far the ERP's intake got: an order with no
-- sale and no hold past the grace is missing, and when intake stops every later order past
-- the grace is listed (within its SLA at first, then breached).
missing_in_erp as (

    select
        orders.order_key,
        'missing_in_erp'::text as discrepancy,
        orders.presentment_total_price::text || ' ' || orders.presentment_currency as storefront_value,
        'missing'::text as erp_value,
        orders.created_at as since,
        {{ var('recon_sla_hours')['orders'] }} as sla_hours
    from orders
    left join holds on holds.order_key = orders.order_key
    where not orders.is_cancelled
      and orders.erp_sale_count = 0
      and holds.order_key is null
      and orders.created_at
          <= {{ as_of() }} - interval '{{ var("recon_order_grace_minutes") }} minutes'

),

-- An order intake holds (credit_hold, payment_pending, unknown_customer) is not missing: it
-- waits for a person's decision, with the hold's SLA from the order's placement.
held as (

    select
        orders.order_key,
        'held'::text as discrepancy,
        orders.presentment_total_price::text || ' ' || orders.presentment_currency as storefront_value,
        'held: ' || holds.hold_reason as erp_value,
        orders.created_at as since,
        {{ var('recon_sla_hours')['orders_held'] }} as sla_hours
    from orders
    inner join holds on holds.order_key = orders.order_key
    where not orders.is_cancelled
      and orders.erp_sale_count = 0

),

duplicated_in_erp as (

    select
        order_key,
        'duplicated_in_erp'::text as discrepancy,
        '1'::text as storefront_value,
        erp_sale_count::text as erp_value,
        created_at as since,
        {{ var('recon_sla_hours')['orders'] }} as sla_hours
    from orders
    where erp_sale_count > 1

),

total_mismatch as (

    select
        order_key,
        'total_mismatch'::text as discrepancy,
        presentment_total_price::text || ' ' || presentment_currency as storefront_value,
        erp_total_amount::text || ' ' || coalesce(erp_currency, '?') as erp_value,
        created_at as since,
        {{ var('recon_sla_hours')['orders'] }} as sla_hours
    from orders
    where erp_sale_count > 0
      and not is_cancelled
      and coalesce(erp_sale_state, '') <> 'cancelled'
      and (
          erp_currency is distinct from presentment_currency
          or abs(erp_total_amount - presentment_total_price) > {{ tolerance }}
      )

),

status_mismatch as (

    select
        order_key,
        'status_mismatch'::text as discrepancy,
        case when is_cancelled then 'cancelled' else 'open' end as storefront_value,
        erp_sale_state as erp_value,
        -- the storefront cancellation; the ERP exposes no cancellation time, so an
        -- ERP-only cancellation counts from the order's placement
        coalesce(cancelled_at, created_at) as since,
        {{ var('recon_sla_hours')['orders'] }} as sla_hours
    from orders
    where erp_sale_count > 0
      and is_cancelled <> coalesce(erp_sale_state = 'cancelled', false)

),

discrepancies as (

    select * from missing_in_erp
    union all
    select * from held
    union all
    select * from duplicated_in_erp
    union all
    select * from total_mismatch
    union all
    select * from status_mismatch

),

final as (

    select
        discrepancies.order_key,
        discrepancies.discrepancy,
        orders.channel,
        orders.system as storefront_system,
        'tryton'::text as erp_system,
        discrepancies.storefront_value,
        discrepancies.erp_value,
        orders.presentment_currency as currency,
        orders.presentment_total_price as storefront_total,
        orders.erp_total_amount as erp_total,
        orders.erp_sale_count,
        orders.erp_sale_number,
        discrepancies.since,
        {{ recon_sla_columns('discrepancies.since', 'discrepancies.sla_hours') }}
    from discrepancies
    inner join orders on orders.order_key = discrepancies.order_key

)

select * from final
