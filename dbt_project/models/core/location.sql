{%- set locations = distrohub_system_locations() -%}
{%- set wms_systems = distrohub_systems('wms_rest') -%}

with

warehouses as (

    select * from {{ ref('stg_tryton__warehouses') }}

),

systems as (

    {% for system, code in locations.items() %}
    select
        '{{ code }}'::text as location_code,
        '{{ "dc" if system in wms_systems else "3pl" }}'::text as kind,
        '{{ system }}'::text as system
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        systems.location_code,
        systems.kind,
        systems.system,
        warehouses.warehouse_id as erp_warehouse_id,
        warehouses.name as erp_warehouse_name
    from systems
    left join warehouses on warehouses.warehouse_code = systems.location_code

)

select * from final
