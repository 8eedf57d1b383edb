{#
  Age and SLA columns of a reconciliation row whose discrepancy exists since
  `since_column`, measured at as_of(): age_hours, age_bucket ('<1h', '1-4h', '4-24h', '1-3d', '>3d'),
  sla_hours and sla_status ('within_sla' | 'breached').
#}
{% macro recon_age_columns(since_column, sla_hours) -%}
    round((extract(epoch from ({{ as_of() }} - {{ since_column }})) / 3600)::numeric, 2) as age_hours,
        case
            when {{ as_of() }} - {{ since_column }} < interval '1 hour' then '<1h'
            when {{ as_of() }} - {{ since_column }} < interval '4 hours' then '1-4h'
            when {{ as_of() }} - {{ since_column }} < interval '24 hours' then '4-24h'
            when {{ as_of() }} - {{ since_column }} < interval '72 hours' then '1-3d'
            else '>3d'
        end as age_bucket,
        ({{ sla_hours }})::numeric as sla_hours,
        case
            when {{ as_of() }} - {{ since_column }} <= ({{ sla_hours }}) * interval '1 hour'
                then 'within_sla'
            else 'breached'
        end as sla_status
{%- endmacro %}
