-- The availability to publish, one row per SKU × location × channel (for the SKUs the channel's
-- store lists), with every input beside the figure (docs/architecture.md, Sellable inventory):
--
--   net available  = max(sellable on-hand − committed − safety stock, 0), in base units, where
--                    committed = the warehouse's open allocations and picks (the 3PL's committed)
--                    + open order lines routed to the location but not yet released to it
--                    + released lines the warehouse's figures do not commit yet (a WMS release
--                    not yet allocated, a 940 the 3PL's snapshot does not reflect yet);
--   a kit          = min over its components of floor(component net available / qty per kit);
--   a drop-ship    = the supplier's latest 846 quantity less open lines routed to it;
--   channel share  = its reserved quantity (taken in priority order), plus its share of what
--                    the reservations leave; then incoming supply (ASNs due inside the horizon)
--                    when the channel sells incoming;
--   selling units  = floor(base units / case pack) on a channel that sells by the case;
--   freshness      = a location whose stock feed is older than its SLA is held (nothing is
--                    published for it) or zeroed, as the location declares.
--
-- Rebuilt for a few SKUs by the narrow path (macros/narrow.sql): every input read by SKU goes
-- through narrow_scope('sku'), which is `true` in a normal build; the narrow scope always holds
-- a kit together with all its components.
{{ config(
    meta={'freshness_sla_minutes': 60},
    pre_hook=["{{ without_nested_loops() }}", "{{ narrow_lock() }}"],
    indexes=[{'columns': ['sku']}]
) }}  {#- freshness SLA: rebuilt on stock events #}

with

items as (

    select * from {{ ref('int_inventory__items') }}
    where {{ narrow_scope('sku') }}

),

stock as (

    select * from {{ ref('int_inventory__physical_stock') }}
    where {{ narrow_scope('sku') }}

),

routing as (

    select * from {{ ref('order_routing') }}
    where {{ narrow_scope('sku') }}

),

released as (

    select * from {{ ref('int_orders__released_lines') }}
    where {{ narrow_scope('sku') }}

),

kit_components as (

    select * from {{ ref('stg_planning__kit_components') }}
    where {{ narrow_scope('kit_sku') }}

),

incoming as (

    select * from {{ ref('int_inventory__incoming') }}
    where {{ narrow_scope('sku') }}

),

drop_ship_supply as (

    select * from {{ ref('int_inventory__drop_ship_supply') }}
    where {{ narrow_scope('sku') }}

),

feeds as (

    select * from {{ ref('stg_ops__stream_feeds') }}

),

locations as (

    select * from {{ ref('location') }}

),

channels as (

    select * from {{ ref('channel') }}

),

store_listings as (

    select * from {{ ref('int_shopify__listings') }}
    where {{ narrow_scope('sku') }}

),

routed_demand as (

    select sku, location, sum(quantity) as quantity
    from routing
    where fulfilment = 'ship' and supply_kind = 'stocked'
    group by sku, location

    union all

    select kit_components.component_sku, routing.location, sum(routing.quantity * kit_components.quantity)
    from routing
    inner join kit_components on kit_components.kit_sku = routing.sku
    where routing.fulfilment = 'ship' and routing.supply_kind = 'kit'
    group by kit_components.component_sku, routing.location

),

routed_by_position as (

    select sku, location, sum(quantity)::integer as committed_open_orders
    from routed_demand
    group by sku, location

),

released_by_position as (

    select sku, location, sum(quantity)::integer as committed_released
    from released
    group by sku, location

),

stocked as (

    select
        stock.sku,
        stock.location,
        stock.sellable_on_hand,
        stock.committed_physical,
        coalesce(routed_by_position.committed_open_orders, 0) as committed_open_orders,
        coalesce(released_by_position.committed_released, 0) as committed_released,
        stock.committed_physical
        + coalesce(routed_by_position.committed_open_orders, 0)
        + coalesce(released_by_position.committed_released, 0)
            as committed,
        items.safety_stock,
        greatest(
            stock.sellable_on_hand
            - stock.committed_physical
            - coalesce(routed_by_position.committed_open_orders, 0)
            - coalesce(released_by_position.committed_released, 0)
            - items.safety_stock,
            0
        ) as net_available,
        coalesce(incoming.incoming_quantity, 0) as incoming_quantity,
        stock.stock_read_at
    from stock
    inner join items on items.sku = stock.sku
    left join routed_by_position
        on routed_by_position.sku = stock.sku
        and routed_by_position.location = stock.location
    left join released_by_position
        on released_by_position.sku = stock.sku
        and released_by_position.location = stock.location
    left join incoming on incoming.sku = stock.sku and incoming.location = stock.location

),

kits as (

    select
        kit_components.kit_sku as sku,
        stocked.location,
        min(stocked.net_available / kit_components.quantity)::integer as kit_limit,
        min(stocked.stock_read_at) as stock_read_at
    from kit_components
    inner join stocked on stocked.sku = kit_components.component_sku
    inner join items on items.sku = kit_components.kit_sku
    group by kit_components.kit_sku, stocked.location, items.kit_component_count
    -- a location missing a component cannot build the kit
    having count(*) = items.kit_component_count

),

drop_ship_demand as (

    select sku, location, sum(quantity)::integer as quantity
    from routing
    where fulfilment = 'ship' and supply_kind = 'drop_ship'
    group by sku, location

),

drop_ships as (

    select
        items.sku,
        'DROPSHIP-' || items.drop_ship_supplier as location,
        coalesce(drop_ship_supply.quantity_available, 0) as supplier_available,
        coalesce(drop_ship_demand.quantity, 0) as committed_open_orders,
        greatest(
            coalesce(drop_ship_supply.quantity_available, 0)
            - coalesce(drop_ship_demand.quantity, 0),
            0
        ) as drop_ship_available,
        feeds.last_read_at as stock_read_at
    from items
    left join drop_ship_supply
        on drop_ship_supply.system = items.drop_ship_system
        and drop_ship_supply.sku = items.sku
    left join drop_ship_demand
        on drop_ship_demand.sku = items.sku
        and drop_ship_demand.location = 'DROPSHIP-' || items.drop_ship_supplier
    left join feeds on feeds.system = items.drop_ship_system and feeds.stream = 'availability'
    where items.supply_kind = 'drop_ship'

),

positions as (

    select
        stocked.sku,
        stocked.location,
        locations.kind as location_kind,
        stocked.sellable_on_hand,
        stocked.committed_physical,
        stocked.committed_open_orders,
        stocked.committed_released,
        stocked.committed,
        stocked.safety_stock,
        stocked.net_available,
        stocked.incoming_quantity,
        null::integer as kit_limit,
        null::integer as drop_ship_available,
        stocked.net_available as pool_quantity,
        stocked.stock_read_at,
        locations.stock_feed_sla_minutes,
        locations.stale_stock
    from stocked
    inner join locations on locations.location_code = stocked.location

    union all

    select
        kits.sku,
        kits.location,
        locations.kind,
        null, null, null, null, null, null, null,
        0,
        kits.kit_limit,
        null,
        kits.kit_limit,
        kits.stock_read_at,
        locations.stock_feed_sla_minutes,
        locations.stale_stock
    from kits
    inner join locations on locations.location_code = kits.location

    union all

    select
        drop_ships.sku,
        drop_ships.location,
        'supplier',
        null, null, drop_ships.committed_open_orders, null, drop_ships.committed_open_orders,
        null, null,
        0,
        null,
        drop_ships.drop_ship_available,
        drop_ships.drop_ship_available,
        drop_ships.stock_read_at,
        {{ var('drop_ship_feed_sla_minutes', 2880) }},
        'zero'
    from drop_ships

),

listings as (

    select distinct channels.channel, store_listings.sku
    from store_listings
    inner join channels on channels.system = store_listings.system
    where store_listings.is_listed

),

per_channel as (

    select
        positions.*,
        channels.channel,
        channels.system as channel_system,
        channels.selling_unit,
        channels.sell_incoming,
        channels.allocation_priority,
        channels.allocation_reserved,
        channels.allocation_share,
        items.case_pack,
        items.supply_kind,
        coalesce(
            sum(channels.allocation_reserved) over (
                partition by positions.sku, positions.location
                order by channels.allocation_priority, channels.channel
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as reserved_before,
        sum(channels.allocation_reserved) over (
            partition by positions.sku, positions.location
        ) as reserved_total
    from positions
    inner join items on items.sku = positions.sku
    inner join listings on listings.sku = positions.sku
    inner join channels on channels.channel = listings.channel

),

allocated as (

    select
        per_channel.*,
        least(
            allocation_reserved, greatest(pool_quantity - reserved_before, 0)
        ) as reserved_quantity,
        floor(
            greatest(pool_quantity - least(reserved_total, pool_quantity), 0) * allocation_share
        )::integer as shared_quantity,
        case when sell_incoming then incoming_quantity else 0 end as incoming_allowed,
        case when selling_unit = 'CS' and case_pack > 1 then case_pack else 1 end as unit_factor
    from per_channel

),

converted as (

    select
        allocated.*,
        reserved_quantity + shared_quantity + incoming_allowed as available_base,
        (reserved_quantity + shared_quantity + incoming_allowed) / unit_factor
            as available_selling_units,
        round(extract(epoch from ({{ run_clock() }}) - stock_read_at) / 60.0)::integer
            as feed_age_minutes
    from allocated

),

final as (

    select
        sku,
        location,
        channel,
        channel_system,
        location_kind,
        supply_kind,
        sellable_on_hand,
        committed_physical,
        committed_open_orders,
        committed_released,
        committed,
        safety_stock,
        net_available,
        kit_limit,
        drop_ship_available,
        incoming_quantity,
        incoming_allowed,
        allocation_priority,
        reserved_quantity,
        allocation_share,
        shared_quantity,
        available_base,
        selling_unit,
        case_pack,
        unit_factor,
        available_selling_units::integer as available_selling_units,
        stock_read_at,
        feed_age_minutes,
        stock_feed_sla_minutes as feed_sla_minutes,
        stale_stock as stale_policy,
        case
            when stock_read_at is not null and feed_age_minutes <= stock_feed_sla_minutes
                then 'publish'
            when stale_stock = 'zero' then 'zero'
            else 'hold'
        end as freshness_action,
        case
            when stock_read_at is not null and feed_age_minutes <= stock_feed_sla_minutes
                then available_selling_units::integer
            when stale_stock = 'zero' then 0
        end as published_quantity,
        coalesce(sellable_on_hand - committed < 0, false) as is_oversold
    from converted

)

select * from final
