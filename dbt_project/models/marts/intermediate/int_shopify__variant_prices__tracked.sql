{#
  Each live storefront variant (stg_shopify__product_variants) with its price
  and compare-at price with `price_seen_since`: when the hub first landed the
  price it shows now (the first version after the last one that showed
  another price), read from every version raw keeps.
#}

with

live_variants as (

    select * from {{ ref('stg_shopify__product_variants') }}

),

{% for system in distrohub_systems('shopify') %}
{{ system }}_products as (

    select
        '{{ system }}'::text as system,
        products._seq,
        products._loaded_at,
        products.payload
    from {{ source(system, system ~ '__products') }} as products

),

{% endfor %}

product_versions as (

    {% for system in distrohub_systems('shopify') %}
    select * from {{ system }}_products
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

variant_versions as (

    select
        product_versions.system,
        (variant.value->>'id')::bigint as variant_id,
        variant.value->>'sku' as sku,
        (variant.value->>'price')::numeric as price,
        (variant.value->>'compare_at_price')::numeric as compare_at_price,
        product_versions._seq,
        product_versions._loaded_at
    from product_versions
    cross join lateral jsonb_array_elements(
        coalesce(product_versions.payload->'variants', '[]'::jsonb)
    ) as variant

),

last_other_price as (

    select
        variant_versions.system,
        variant_versions.variant_id,
        max(variant_versions._seq) as last_other_seq
    from variant_versions
    inner join live_variants
        on live_variants.system = variant_versions.system
        and live_variants.variant_id = variant_versions.variant_id
    where variant_versions.price is distinct from live_variants.price
        or variant_versions.compare_at_price is distinct from live_variants.compare_at_price
    group by variant_versions.system, variant_versions.variant_id

),

seen_since as (

    select
        variant_versions.system,
        variant_versions.variant_id,
        min(variant_versions._loaded_at) as price_seen_since
    from variant_versions
    left join last_other_price
        on last_other_price.system = variant_versions.system
        and last_other_price.variant_id = variant_versions.variant_id
    where variant_versions._seq > coalesce(last_other_price.last_other_seq, 0)
    group by variant_versions.system, variant_versions.variant_id

),

final as (

    select
        live_variants.system,
        live_variants.variant_id,
        live_variants.sku,
        live_variants.price,
        live_variants.compare_at_price,
        live_variants.updated_at,
        coalesce(seen_since.price_seen_since, live_variants.loaded_at) as price_seen_since,
        live_variants.loaded_at
    from live_variants
    left join seen_since
        on seen_since.system = live_variants.system
        and seen_since.variant_id = live_variants.variant_id

)

select * from final
