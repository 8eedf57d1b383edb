-- Each item with the stocking policy the planning feed declares for it (case pack, safety
-- stock, drop-ship supplier, kit). Items the feed does not mention get the defaults: sold by
-- the unit, no safety stock, stocked in own locations.
with

items as (

    select * from {{ ref('item') }}

),

policy as (

    select * from {{ ref('stg_planning__item_policy') }}

),

kit_components as (

    select * from {{ ref('stg_planning__kit_components') }}

),

kits as (

    select kit_sku, count(*)::integer as component_count
    from kit_components
    group by kit_sku

),

final as (

    select
        items.sku,
        items.is_active,
        coalesce(policy.case_pack, 1) as case_pack,
        coalesce(policy.safety_stock, 0) as safety_stock,
        policy.drop_ship_supplier,
        case
            when policy.drop_ship_supplier is not null
                then 'supplier_' || lower(policy.drop_ship_supplier)
        end as drop_ship_system,
        kits.kit_sku is not null as is_kit,
        coalesce(kits.component_count, 0) as kit_component_count,
        case
            when kits.kit_sku is not null then 'kit'
            when policy.drop_ship_supplier is not null then 'drop_ship'
            else 'stocked'
        end as supply_kind,
        policy.sku is not null as has_policy
    from items
    left join policy on policy.sku = items.sku
    left join kits on kits.kit_sku = items.sku

)

select * from final
