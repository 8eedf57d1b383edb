{# Fails on each combination of the columns that occurs more than once (dbt_utils' test, without the package). #}
{% test unique_combination_of_columns(model, combination) %}

with

grouped as (

    select {{ combination | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1

)

select * from grouped

{% endtest %}
