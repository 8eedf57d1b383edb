-- The narrow path's scope for sellable inventory (macros/narrow.sql, publish/narrow.py): the SKUs
-- whose figures depend on the changed ones ($1), and everything their figures are computed from.
-- A kit's figure is the scarcest of its components, and a component's committed quantity
-- counts the open orders of every kit that uses it, so the scope is closed over kits: every kit
-- using a SKU in scope and every component of a kit in scope is in scope too.
with recursive

kit_components as (

    select kit_sku, component_sku from {{ ref('stg_planning__kit_components') }}

),

scope (sku) as (

    select unnest($1::text[])

    union

    select
        case when kit_components.component_sku = scope.sku
            then kit_components.kit_sku
            else kit_components.component_sku
        end
    from kit_components
    inner join scope
        on scope.sku in (kit_components.kit_sku, kit_components.component_sku)

)

select sku from scope where sku is not null
