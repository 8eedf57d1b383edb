with

erp_invoices as (

    select * from {{ ref('stg_tryton__invoices') }}

),

erp_invoice_lines as (

    select * from {{ ref('stg_tryton__invoice_lines') }}

),

supplier_invoices as (

    select * from {{ ref('stg_supplier__invoices') }}

),

erp_line_counts as (

    select invoice_id, count(*) as line_count
    from erp_invoice_lines
    where line_type = 'line'
    group by invoice_id

),

erp as (

    select
        'erp:' || erp_invoices.invoice_id as invoice_key,
        'erp'::text as source,
        'tryton'::text as system,
        erp_invoices.invoice_type,
        erp_invoices.invoice_id as erp_invoice_id,
        erp_invoices.invoice_number,
        erp_invoices.reference,
        erp_invoices.party_code,
        erp_invoices.state,
        erp_invoices.invoice_date,
        null::text as currency,
        erp_invoices.untaxed_amount,
        erp_invoices.tax_amount,
        erp_invoices.total_amount,
        coalesce(erp_line_counts.line_count, 0)::integer as line_count
    from erp_invoices
    left join erp_line_counts on erp_line_counts.invoice_id = erp_invoices.invoice_id

),

supplier as (

    select
        supplier_invoices.system || ':' || supplier_invoices.invoice_number as invoice_key,
        'supplier_810'::text as source,
        supplier_invoices.system,
        'in'::text as invoice_type,
        null::bigint as erp_invoice_id,
        supplier_invoices.invoice_number,
        supplier_invoices.po_number as reference,
        upper(replace(supplier_invoices.system, 'supplier_', '')) as party_code,
        'received'::text as state,
        supplier_invoices.invoice_date,
        supplier_invoices.currency,
        null::numeric as untaxed_amount,
        null::numeric as tax_amount,
        supplier_invoices.total_amount,
        supplier_invoices.line_count
    from supplier_invoices

),

final as (

    select * from erp
    union all
    select * from supplier

)

select * from final
