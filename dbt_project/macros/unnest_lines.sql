{#
  One row per element of a JSON array in each payload of ``relation`` (the
  latest versions from ``union_latest``): the system, the whole payload as
  ``header``, the element as ``line``, its 1-based ``line_number``, _loaded_at.
  ``path`` is a Postgres text-array path, e.g. '{document,lines}'.
#}
{% macro unnest_lines(relation, path) -%}
    select
        {{ relation }}.system,
        {{ relation }}.payload as header,
        line.value as line,
        line.ordinality as line_number,
        {{ relation }}._loaded_at
    from {{ relation }}
    cross join lateral jsonb_array_elements(
        coalesce({{ relation }}.payload #> '{{ path }}', '[]'::jsonb)
    ) with ordinality as line
{%- endmacro %}
