-- What each storefront lists, per store system and SKU: its inventory items (with whether the
-- store tracks their stock) and whether a live variant sells the SKU. One table, indexed by SKU,
-- that sellable inventory (which channels list a SKU) and the storefront inventory publish model
-- (which inventory item a level is set on) read by SKU, so the narrow path reads a few SKUs'
-- rows instead of unnesting every store's products. Rebuilt with the catalog.
{{ config(indexes=[{'columns': ['sku']}]) }}

with

variants as (

    select * from {{ ref('stg_shopify__product_variants') }}

),

inventory_items as (

    select * from {{ ref('stg_shopify__inventory_items') }}

),

listed as (

    select distinct system, sku
    from variants
    where sku is not null

),

tracked as (

    select system, sku, inventory_item_id, is_tracked
    from inventory_items
    where sku is not null

),

final as (

    select
        coalesce(tracked.system, listed.system) as system,
        coalesce(tracked.sku, listed.sku) as sku,
        tracked.inventory_item_id,
        tracked.is_tracked,
        listed.sku is not null as is_listed
    from tracked
    full join listed
        on listed.system = tracked.system
        and listed.sku = tracked.sku

)

select * from final
