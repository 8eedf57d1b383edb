{#
  The narrow path: a publish model and the models between it and a fast-moving source,
  rebuilt for a few keys (SKUs) instead of the whole catalog
  (dagster_project/publish/narrow.py; declared as `narrow:` on a target in
  dagster_project/defs/publish/defs.yaml).

  In a normal build nothing changes: narrow_scope() is `true`. When the project is compiled
  for the narrow path (`--vars '{distrohub_narrow: {column: sku, models: [...]}}'`), it is
  `<column> = any($1::text[])`, where $1 is the scope the worker binds at run time (a
  parameter, so the planner pushes it down to the indexes of raw and of the tables read), and
  the data tests of the narrowed models test only the scope's rows (get_where_subquery).
  Every input a narrowed model reads by SKU must carry narrow_scope(): the rows it leaves
  out are the rows of other SKUs, which the narrow path does not rewrite.
#}
{% macro narrow_scope(column) -%}
    {%- if var('distrohub_narrow', none) -%}
        {{ column }} = any($1::text[])
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# True when the project is compiled for the narrow path. #}
{% macro narrow_build() -%}
    {{- return(var('distrohub_narrow', none) is not none) -}}
{%- endmacro %}

{#
  dbt's own get_where_subquery (the relation a data test reads, with its `where` config),
  plus the narrow scope for the models the narrow path rebuilds.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set narrow = var('distrohub_narrow', none) -%}
    {%- set conditions = [] -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if narrow and relation.identifier in narrow['models'] -%}
        {%- do conditions.append(narrow_scope(narrow['column'])) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#
  Taken by every model the narrow path rewrites, inside its build transaction: a full build
  and a narrow rebuild of the same model never interleave, so neither overwrites the other
  with older rows. The narrow path takes the same lock (NARROW_LOCK in
  dagster_project/publish/narrow.py).
#}
{% macro narrow_lock() -%}
    select pg_advisory_xact_lock(72616, 1)
{%- endmacro %}

{#
  After a full build of a narrowed publish model: its data version (row count and the
  order-free sum of row hashes, as dagster_project/quality/checks.py computes it) for the new
  relation, in ops.model_versions. The narrow path keeps it current as it rewrites rows, so
  the version of the table after a narrow rebuild is known without reading the whole table.
#}
{% macro track_data_version() -%}
    insert into ops.model_versions as v (model, relation_oid, row_count, hash_sum, updated_at)
    select
        '{{ this.identifier }}',
        '{{ this }}'::regclass::oid,
        count(*),
        coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0),
        now()
    from {{ this }} as t
    on conflict (model) do update
        set relation_oid = excluded.relation_oid,
            row_count = excluded.row_count,
            hash_sum = excluded.hash_sum,
            updated_at = excluded.updated_at
{%- endmacro %}
