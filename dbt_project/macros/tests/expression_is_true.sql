{# Fails on each row where the boolean SQL expression is not true (a row invariant). #}
{% test expression_is_true(model, expression) %}

with

failing as (

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)

)

select * from failing

{% endtest %}
