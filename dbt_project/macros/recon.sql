{#
  The age and SLA columns of a reconciliation row whose problem started at the timestamp
  `since` and may stay open `sla_hours` hours (SQL: a number, e.g.
  var('recon_sla_hours')['orders'], or a column), measured at as_of(): age_hours, age_bucket
  ('<1h', '1-4h', '4-24h', '1-3d', '>3d'; each bucket's lower bound inclusive), sla_hours,
  sla_status ('breached' once the age is strictly above the SLA; exactly at it is within_sla).
#}
{% macro recon_age_columns(since, sla_hours) -%}
    {%- set age = '(' ~ as_of() ~ ' - ' ~ since ~ ')' -%}
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

{# detected_at (the instant of the build, as_of()) and the age and SLA columns. #}
{% macro recon_sla_columns(since, sla_hours) -%}
    {{ as_of() }} as detected_at,
    {{ recon_age_columns(since, sla_hours) }}
{%- endmacro %}
