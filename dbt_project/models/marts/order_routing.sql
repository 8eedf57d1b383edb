-- Each open, unreleased order line assigned to the location that ships it, with the reason.
--
-- Greedy, in the order the orders were placed (created_at, then key):
--   * a drop-ship item ships from its supplier while the supplier's 846 covers it;
--   * otherwise the candidates are the own locations (DC or 3PL) that offer the order's
--     service level, ranked: in the customer's shipping zone first, then most free stock
--     (sellable on-hand minus what the warehouse has committed and what released lines it has
--     not allocated yet still claim: int_orders__released_lines), then location code. A kit
--     counts as many free as its scarcest component allows;
--   * each location's free stock is reduced by the earlier lines of the item shipped from it
--     (a recursive walk over each item's lines); a kit's components are not reduced by lines
--     of the components themselves (kit and component demand are walked separately);
--   * the line goes whole to the best-ranked candidate that still has enough; if none has, the
--     candidate with the most left ships that much (whole selling units) and the rest
--     is an explicit backorder there; a line no location can serve is a backorder without one.
-- One row per line and fulfilment (ship / backorder); quantities in base units.
{{ config(meta={'freshness_sla_minutes': 60}) }}  {#- freshness SLA: rebuilt on order events #}

with recursive

lines as (

    select * from {{ ref('int_orders__open_lines') }}

),

stock as (

    select * from {{ ref('int_inventory__physical_stock') }}

),

released as (

    select * from {{ ref('int_orders__released_lines') }}

),

locations as (

    select * from {{ ref('location') }}

),

kit_components as (

    select * from {{ ref('stg_planning__kit_components') }}

),

items as (

    select * from {{ ref('int_inventory__items') }}

),

drop_ship_supply as (

    select * from {{ ref('int_inventory__drop_ship_supply') }}

),

released_by_position as (

    select sku, location, sum(quantity) as quantity
    from released
    group by sku, location

),

free_stock as (

    select
        stock.sku,
        stock.location,
        greatest(
            stock.sellable_on_hand
            - stock.committed_physical
            - coalesce(released_by_position.quantity, 0),
            0
        ) as free_quantity
    from stock
    left join released_by_position
        on released_by_position.sku = stock.sku
        and released_by_position.location = stock.location

),

kit_free as (

    select
        kit_components.kit_sku as sku,
        free_stock.location,
        min(free_stock.free_quantity / kit_components.quantity) as free_quantity
    from kit_components
    inner join free_stock on free_stock.sku = kit_components.component_sku
    inner join items on items.sku = kit_components.kit_sku
    group by kit_components.kit_sku, free_stock.location, items.kit_component_count
    -- a location missing a component cannot build the kit
    having count(*) = items.kit_component_count

),

item_free as (

    select * from free_stock
    union all
    select * from kit_free

),

stock_lines as (

    select * from lines where supply_kind in ('stocked', 'kit')

),

line_sequence as (

    select
        stock_lines.*,
        row_number() over (partition by sku order by created_at, order_line_key) as seq
    from stock_lines

),

starting_free as (

    select
        line_skus.sku,
        coalesce(
            jsonb_object_agg(item_free.location, item_free.free_quantity)
                filter (where item_free.location is not null),
            '{}'::jsonb
        ) as remaining
    from (select distinct sku from stock_lines) as line_skus
    left join item_free on item_free.sku = line_skus.sku
    group by line_skus.sku

),

-- one step per line of an item, in the order placed, carrying each location's free stock left
walk as (

    select
        sku,
        0::bigint as seq,
        remaining,
        null::text as order_line_key,
        null::text as location,
        null::text as location_kind,
        null::boolean as in_zone,
        null::bigint as candidate_rank,
        null::integer as remaining_before,
        null::integer as ship_quantity
    from starting_free

    union all

    select
        walk.sku,
        line.seq,
        case
            when pick.location is null then walk.remaining
            else jsonb_set(
                walk.remaining,
                array[pick.location],
                to_jsonb(pick.remaining_before - pick.ship_quantity)
            )
        end,
        line.order_line_key,
        pick.location,
        pick.location_kind,
        pick.in_zone,
        pick.candidate_rank,
        pick.remaining_before,
        pick.ship_quantity
    from walk
    inner join line_sequence as line on line.sku = walk.sku and line.seq = walk.seq + 1
    left join lateral (
        select
            ranked.*,
            case
                when ranked.remaining_before >= line.base_quantity then line.base_quantity
                else (greatest(ranked.remaining_before, 0) / line.unit_factor) * line.unit_factor
            end as ship_quantity
        from (
            select
                locations.location_code as location,
                locations.kind as location_kind,
                coalesce(locations.shipping_zone = line.shipping_zone, false) as in_zone,
                coalesce((walk.remaining->>locations.location_code)::integer, 0)
                    as remaining_before,
                row_number() over (
                    order by
                        coalesce(locations.shipping_zone = line.shipping_zone, false) desc,
                        coalesce((walk.remaining->>locations.location_code)::integer, 0) desc,
                        locations.location_code
                ) as candidate_rank
            from locations
            where line.service_level is null
               or line.service_level = any(locations.service_levels)
        ) as ranked
        order by
            case
                when ranked.remaining_before >= line.base_quantity then 0
                when ranked.remaining_before >= line.unit_factor then 1
                else 2
            end,
            -- no one can ship it whole: the location that can ship the most
            case
                when ranked.remaining_before < line.base_quantity then -ranked.remaining_before
                else 0
            end,
            ranked.candidate_rank
        limit 1
    ) as pick on true

),

steps as (

    select walk.*, line.base_quantity
    from walk
    inner join line_sequence as line on line.order_line_key = walk.order_line_key

),

stock_routes as (

    select
        order_line_key, location, location_kind, 'ship' as fulfilment, ship_quantity as quantity,
        case
            when ship_quantity < base_quantity then 'split_partial_stock'
            when in_zone then 'in_zone_stock'
            else 'out_of_zone_stock'
        end as reason,
        candidate_rank, remaining_before as remaining_quantity
    from steps
    where location is not null and ship_quantity > 0

    union all

    select
        order_line_key, location, location_kind, 'backorder', base_quantity - ship_quantity,
        'backorder_no_stock', candidate_rank, remaining_before
    from steps
    where location is not null and ship_quantity < base_quantity

    union all

    select
        order_line_key, null, null, 'backorder', base_quantity,
        'no_location_for_service_level', null, null
    from steps
    where location is null

),

drop_ship_lines as (

    select
        lines.*,
        coalesce(drop_ship_supply.quantity_available, 0) as free_quantity,
        coalesce(
            sum(lines.base_quantity) over (
                partition by lines.sku, lines.drop_ship_supplier
                order by lines.created_at, lines.order_line_key
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as earlier_demand
    from lines
    left join drop_ship_supply
        on drop_ship_supply.supplier_code = lines.drop_ship_supplier
        and drop_ship_supply.sku = lines.sku
    where lines.supply_kind = 'drop_ship'

),

drop_ship_split as (

    select
        drop_ship_lines.*,
        free_quantity - earlier_demand as remaining_quantity,
        (least(base_quantity, greatest(free_quantity - earlier_demand, 0)) / unit_factor)
            * unit_factor as ship_quantity
    from drop_ship_lines

),

drop_ship_routes as (

    select
        order_line_key, 'DROPSHIP-' || drop_ship_supplier as location, 'supplier' as location_kind,
        'ship' as fulfilment, ship_quantity as quantity, 'drop_ship_supplier' as reason,
        1 as candidate_rank, remaining_quantity
    from drop_ship_split
    where ship_quantity > 0

    union all

    select
        order_line_key, 'DROPSHIP-' || drop_ship_supplier, 'supplier', 'backorder',
        base_quantity - ship_quantity, 'drop_ship_backorder', 1, remaining_quantity
    from drop_ship_split
    where ship_quantity < base_quantity

),

routes as (

    select * from stock_routes where quantity > 0
    union all
    select * from drop_ship_routes

),

final as (

    select
        lines.order_line_key,
        lines.order_key,
        lines.line_number,
        lines.channel,
        lines.customer_key,
        lines.created_at as ordered_at,
        lines.sku,
        lines.supply_kind,
        lines.service_level,
        lines.shipping_zone as customer_zone,
        routes.fulfilment,
        routes.location,
        routes.location_kind,
        routes.quantity::integer as quantity,
        lines.unit_factor,
        (routes.quantity / lines.unit_factor)::integer as selling_quantity,
        routes.reason,
        routes.candidate_rank::integer as candidate_rank,
        routes.remaining_quantity::integer as remaining_quantity
    from routes
    inner join lines on lines.order_line_key = routes.order_line_key

)

select * from final
