-- Rebuilt for a few SKUs by the narrow path (macros/narrow.sql): every input is read through
-- narrow_scope('sku'), which is `true` in a normal build.
{{ config(pre_hook="{{ narrow_lock() }}", indexes=[{'columns': ['sku']}]) }}

with

wms_stock as (

    select * from {{ ref('stg_wms__stock') }}
    where {{ narrow_scope('sku') }}

),

tpl_stock as (

    select * from {{ ref('stg_3pl__stock') }}
    where {{ narrow_scope('sku') }}

),

-- unused, but its ref keeps the model it reads a parent of this one in dbt
erp_stock as (  -- noqa: ST03

    select * from {{ ref('stg_tryton__stock') }}

),

wms_positions as (

    select
        sku,
        location,
        status,
        system,
        sum(quantity) as on_hand,
        max(as_of) as as_of
    from wms_stock
    group by sku, location, status, system

),

tpl_positions as (

    select
        sku,
        location,
        {{ tpl_stock_status('status') }} as status,
        system,
        sum(on_hand) as on_hand,
        max(snapshot_at) as as_of
    from tpl_stock
    -- by position: by name, status would be the raw input column, not the mapped one
    group by 1, 2, 3, 4  -- noqa: AM06

),

physical as (

    select * from wms_positions
    union all
    select * from tpl_positions

),

book as (

    {% if narrow_build() %}
    -- the narrow path re-reads a few SKUs' WMS stock after a stock event, not the ERP's book:
    -- it keeps the ERP book quantities of the last full build (every book entry is on a
    -- sellable row), and the next full build reads the ERP again
    select sku, location, erp_book_quantity
    from {{ this }}
    where status = 'sellable' and erp_book_quantity is not null and {{ narrow_scope('sku') }}
    {% else %}
    select
        sku,
        warehouse_code as location,
        sum(quantity) as erp_book_quantity
    from erp_stock
    where quantity <> 0
    group by sku, warehouse_code
    {% endif %}

),

book_only as (

    select
        book.sku,
        book.location,
        'sellable'::text as status,
        null::text as system,
        0::bigint as on_hand,
        null::timestamptz as as_of
    from book
    where not exists (
        select 1
        from physical
        where physical.sku = book.sku
          and physical.location = book.location
          and physical.status = 'sellable'
    )

),

positions as (

    select * from physical
    union all
    select * from book_only

),

final as (

    select
        positions.sku,
        positions.location,
        positions.status,
        positions.system,
        positions.on_hand::integer as on_hand,
        case when positions.status = 'sellable' then book.erp_book_quantity end
            as erp_book_quantity,
        positions.as_of
    from positions
    left join book
        on book.sku = positions.sku
        and book.location = positions.location

)

select * from final
