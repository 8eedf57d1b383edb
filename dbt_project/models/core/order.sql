with

orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

sales as (

    select * from {{ ref('stg_tryton__sales') }}

),

customers as (

    select * from {{ ref('customer') }}

),

keyed_orders as (

    select
        {{ channel_code('system') }} || order_name as order_key,
        {{ channel_code('system') }} as channel,
        orders.*
    from orders

),

sales_by_reference as (

    select
        reference,
        min(sale_id) as erp_sale_id,
        count(*) as erp_sale_count
    from sales
    where reference is not null
    group by reference

),

final as (

    select
        keyed_orders.order_key,
        keyed_orders.channel,
        keyed_orders.system,
        keyed_orders.order_id,
        keyed_orders.order_number,
        keyed_orders.order_name,
        customers.customer_key,
        keyed_orders.customer_id as storefront_customer_id,
        keyed_orders.email,
        keyed_orders.currency,
        keyed_orders.financial_status,
        keyed_orders.fulfillment_status,
        keyed_orders.cancelled_at is not null as is_cancelled,
        keyed_orders.cancel_reason,
        keyed_orders.po_number,
        keyed_orders.subtotal_price,
        keyed_orders.total_discounts,
        keyed_orders.total_tax,
        keyed_orders.total_shipping,
        keyed_orders.total_price,
        keyed_orders.presentment_currency,
        keyed_orders.presentment_total_price,
        keyed_orders.total_outstanding,
        keyed_orders.line_item_count,
        keyed_orders.shipping_country_code,
        keyed_orders.shipping_province_code,
        keyed_orders.shipping_service_level,
        keyed_orders.created_at,
        keyed_orders.updated_at,
        keyed_orders.cancelled_at,
        sales.sale_id as erp_sale_id,
        sales.sale_number as erp_sale_number,
        sales.state as erp_sale_state,
        sales.shipment_state as erp_shipment_state,
        sales.invoice_state as erp_invoice_state,
        sales.total_amount as erp_total_amount,
        sales.currency_code as erp_currency,
        coalesce(sales_by_reference.erp_sale_count, 0)::integer as erp_sale_count
    from keyed_orders
    left join customers
        on customers.storefront_system = keyed_orders.system
        and customers.storefront_customer_id = keyed_orders.customer_id
    left join sales_by_reference on sales_by_reference.reference = keyed_orders.order_key
    left join sales on sales.sale_id = sales_by_reference.erp_sale_id

)

select * from final
