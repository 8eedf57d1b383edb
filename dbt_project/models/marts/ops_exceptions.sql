{#
  Every open problem a person must act on, one row each, with its business error code, what is
  wrong and how to fix it: quarantined input, dead letters, held publish gates, stale feeds,
  orders on hold and reconciliation rows past their SLA. A table, built as of as_of() (the
  reconciliation marts it reads are as of their own build); `distrohub status` counts it.
#}
with

quarantine as (

    select * from {{ source('ops', 'quarantine') }}

),

dead_letter as (

    select * from {{ source('ops', 'dead_letter') }}

),

gate_results as (

    select * from {{ source('ops', 'gate_results') }}

),

sync_health as (

    select * from {{ ref('ops_sync_health') }}

),

sales_orders as (

    select * from {{ ref('erp_sales_orders') }}

),

recon_orders as (

    select * from {{ ref('recon_orders') }}

),

recon_shipments as (

    select * from {{ ref('recon_shipments') }}

),

recon_inventory as (

    select * from {{ ref('recon_inventory') }}

),

recon_supplier as (

    select * from {{ ref('recon_supplier') }}

),

recon_returns as (

    select * from {{ ref('recon_returns') }}

),

recon_prices as (

    select * from {{ ref('recon_prices') }}

),

recon_availability as (

    select * from {{ ref('recon_availability') }}

),

open_quarantine as (

    select
        'quarantine:' || id as exception_key,
        'quarantine'::text as category,
        error_code,
        system,
        stream || ':' || record_key as record_key,
        reason
        || case when occurrences > 1 then ' (seen ' || occurrences || ' times)' else '' end
            as detail,
        case error_code
            when 'schema_invalid' then
                'correct the record in ' || system || ' (the field named) and re-sync '
                || system || ' ' || stream || '; if every record fails, the source changed: '
                || 'update the JSON Schema in dagster_project/ingest/schemas'
            when 'unknown_reference' then
                'create the referenced record in its system (e.g. the item or party in Tryton) '
                || 'or correct the reference in ' || system || ', then re-sync '
                || system || ' ' || stream
            when 'primary_key_missing' then
                'fill in the record''s key in ' || system || ' and re-sync ' || system || ' ' || stream
            when 'record_not_object' then
                'check ' || system || '''s API answer for ' || stream
                || ' (version, proxy); re-sync once it sends records'
            when 'unreadable_page' then
                'check ' || system || '''s API for ' || stream
                || ' (an unreadable page: version, proxy, outage); the cursor did not move, '
                || 're-sync reads the page again'
            when 'webhook_body_invalid' then
                'ask ' || system || ' to redeliver the event (its body was not JSON); the next '
                || 'full sync of ' || stream || ' also picks the record up'
            when 'x12_envelope_invalid' then
                'ask ' || system || ' to resend the file (its ISA/IEA envelope is unreadable); it '
                || 'is in the drop folder''s quarantine/ with a .reason.txt'
            when 'x12_transaction_rejected' then
                'ask ' || system || ' to correct and resend the transaction set (a 997 rejecting '
                || 'it was sent back)'
            when 'file_unrouted' then
                'declare a stream of ' || system || ' whose params.pattern takes the file (defs.yaml)'
                || ' or remove the file from its drop folder''s quarantine/'
            when 'file_not_utf8' then
                'have ' || system || ' export the file as UTF-8 and drop it again'
            when 'csv_empty' then
                'have ' || system || ' export the file again (it had no header row)'
            when 'csv_row_malformed' then
                'correct the row in ' || system || '''s export (field count) and drop the file again'
            when 'csv_value_invalid' then
                'correct the value in ' || system || '''s export (a whole number) and drop the file again'
            else
                'correct the record in ' || system || ' and re-sync ' || system || ' ' || stream
        end as remediation,
        first_seen as since,
        'warning'::text as severity
    from quarantine
    where resolved_at is null

),

open_dead_letters as (

    select
        'dead_letter:' || id as exception_key,
        'dead_letter'::text as category,
        error_code,
        system,
        target || ':' || record_key as record_key,
        target || ' to ' || system || ' refused record ' || record_key || ' after '
        || attempts || ' attempt(s): ' || error as detail,
        'fix the cause in ' || system || ' (' || error_code || '), then `distrohub dlq retry '
        || id || '`; or `distrohub dlq discard ' || id || ' --reason ...` if it must not be sent'
            as remediation,
        failed_at as since,
        'error'::text as severity
    from dead_letter
    where resolved_at is null

),

verdicts as (

    select
        id,
        target,
        model,
        passed,
        summary,
        details,
        checked_at,
        row_number() over (partition by target order by checked_at desc, id desc) as recency,
        -- the latest passed verdict before each one: a held streak starts after it
        max(checked_at) filter (where passed) over (
            partition by target order by checked_at, id
            rows between unbounded preceding and current row
        ) as last_passed_at
    from gate_results
    where gate = 'gate'

),

held_gates as (

    select
        latest.target,
        latest.model,
        latest.summary,
        -- the first part that failed, in the order the gate checks them
        coalesce(
            case
                when (latest.details->'parts'->>'freshness')::boolean is false then 'freshness'
                when (latest.details->'parts'->>'dbt_tests')::boolean is false then 'dbt_tests'
                when (latest.details->'parts'->>'expectations')::boolean is false then 'expectations'
                when (latest.details->'parts'->>'blast_radius')::boolean is false then 'blast_radius'
            end,
            ''
        ) as failed_part,
        (
            select min(earlier.checked_at)
            from verdicts as earlier
            where earlier.target = latest.target
              and not earlier.passed
              and earlier.checked_at > coalesce(latest.last_passed_at, '-infinity'::timestamptz)
        ) as since
    from verdicts as latest
    where latest.recency = 1 and not latest.passed

),

gates as (

    select
        'gate_held:' || target as exception_key,
        'gate_held'::text as category,
        case when failed_part = '' then 'gate_failed' else 'gate_' || failed_part || '_failed' end
            as error_code,
        'hub'::text as system,
        target as record_key,
        summary as detail,
        case failed_part
            when 'freshness' then
                'load the stale source streams (see the stale_feed rows, `distrohub status`), then '
                || 'rebuild publish/' || model || '; its delivery follows'
            when 'dbt_tests' then
                'fix the failing dbt tests of publish.' || model || ' (the asset checks in the '
                || 'Dagster UI name them), then rebuild publish/' || model
            when 'expectations' then
                'read the failing expectations in the gate check''s metadata (Dagster UI), fix the '
                || 'rows at their source or the suite in expectations/, then rebuild publish/' || model
            when 'blast_radius' then
                'check the change is intended (`distrohub publish ' || target || ' --dry-run`), then '
                || '`distrohub publish ' || target || ' --accept-blast-radius`'
            else
                'read the gate check of publish/' || model || ' in the Dagster UI and rebuild it'
        end as remediation,
        since,
        'error'::text as severity
    from held_gates

),

stale_feeds as (

    select
        'stale_feed:' || direction || ':' || system || ':' || stream as exception_key,
        'stale_feed'::text as category,
        case
            when direction = 'outbound' then 'delivery_stalled'
            when sla_status = 'never_loaded' then 'feed_never_loaded'
            else 'feed_stale'
        end as error_code,
        system,
        stream as record_key,
        message as detail,
        case
            when direction = 'outbound' then
                'check that ' || system || ' is reachable and run deliver/' || stream
                || ' (`distrohub publish ' || stream || '`)'
            else
                'check that ' || system || ' is reachable and run raw/' || system || '__' || stream
                || ' (its schedule or sensor in Dagster)'
                || case when last_error is not null then '; last error: ' || left(last_error, 120) else '' end
        end as remediation,
        case
            when direction = 'outbound' then oldest_pending_at + sla_minutes * interval '1 minute'
            else last_success_at + sla_minutes * interval '1 minute'
        end as since,
        'error'::text as severity
    from sync_health
    where (direction = 'inbound' and sla_status in ('breached', 'never_loaded'))
       -- an outbound breach by dead letters alone is listed as those dead letters
       or (
           direction = 'outbound'
           and oldest_pending_at < {{ run_clock() }} - sla_minutes * interval '1 minute'
       )

),

held_orders as (

    select
        order_key,
        storefront_system,
        hold_reason,
        min(party_code) as party_code,
        min(currency) as currency,
        max(order_total) as order_total,
        max(credit_limit) as credit_limit,
        max(credit_exposure) as credit_exposure,
        min(financial_status) as financial_status,
        count(*) as lines,
        min(order_created_at) as order_created_at
    from sales_orders
    where hold_reason is not null
    group by order_key, storefront_system, hold_reason

),

order_holds as (

    select
        'order_hold:' || order_key as exception_key,
        'order_hold'::text as category,
        hold_reason as error_code,
        storefront_system as system,
        order_key as record_key,
        order_key || ' (' || lines || ' line(s), ' || order_total || ' ' || currency || ') held: '
        || case hold_reason
            when 'credit_hold' then
                'customer ' || coalesce(party_code, '?') || ' exposure ' || coalesce(credit_exposure::text, '?')
                || ' exceeds the credit limit ' || coalesce(credit_limit::text, '(none in ' || currency || ')')
            when 'payment_pending' then 'prepaid order not paid (financial status '
                || coalesce(financial_status, '?') || ')'
            when 'unknown_customer' then 'the storefront customer is linked to no ERP party'
            else hold_reason
        end as detail,
        case hold_reason
            when 'credit_hold' then
                'release credit in Tryton: raise the party''s credit limit (category '
                || '''Credit limit / ' || currency || ' <amount>'') or collect its receivable; the order '
                || 'is released at the next build of publish/erp_sales_orders'
            when 'payment_pending' then
                'capture or collect the payment in ' || storefront_system || '; the order is released '
                || 'once the storefront reports it paid'
            when 'unknown_customer' then
                'create the customer as a party in Tryton (or link the storefront customer to it), '
                || 're-sync tryton parties, then rebuild publish/erp_sales_orders'
            else 'resolve the hold in the ERP or storefront and rebuild publish/erp_sales_orders'
        end as remediation,
        order_created_at as since,
        'warning'::text as severity
    from held_orders

),

{%- set recon_fix = {
    'missing_in_erp': "'the order is not in the ERP: check its hold (order_hold rows) or deliver it (`distrohub publish erp_sales_orders`)'",
    'duplicated_in_erp': "'cancel the duplicate sale in Tryton (keep one sale per order reference)'",
    'total_mismatch': "'compare the order in the storefront with the sale in Tryton and correct the sale'",
    'status_mismatch': "'cancel the order on the side where it is still open (storefront or Tryton)'",
    'not_posted': "'post the shipment in Tryton (or check the warehouse confirmation reached it)'",
    'shipment_unmatched': "'link confirmation ' || record_key || ' of ' || system || ' (order reference ' || coalesce(order_ref, '(none)') || ') to its order: if the reference holds the order key in another form, add a pattern to settings.shipment_matching.order_reference in the defs.yaml block of ' || system || ' (one capturing group, the order key), regenerate the dbt sources and rebuild core/shipment; otherwise ask ' || system || ' which order it shipped and have it resend the confirmation with that order key'",
    'not_invoiced': "'invoice the shipped sale in Tryton'",
    'onhand_mismatch': "'count the item at the location and post the adjustment in Tryton or the WMS'",
    'ack_missing': "'ask the supplier for the 855 acknowledging the PO (or re-send the 850)'",
    'asn_missing': "'ask the supplier for the 856 ship notice of the PO'",
    'receipt_missing': "'receive the shipped goods in the WMS (or chase the carrier)'",
    'invoice_mismatch': "'dispute the 810 with the supplier or correct the PO price in Tryton'",
    'return_not_credited': "'credit the received return in Tryton (credit note against its sale)'",
} %}

recon_rows as (

    select
        'reconciliation:orders:' || order_key || ':' || discrepancy as exception_key,
        discrepancy as error_code,
        storefront_system as system,
        order_key as record_key,
        'order ' || order_key || ': ' || discrepancy
        || coalesce(' (storefront ' || storefront_value || ', ERP ' || erp_value || ')', '') as detail,
        null::text as order_ref,
        since
    from recon_orders
    -- a held order is an order_hold row already (its detail and fix)
    where sla_status = 'breached'
      and discrepancy <> 'held'

    union all

    select
        'reconciliation:shipments:' || shipment_system || ':' || shipment_id || ':' || discrepancy,
        case discrepancy when 'unmatched' then 'shipment_unmatched' else discrepancy end,
        shipment_system,
        shipment_id,
        'shipment ' || shipment_id || ' from ' || coalesce(location, shipment_system)
        || coalesce(' for order ' || order_key, '')
        || case
            when discrepancy = 'unmatched'
                then ': its order reference ' || coalesce(order_ref, '(none)') || ' matches no order'
            else ': ' || discrepancy
        end,
        order_ref,
        since
    from recon_shipments
    where sla_status = 'breached'

    union all

    select
        'reconciliation:inventory:' || sku || ':' || location,
        discrepancy,
        physical_system,
        sku || '@' || location,
        sku || ' at ' || location || ': ' || physical_system || ' counts ' || physical_quantity
        || ', the ERP books ' || erp_book_quantity || ' (difference ' || difference || ')',
        null,
        since
    from recon_inventory
    where sla_status = 'breached'

    union all

    select
        'reconciliation:supplier:' || po_number || ':' || discrepancy,
        discrepancy,
        supplier_system,
        po_number,
        'PO ' || po_number || ' (' || supplier_code || '): ' || discrepancy
        || coalesce(' (expected ' || expected_value || ', got ' || actual_value || ')', ''),
        null,
        since
    from recon_supplier
    where sla_status = 'breached'

    union all

    select
        'reconciliation:returns:' || return_key || ':' || discrepancy,
        discrepancy,
        return_system,
        return_key,
        'return ' || return_key || coalesce(' of order ' || order_key, '') || ': ' || discrepancy,
        null,
        since
    from recon_returns
    where sla_status = 'breached'

    union all

    select
        'reconciliation:prices:' || system || ':' || variant_id,
        'price_mismatch',
        system,
        variant_id::text,
        coalesce(sku, variant_id::text) || ' in ' || system || ': the store shows '
        || coalesce(live_price::text, 'no price') || ', the hub published '
        || coalesce(desired_price::text, 'none'),
        null,
        detected_at
    from recon_prices
    where sla_status = 'breached'

    union all

    select
        'reconciliation:availability:' || record_key,
        discrepancy,
        system,
        record_key,
        coalesce(sku, record_key) || ' in ' || system || ': the store shows '
        || coalesce(live_available::text, 'nothing') || ', the hub published '
        || published_available,
        null,
        detected_at
    from recon_availability
    where sla_status = 'breached'

),

reconciliation as (

    select
        exception_key,
        'reconciliation'::text as category,
        error_code,
        system,
        record_key,
        detail,
        case error_code
            {%- for code, fix in recon_fix | dictsort %}
            when '{{ code }}' then {{ fix }}
            {%- endfor %}
            when 'price_mismatch' then
                'find who changed the price in ' || system || ', then `distrohub publish storefront_prices`'
            when 'availability_mismatch' then
                'find who changed the level in ' || system || ', then `distrohub publish storefront_inventory`'
            when 'missing_in_store' then
                'the inventory level is gone from ' || system || ': `distrohub publish storefront_inventory`'
            else 'see the reconciliation mart of ' || system
        end as remediation,
        since,
        'error'::text as severity
    from recon_rows

),

unioned as (

    select * from open_quarantine
    union all
    select * from open_dead_letters
    union all
    select * from gates
    union all
    select * from stale_feeds
    union all
    select * from order_holds
    union all
    select * from reconciliation

),

final as (

    select
        exception_key,
        category,
        error_code,
        system,
        record_key,
        detail,
        remediation,
        since,
        round((greatest(extract(epoch from {{ as_of() }} - since), 0) / 3600.0)::numeric, 2)
            as age_hours,
        severity,
        {{ as_of() }} as detected_at
    from unioned

)

select * from final
