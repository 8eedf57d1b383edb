{#
  `amount` rounded half up to the step of `currency` (var currency_rounding,
  e.g. {USD: 0.01, CAD: 0.01, JPY: 1}; 0.01 for a currency not listed).
  PostgreSQL's round(numeric) rounds halves away from zero: half up for the
  positive amounts prices are. Numeric in, numeric out (never float).
#}
{% macro round_money(amount, currency) -%}
    {%- set steps = var('currency_rounding', {'USD': 0.01, 'CAD': 0.01, 'JPY': 1}) -%}
    {%- set step -%}
        (case {{ currency }}
        {%- for code, value in steps.items() %} when '{{ code }}' then {{ value }}::numeric{% endfor %}
        else 0.01::numeric end)
    {%- endset -%}
    (round(({{ amount }})::numeric / {{ step }}) * {{ step }})
{%- endmacro %}

{#
  The currency of a price list: Tryton 8.2 price lists carry none, so it is
  read from the code's suffix (LIST-CAD, WHOLESALE-USD) when that suffix is a
  currency of var currency_rounding, else the ERP company currency
  (var company_currency, default USD).
#}
{% macro price_list_currency(code_column) -%}
    {%- set steps = var('currency_rounding', {'USD': 0.01, 'CAD': 0.01, 'JPY': 1}) -%}
    coalesce(
        (case substring({{ code_column }} from '-([A-Z]{3})$')
        {%- for code in steps %} when '{{ code }}' then '{{ code }}'{% endfor %}
        end),
        '{{ var('company_currency', 'USD') }}'
    )
{%- endmacro %}
