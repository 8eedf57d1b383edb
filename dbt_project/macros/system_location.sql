{# The hub location code (DC-EAST, 3PL, ...) of the system named in `column`. #}
{% macro system_location(column) -%}
    {%- set locations = distrohub_system_locations() -%}
    {%- if locations | length == 0 -%}
        null::text
    {%- else -%}
        case {{ column }}
            {%- for system, location in locations.items() %}
            when '{{ system }}' then '{{ location }}'
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}
