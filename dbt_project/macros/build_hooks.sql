{#
  Hooks of a full build that only change how fast it runs, never what it builds.

  analyze_after_build(): fresh planner statistics for a table just built (dbt_project.yml,
  post-hook of core, marts and publish). A new table has none until autovacuum gets to it,
  and the models built next from it were then planned on guesses (a million-row table taken
  for a few rows: nested loops over millions). Skipped on the narrow path, which rewrites a
  few rows.

  without_nested_loops(): for a model whose inputs PostgreSQL cannot estimate (listings
  unnested from JSON, chains of window functions), hash and merge joins only, for this
  model's transaction (pre-hook; `set local` ends with the build).
#}
{% macro analyze_after_build() -%}
    {%- if var('distrohub_narrow', none) is none -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro without_nested_loops() -%}
    {%- if var('distrohub_narrow', none) is none -%}
        set local enable_nestloop = off
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
