{%- set locations = distrohub_system_locations() -%}
{%- set wms_systems = distrohub_systems('wms_rest') -%}
{%- set policies = distrohub_locations() -%}

with

warehouses as (

    select * from {{ ref('stg_tryton__warehouses') }}

),

systems as (

    {% for system, code in locations.items() %}
    {%- set policy = policies.get(system, {}) %}
    select
        '{{ code }}'::text as location_code,
        '{{ "dc" if system in wms_systems else "3pl" }}'::text as kind,
        '{{ system }}'::text as system,
        {{ "'" ~ policy.shipping_zone ~ "'" if policy.shipping_zone else "null" }}::text as shipping_zone,
        array[{% for level in policy.get('service_levels', []) %}'{{ level }}'{{ "," if not loop.last }}{% endfor %}]::text[]  -- noqa: LT05 (rendered: every service level)
            as service_levels,
        {{ policy.get('stock_feed_sla_minutes', 'null') }}::integer as stock_feed_sla_minutes,
        '{{ policy.get('stale_stock', 'hold') }}'::text as stale_stock
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        systems.location_code,
        systems.kind,
        systems.system,
        systems.shipping_zone,
        systems.service_levels,
        systems.stock_feed_sla_minutes,
        systems.stale_stock,
        warehouses.warehouse_id as erp_warehouse_id,
        warehouses.name as erp_warehouse_name
    from systems
    left join warehouses on warehouses.warehouse_code = systems.location_code

)

select * from final
