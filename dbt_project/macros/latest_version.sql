{#
  The latest live version of each key of a raw table: raw keeps one row per
  distinct payload of a key (see dagster_project/ingest/landing.py); the one with
  the highest _seq is what the system says now, unless it is a tombstone.

  Written as "no newer version of the key" (an anti join) rather than a row_number()
  window: the same rows, but PostgreSQL merges it along raw's unique index on the key
  columns without sorting, estimates its size, and applies a reader's filter on the
  payload (a test's `where x is null`) before the join instead of after a window over
  the whole table.
#}
{% macro latest_version(source_relation, key_columns) -%}
    select r.*
    from {{ source_relation }} as r
    where not (r.payload ? '_deleted')
      and not exists (
          select 1
          from {{ source_relation }} as newer
          where {% for key in key_columns %}newer.{{ key }} = r.{{ key }} and {% endfor %}newer._seq > r._seq
      )
{%- endmacro %}
