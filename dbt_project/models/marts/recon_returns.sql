{{ config(meta={'freshness_sla_minutes': 45}) }}  {#- freshness SLA: every 15 minutes #}

with

returns as (

    select * from {{ ref('return') }}

),

invoices as (

    select * from {{ ref('invoice') }}

),

-- ERP credit notes issued: posted (or paid) customer invoices with a negative total. The
-- erp_returns delivery sets the return key as the credit note's reference; one made by hand
-- may carry the RMA.
credit_notes as (

    select reference, invoice_number, state
    from invoices
    where source = 'erp'
      and invoice_type = 'out'
      and total_amount < 0
      and state in ('posted', 'paid')

),

-- Like not_invoiced in recon_shipments: an ERP that issues no customer invoice at
-- all keeps its credit notes elsewhere, and every return would be flagged.
erp_invoicing as (

    select count(*) > 0 as is_in_use
    from invoices
    where source = 'erp'
      and invoice_type = 'out'

),

not_credited as (

    select returns.*
    from returns
    cross join erp_invoicing
    where erp_invoicing.is_in_use
      and returns.received_at is not null
      and not exists (
          select 1
          from credit_notes
          where credit_notes.reference in (returns.return_key, returns.rma)
      )

),

final as (

    select
        return_key,
        'return_not_credited'::text as discrepancy,
        rma,
        system as return_system,
        location,
        order_ref,
        order_key,
        'tryton'::text as erp_system,
        'received ' || quantity::text || ' unit(s)' as return_value,
        'no credit note'::text as erp_value,
        quantity,
        received_at as since,
        {{ recon_sla_columns('received_at', var('recon_sla_hours')['returns']) }}
    from not_credited

)

select * from final
