{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}

with

shipments as (

    select * from {{ ref('shipment') }}

),

orders as (

    select * from {{ ref('order') }}

),

invoices as (

    select * from {{ ref('invoice') }}

),

shipment_sales as (

    select
        shipments.*,
        orders.erp_sale_id,
        orders.erp_sale_number,
        orders.erp_shipment_state,
        orders.erp_invoice_state,
        orders.erp_invoice_method,
        coalesce(orders.erp_shipment_state = 'sent', false) as is_posted,
        coalesce(
            orders.erp_invoice_state in ('awaiting payment', 'partially paid', 'paid'), false
        ) as is_invoiced
    from shipments
    left join orders on orders.order_key = shipments.order_key

),

-- Customer invoicing is checked only where the ERP invoices sales at all: an
-- ERP with no customer invoice (none seeded, invoicing done elsewhere) would
-- otherwise flag every shipment older than the invoicing SLA.
erp_invoicing as (

    select count(*) > 0 as is_in_use
    from invoices
    where source = 'erp'
      and invoice_type = 'out'

),

-- Each confirmation is judged by its own age against the posting SLA, never against how far
-- the ERP's posting got: when nothing posts at all, every confirmation past the SLA is listed.
not_posted as (

    select
        shipment_sales.system,
        shipment_sales.shipment_id,
        'not_posted'::text as discrepancy,
        {{ var('recon_sla_hours')['shipments_post'] }} as sla_hours,
        case
            when shipment_sales.erp_sale_id is null then 'no ERP sale'
            else 'shipment ' || shipment_sales.erp_shipment_state
        end as erp_value
    from shipment_sales
    where shipment_sales.order_key is not null
      and not shipment_sales.is_posted

),

-- A confirmation nothing links to an order (core.shipment.order_key is null: neither its order
-- reference, a release id nor its sender's settings.shipment_matching) cannot be posted: it is
-- listed, never ignored, with the posting SLA.
unmatched as (

    select
        shipment_sales.system,
        shipment_sales.shipment_id,
        'unmatched'::text as discrepancy,
        {{ var('recon_sla_hours')['shipments_post'] }} as sla_hours,
        'no order ' || coalesce(shipment_sales.order_ref, '(no reference)') as erp_value
    from shipment_sales
    where shipment_sales.order_key is null

),

not_invoiced as (

    select
        shipment_sales.system,
        shipment_sales.shipment_id,
        'not_invoiced'::text as discrepancy,
        {{ var('recon_sla_hours')['shipments_invoice'] }} as sla_hours,
        'invoice ' || shipment_sales.erp_invoice_state as erp_value
    from shipment_sales
    cross join erp_invoicing
    where erp_invoicing.is_in_use
      and shipment_sales.is_posted
      and not shipment_sales.is_invoiced
      -- a sale the ERP does not invoice itself (invoice method manual) is invoiced elsewhere
      and coalesce(shipment_sales.erp_invoice_method, 'fulfillment') != 'manual'

),

discrepancies as (

    select * from not_posted
    union all
    select * from unmatched
    union all
    select * from not_invoiced

),

final as (

    select
        shipment_sales.shipment_id,
        discrepancies.discrepancy,
        shipment_sales.source,
        shipment_sales.system as shipment_system,
        shipment_sales.location,
        shipment_sales.order_ref,
        shipment_sales.order_key,
        'tryton'::text as erp_system,
        'shipped ' || to_char(shipment_sales.shipped_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
            as shipment_value,
        discrepancies.erp_value,
        shipment_sales.erp_sale_number,
        shipment_sales.units_shipped,
        shipment_sales.shipped_at as since,
        {{ recon_sla_columns('shipment_sales.shipped_at', 'discrepancies.sla_hours') }}
    from discrepancies
    inner join shipment_sales
        on shipment_sales.system = discrepancies.system
        and shipment_sales.shipment_id = discrepancies.shipment_id

)

select * from final
