-- The inventory level each storefront should show, per store, inventory item and store location:
-- marts.sellable_inventory's published figure for the location the store location stands for.
-- A store location stands for an own location (DC, 3PL) when it carries the name of that
-- location's ERP warehouse, and for a drop-ship supplier's location when it carries the hub's
-- code for it, DROPSHIP-<supplier code> (a supplier has no ERP warehouse; docs/connecting.md).
-- Only items the store tracks get a level. Held rows (stale stock feed, policy hold) are left
-- out, so the store keeps its last published figure.
--
-- Rebuilt for a few SKUs by the narrow path (macros/narrow.sql): every input read by SKU goes
-- through narrow_scope('sku'), which is `true` in a normal build; after a full build its data
-- version goes to ops.model_versions, which the narrow path keeps current.
{{ config(
    meta={'freshness_sla_minutes': 60},
    pre_hook=["{{ without_nested_loops() }}", "{{ narrow_lock() }}"],
    post_hook="{{ track_data_version() }}",
    indexes=[{'columns': ['sku']}]
) }}  {#- freshness SLA: rebuilt on stock events #}

with

sellable as (

    select * from {{ ref('sellable_inventory') }}
    where {{ narrow_scope('sku') }}

),

-- unused, but its ref keeps the model it reads a parent of this one in dbt
channels as (  -- noqa: ST03

    select * from {{ ref('channel') }}

),

inventory_items as (

    select * from {{ ref('int_shopify__listings') }}
    where inventory_item_id is not null and {{ narrow_scope('sku') }}

),

store_locations as (

    select * from {{ ref('stg_shopify__locations') }}

),

locations as (

    select * from {{ ref('location') }}

),

store_location_codes as (

    -- an own location: the store location named as its ERP warehouse
    select
        store_locations.system,
        store_locations.location_id,
        locations.location_code,
        locations.kind as location_kind
    from store_locations
    inner join locations on locations.erp_warehouse_name = store_locations.name
    where coalesce(store_locations.is_active, true)

    union all

    -- a drop-ship supplier's location: the store location named DROPSHIP-<supplier code>, the
    -- location code of the supplier's rows in sellable_inventory (location_kind 'supplier')
    select
        store_locations.system,
        store_locations.location_id,
        store_locations.name as location_code,
        'supplier' as location_kind
    from store_locations
    where coalesce(store_locations.is_active, true)

),

final as (

    select
        sellable.channel_system || ':' || inventory_items.inventory_item_id || '@'
        || store_location_codes.location_id as record_key,
        sellable.channel_system as system,
        sellable.channel,
        inventory_items.inventory_item_id,
        store_location_codes.location_id,
        sellable.sku,
        sellable.location,
        sellable.published_quantity as available,
        -- the most the location can supply the SKU for (the GX gate's bound on available): its
        -- supply (a kit's limit, a drop-ship's supplier availability, else the sellable on-hand)
        -- plus the incoming the channel may sell, in selling units
        floor(
            (
                greatest(
                    coalesce(
                        sellable.kit_limit, sellable.drop_ship_available, sellable.sellable_on_hand, 0
                    ),
                    0
                )
                + coalesce(sellable.incoming_allowed, 0)
            )::numeric / sellable.unit_factor
        )::integer as supply_selling_units,
        sellable.selling_unit,
        sellable.freshness_action
    from sellable
    inner join inventory_items
        on inventory_items.system = sellable.channel_system
        and inventory_items.sku = sellable.sku
    inner join store_location_codes
        on store_location_codes.system = sellable.channel_system
        and store_location_codes.location_code = sellable.location
        and store_location_codes.location_kind = sellable.location_kind
    where sellable.freshness_action in ('publish', 'zero')
      and coalesce(inventory_items.is_tracked, true)

)

select * from final
