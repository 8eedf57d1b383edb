{#
  Reconciliation helpers (models/marts/recon_*).

  recon_now(): the moment ages are measured to: var as_of (an ISO timestamp,
  so unit tests and replays can pin it), else the environment variable
  DISTROHUB_RECON_AS_OF (the same, for a run through Dagster), else the
  database clock at build time.
#}
{% macro recon_now() -%}
    {%- set as_of = var('as_of', none) or env_var('DISTROHUB_RECON_AS_OF', '') or none -%}
    coalesce({{ "'" ~ as_of ~ "'" if as_of else 'null' }}::timestamptz, now())
{%- endmacro %}

{#
  The SLA columns every recon row carries, for a problem that started at the
  timestamp `since` and may stay open `sla_hours` hours (SQL: a number, e.g.
  var('recon_sla_hours')['orders'], or a column): detected_at, age_hours,
  age_bucket ('<1h', '1-4h', '4-24h', '1-3d', '>3d'; each bucket's lower bound
  inclusive), sla_hours, sla_status ('breached' once the age is strictly above
  the SLA; exactly at the SLA is still within_sla).
#}
{% macro recon_sla_columns(since, sla_hours) -%}
    {%- set age = '(' ~ recon_now() ~ ' - ' ~ since ~ ')' -%}
    {{ recon_now() }} as detected_at,
    round(greatest(extract(epoch from {{ age }}), 0) / 3600.0, 2)::numeric as age_hours,
    case
        when {{ age }} < interval '1 hour' then '<1h'
        when {{ age }} < interval '4 hours' then '1-4h'
        when {{ age }} < interval '24 hours' then '4-24h'
        when {{ age }} < interval '72 hours' then '1-3d'
        else '>3d'
    end::text as age_bucket,
    ({{ sla_hours }})::numeric as sla_hours,
    case
        when {{ age }} > ({{ sla_hours }}) * interval '1 hour' then 'breached'
        else 'within_sla'
    end::text as sla_status
{%- endmacro %}
