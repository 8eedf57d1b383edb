{# "Now" for ages, validity windows and feed freshness: var('as_of') when set (unit tests and
   rebuilds as of an instant pin it), else the environment variable DISTROHUB_AS_OF (a run
   through Dagster passes no dbt vars), else the database's now(). #}
{% macro as_of() -%}
    {%- set pinned = var('as_of', none) or env_var('DISTROHUB_AS_OF', '') or none -%}
    {%- if pinned -%}
        '{{ pinned }}'::timestamptz
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}
