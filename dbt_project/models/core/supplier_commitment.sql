with

purchases as (

    select * from {{ ref('stg_tryton__purchases') }}

),

purchase_lines as (

    select * from {{ ref('stg_tryton__purchase_lines') }}

),

warehouses as (

    select * from {{ ref('stg_tryton__warehouses') }}

),

ack_lines as (

    select * from {{ ref('stg_supplier__po_ack_lines') }}

),

ship_notice_lines as (

    select * from {{ ref('stg_supplier__ship_notice_lines') }}

),

open_lines as (

    select
        purchase_lines.purchase_line_id,
        purchases.purchase_id,
        purchases.reference as po_number,
        purchases.supplier_code,
        purchases.state as purchase_state,
        purchases.purchase_date,
        coalesce(purchase_lines.delivery_date, purchases.delivery_date) as delivery_date,
        warehouses.warehouse_code as location,
        purchase_lines.sku,
        purchase_lines.quantity as ordered_quantity,
        purchase_lines.unit_price
    from purchase_lines
    inner join purchases on purchases.purchase_id = purchase_lines.purchase_id
    left join warehouses on warehouses.warehouse_id = purchases.warehouse_id
    where purchase_lines.line_type = 'line'
      and purchases.state in ('confirmed', 'processing')

),

acks as (

    select
        po_number,
        sku,
        sum(quantity_acknowledged) as acknowledged_quantity,
        string_agg(distinct ack_status, ',' order by ack_status) as ack_status,
        max(ack_date) as ack_date
    from ack_lines
    group by po_number, sku

),

shipped as (

    select
        po_number,
        sku,
        sum(quantity_shipped) as shipped_quantity
    from ship_notice_lines
    group by po_number, sku

),

final as (

    select
        open_lines.purchase_line_id,
        open_lines.purchase_id,
        open_lines.po_number,
        open_lines.supplier_code,
        open_lines.purchase_state,
        open_lines.purchase_date,
        open_lines.delivery_date,
        open_lines.location,
        open_lines.sku,
        open_lines.ordered_quantity,
        open_lines.unit_price,
        acks.acknowledged_quantity,
        acks.ack_status,
        acks.ack_date,
        coalesce(shipped.shipped_quantity, 0) as shipped_quantity,
        greatest(open_lines.ordered_quantity - coalesce(shipped.shipped_quantity, 0), 0)
            as unshipped_quantity
    from open_lines
    left join acks
        on acks.po_number = open_lines.po_number
        and acks.sku = open_lines.sku
    left join shipped
        on shipped.po_number = open_lines.po_number
        and shipped.sku = open_lines.sku

)

select * from final
