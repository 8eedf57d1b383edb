{#
  The latest live version of each key of one stream, over every declared system
  of a kind (distrohub_systems, generated from defs.yaml), with a `system` column.
  key_columns are the raw table's key columns (the stream's primary key).
#}
{% macro union_latest(kind, stream, key_columns) -%}
    {%- set systems = distrohub_systems(kind) -%}
    {%- if systems | length == 0 -%}
        select null::text as system,
               {% for key in key_columns %}null::text as {{ key }}, {% endfor %}
               null::jsonb as payload, null::timestamptz as _loaded_at, null::bigint as _seq
        where false
    {%- endif -%}
    {%- for system in systems %}
        select '{{ system }}'::text as system, latest.*
        from ({{ latest_version(source(system, system ~ '__' ~ stream), key_columns) }}) as latest
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
