{# "Now" for ages, validity windows and feed freshness: var('as_of') when set (unit tests and
   rebuilds as of an instant pin it), else the database's now(). #}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        '{{ var("as_of") }}'::timestamptz
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}
