{#
  The latest live version of each key of a raw table: raw keeps one row per
  distinct payload of a key (see dagster_project/ingest/landing.py); the one with
  the highest _seq is what the system says now, unless it is a tombstone.
#}
{% macro latest_version(source_relation, key_columns) -%}
    select *
    from (
        select
            r.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }} order by r._seq desc
            ) as _version_rank
        from {{ source_relation }} as r
    ) as versions
    where _version_rank = 1
      and not (payload ? '_deleted')
{%- endmacro %}
