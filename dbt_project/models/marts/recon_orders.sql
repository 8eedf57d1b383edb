{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}
{%- set tolerance = var('recon_amount_tolerance') -%}

with

orders as (

    select * from {{ ref('order') }}

),

-- The ERP's intake horizon: the newest storefront order the ERP holds a sale for.
-- An order placed before it with no sale is a gap (the ERP lost or skipped it);
-- an order placed after it is still in the hub's intake (publish.erp_sales_orders).
erp_horizon as (

    select max(created_at) as erp_horizon_at
    from orders
    where erp_sale_count > 0

),

missing_in_erp as (

    select
        orders.order_key,
        'missing_in_erp'::text as discrepancy,
        orders.presentment_total_price::text || ' ' || orders.presentment_currency as storefront_value,
        'missing'::text as erp_value,
        orders.created_at as since
    from orders
    cross join erp_horizon
    where not orders.is_cancelled
      and orders.erp_sale_count = 0
      and orders.created_at < erp_horizon.erp_horizon_at
      and orders.created_at
          <= {{ as_of() }} - interval '{{ var("recon_order_grace_minutes") }} minutes'

),

duplicated_in_erp as (

    select
        order_key,
        'duplicated_in_erp'::text as discrepancy,
        '1'::text as storefront_value,
        erp_sale_count::text as erp_value,
        created_at as since
    from orders
    where erp_sale_count > 1

),

total_mismatch as (

    select
        order_key,
        'total_mismatch'::text as discrepancy,
        presentment_total_price::text || ' ' || presentment_currency as storefront_value,
        erp_total_amount::text || ' ' || coalesce(erp_currency, '?') as erp_value,
        created_at as since
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
        coalesce(cancelled_at, created_at) as since
    from orders
    where erp_sale_count > 0
      and is_cancelled <> coalesce(erp_sale_state = 'cancelled', false)

),

discrepancies as (

    select * from missing_in_erp
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
        {{ recon_sla_columns('discrepancies.since', var('recon_sla_hours')['orders']) }}
    from discrepancies
    inner join orders on orders.order_key = discrepancies.order_key

)

select * from final
