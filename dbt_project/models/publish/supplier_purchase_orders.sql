{%- set supplier_systems = distrohub_systems('x12_supplier') -%}

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

sales as (

    select * from {{ ref('stg_tryton__sales') }}

),

ack_lines as (

    select * from {{ ref('stg_supplier__po_ack_lines') }}

),

-- the purchases stream carries the currency id only; the sales stream names it
currencies as (

    select distinct currency_id, currency_code
    from sales
    where currency_id is not null
      and currency_code is not null

),

-- the supplier's part number as the supplier last acknowledged it (Tryton's
-- product supplier codes are not pulled)
supplier_parts as (

    select distinct on (system, sku)
        system,
        sku,
        supplier_part
    from ack_lines
    where supplier_part is not null
      and sku is not null
    order by system asc, sku asc, ack_date desc nulls last, loaded_at desc

),

open_purchases as (

    select
        purchases.*,
        'supplier_' || lower(purchases.supplier_code) as supplier_system
    from purchases
    where purchases.state in ('confirmed', 'processing')

),

final as (

    select
        open_purchases.reference as po_number,
        open_purchases.purchase_id,
        purchase_lines.purchase_line_id,
        purchase_lines.sequence as line_sequence,
        open_purchases.supplier_code,
        open_purchases.supplier_system,
        warehouses.warehouse_code as ship_to_location,
        purchase_lines.sku,
        supplier_parts.supplier_part,
        purchase_lines.quantity,
        purchase_lines.unit_price as unit_cost,
        currencies.currency_code as currency,
        open_purchases.purchase_date,
        coalesce(purchase_lines.delivery_date, open_purchases.delivery_date) as delivery_date
    from open_purchases
    inner join purchase_lines
        on purchase_lines.purchase_id = open_purchases.purchase_id
        and purchase_lines.line_type = 'line'
    left join warehouses on warehouses.warehouse_id = open_purchases.warehouse_id
    left join currencies on currencies.currency_id = open_purchases.currency_id
    left join supplier_parts
        on supplier_parts.system = open_purchases.supplier_system
        and supplier_parts.sku = purchase_lines.sku
    -- only suppliers the hub trades EDI with
    where open_purchases.supplier_system in (
        {%- for system in supplier_systems %}'{{ system }}'{{ ", " if not loop.last }}{% endfor -%}  {#- noqa: LT05 #}
        {%- if supplier_systems | length == 0 %}null{% endif -%}
    )

)

select * from final
