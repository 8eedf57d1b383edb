-- Per stocked item and own location (DC or 3PL): sellable on-hand and what the warehouse has
-- already committed (open allocations and picks in a WMS, the 3PL's committed column), with
-- the age of the location's stock feed. Items without stock at a location get zeros.
-- Rebuilt for a few SKUs by the narrow path (macros/narrow.sql): every input read by SKU
-- goes through narrow_scope('sku'), which is `true` in a normal build.
{{ config(pre_hook="{{ narrow_lock() }}", indexes=[{'columns': ['sku']}]) }}

with

items as (

    select * from {{ ref('int_inventory__items') }}
    where {{ narrow_scope('sku') }}

),

locations as (

    select * from {{ ref('location') }}

),

positions as (

    select * from {{ ref('inventory_position') }}
    where {{ narrow_scope('sku') }}

),

allocations as (

    select * from {{ ref('stg_wms__allocations') }}
    where {{ narrow_scope('sku') }}

),

tpl_stock as (

    select * from {{ ref('stg_3pl__stock') }}
    where {{ narrow_scope('sku') }}

),

feeds as (

    select * from {{ ref('stg_ops__stream_feeds') }}

),

sellable as (

    select sku, location, sum(on_hand)::integer as sellable_on_hand
    from positions
    where status = 'sellable'
    group by sku, location

),

wms_committed as (

    select sku, location, sum(quantity)::integer as committed
    from allocations
    where state in ('allocated', 'picking')
    group by sku, location

),

tpl_committed as (

    select sku, location, sum(committed)::integer as committed
    from tpl_stock
    where {{ tpl_stock_status('status') }} = 'sellable'
    group by sku, location

),

committed as (

    select * from wms_committed
    union all
    select * from tpl_committed

),

committed_by_position as (

    select sku, location, sum(committed)::integer as committed_physical
    from committed
    group by sku, location

),

location_feeds as (

    select
        locations.location_code,
        feeds.last_read_at as stock_read_at
    from locations
    left join feeds on feeds.system = locations.system and feeds.stream = 'stock'

),

grid as (

    select items.sku, locations.location_code as location
    from items
    cross join locations
    where items.supply_kind = 'stocked'

),

final as (

    select
        grid.sku,
        grid.location,
        coalesce(sellable.sellable_on_hand, 0) as sellable_on_hand,
        coalesce(committed_by_position.committed_physical, 0) as committed_physical,
        location_feeds.stock_read_at
    from grid
    left join sellable
        on sellable.sku = grid.sku and sellable.location = grid.location
    left join committed_by_position
        on committed_by_position.sku = grid.sku and committed_by_position.location = grid.location
    left join location_feeds on location_feeds.location_code = grid.location

)

select * from final
