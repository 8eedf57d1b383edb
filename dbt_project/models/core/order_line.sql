with

order_lines as (

    select * from {{ ref('stg_shopify__order_lines') }}

),

orders as (

    select * from {{ ref('order') }}

),

final as (

    select
        orders.order_key || '/' || order_lines.line_number as order_line_key,
        orders.order_key,
        order_lines.line_number,
        orders.channel,
        order_lines.line_item_id,
        order_lines.sku,
        order_lines.variant_id,
        order_lines.title,
        order_lines.variant_title,
        coalesce(substring(order_lines.variant_title from 'Case of ([0-9]+)')::integer, 1)
            as units_per_selling_unit,
        order_lines.quantity,
        order_lines.current_quantity,
        order_lines.fulfillable_quantity,
        order_lines.fulfillment_status,
        order_lines.price as unit_price,
        order_lines.presentment_price as presentment_unit_price,
        order_lines.total_discount,
        order_lines.price * order_lines.quantity - coalesce(order_lines.total_discount, 0)
            as line_amount,
        orders.erp_sale_id
    from order_lines
    inner join orders
        on orders.system = order_lines.system
        and orders.order_id = order_lines.order_id

)

select * from final
