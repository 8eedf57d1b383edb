{# The declared shipment matching rules (settings.shipment_matching of each system's block,
   dagster_project/ingest/matching.py) as rows: system, rule_number (1 first), pattern. #}
{% macro shipment_matching_rules() -%}
    {%- set rules = [] -%}
    {%- for system, patterns in distrohub_shipment_matching().items() -%}
        {%- for pattern in patterns -%}
            {%- do rules.append((system, loop.index, pattern)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rules | length == 0 -%}
        select null::text as system, null::integer as rule_number, null::text as pattern
        where false
    {%- else -%}
        select system, rule_number, pattern
        from (
            values
            {%- for system, number, pattern in rules %}
            ('{{ system }}'::text, {{ number }}, '{{ pattern | replace("'", "''") }}'::text)
            {{- "," if not loop.last }}
            {%- endfor %}
        ) as rules (system, rule_number, pattern)
    {%- endif -%}
{%- endmacro %}
