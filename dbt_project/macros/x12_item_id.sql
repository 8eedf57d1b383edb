{# The first X12 item id of ``line`` (a parsed document line) with ``qualifier`` (SK, VP, UP…). #}
{% macro x12_item_id(line, qualifier) -%}
    (select i->>'value' from jsonb_array_elements({{ line }}->'ids') as i
      where i->>'qualifier' = '{{ qualifier }}' limit 1)
{%- endmacro %}
