with

items as (

    select * from {{ ref('stg_tryton__items') }}

),

variants as (

    select * from {{ ref('stg_shopify__product_variants') }}

),

variants_by_sku as (

    select
        sku,
        min(variant_id) filter (where {{ channel_code('system') }} = 'B2B') as b2b_variant_id,
        min(variant_id) filter (where {{ channel_code('system') }} = 'D2C') as d2c_variant_id,
        min(variant_id) filter (where {{ channel_code('system') }} = 'MARKETPLACE')
            as marketplace_variant_id
    from variants
    where sku is not null
    group by sku

),

final as (

    select
        items.sku,
        items.item_id,
        items.name,
        items.item_type,
        items.default_uom_symbol as unit,
        items.is_active,
        items.is_salable,
        items.is_purchasable,
        items.list_price,
        items.cost_price,
        variants_by_sku.b2b_variant_id,
        variants_by_sku.d2c_variant_id,
        variants_by_sku.marketplace_variant_id,
        items.updated_at
    from items
    left join variants_by_sku on variants_by_sku.sku = items.sku

)

select * from final
