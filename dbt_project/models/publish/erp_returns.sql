{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on return events #}

with

returns as (

    select * from {{ ref('return') }}

),

return_lines as (

    select * from {{ ref('stg_wms__return_lines') }}

),

orders as (

    select * from {{ ref('order') }}

),

order_lines as (

    select * from {{ ref('order_line') }}

),

-- the price per base unit the order sold each SKU at (its first line of that SKU), as the
-- ERP sale has it (erp_sales_orders)
prices as (

    select distinct on (order_key, sku)
        order_key,
        sku,
        round(presentment_unit_price / units_per_selling_unit, 4) as unit_price
    from order_lines
    order by order_key, sku, line_number

),

-- once inspected: the warehouse's outcome, one line per SKU and disposition
inspected as (

    select
        returns.return_key,
        outcome_line.line_number::integer as line_number,
        outcome_line.line->>'sku' as sku,
        (outcome_line.line->>'quantity')::integer as quantity,
        case outcome_line.line->>'disposition'
            when 'sellable' then 'restock'
            when 'damaged' then 'damaged'
        end as outcome
    from returns
    cross join lateral jsonb_array_elements(returns.outcome)
        with ordinality as outcome_line (line, line_number)
    where jsonb_typeof(returns.outcome) = 'array'

),

-- received, not inspected yet: the lines as received, no outcome
received as (

    select
        returns.return_key,
        return_lines.line_number,
        return_lines.sku,
        return_lines.quantity,
        null::text as outcome
    from returns
    inner join return_lines
        on return_lines.system = returns.system
        and return_lines.rma = returns.rma
    where not exists (
        select 1 from inspected
        where inspected.return_key = returns.return_key
    )

),

lines as (

    select * from inspected
    union all
    select * from received

),

final as (

    select
        returns.return_key,
        lines.line_number,
        returns.return_key || '/' || lines.line_number::text as return_line_key,
        returns.rma,
        returns.system as return_system,
        returns.location,
        returns.order_key,
        orders.erp_sale_id,
        lines.sku,
        lines.quantity,
        prices.unit_price,
        lines.outcome,
        returns.received_at,
        case
            when prices.unit_price is null then 'sku_not_on_order'
        end as hold_reason
    from returns
    inner join orders on orders.order_key = returns.order_key
    inner join lines on lines.return_key = returns.return_key
    left join prices
        on prices.order_key = returns.order_key
        and prices.sku = lines.sku
    where returns.received_at is not null
      and orders.erp_sale_id is not null

)

select * from final
