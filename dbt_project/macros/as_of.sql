{# The run's two readings of "now", each one value for every model of a run.

   run_clock(): the hub's own clock at the run's start (var run_started_at, which the Dagster
   dbt asset passes; else the database's now() for a bare dbt call). Feed ages and outbound
   waits compare it with the hub's own load and send times, which are on that clock.

   as_of(): business time, for ages of the sources' records, validity windows and horizons:
   var('as_of') when set (unit tests, rebuilds as of an instant), else the environment
   variable DISTROHUB_AS_OF (the demo sets it to the sandbox world's clock), else
   run_clock(). In production both are the run's start. #}
{% macro run_clock() -%}
    {%- set started = var('run_started_at', none) -%}
    {%- if started -%}
        '{{ started }}'::timestamptz
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}

{% macro as_of() -%}
    {%- set pinned = var('as_of', none) or env_var('DISTROHUB_AS_OF', '') or none -%}
    {%- if pinned -%}
        '{{ pinned }}'::timestamptz
    {%- else -%}
        {{ run_clock() }}
    {%- endif -%}
{%- endmacro %}
