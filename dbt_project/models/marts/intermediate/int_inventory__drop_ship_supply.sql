-- What each drop-ship supplier last said it can ship (its newest X12 846 per item), with the
-- time the hub last read an 846 from it.
with

availability as (

    select * from {{ ref('stg_supplier__availability_lines') }}

),

feeds as (

    select * from {{ ref('stg_ops__stream_feeds') }}

),

latest as (

    select distinct on (system, sku)
        system,
        sku,
        quantity_available,
        report_date
    from availability
    where sku is not null
    order by system asc, sku asc, report_date desc nulls last, loaded_at desc, record_key desc

),

final as (

    select
        latest.system,
        upper(replace(latest.system, 'supplier_', '')) as supplier_code,
        latest.sku,
        greatest(floor(latest.quantity_available), 0)::integer as quantity_available,
        latest.report_date,
        feeds.last_read_at as feed_read_at
    from latest
    left join feeds on feeds.system = latest.system and feeds.stream = 'availability'

)

select * from final
