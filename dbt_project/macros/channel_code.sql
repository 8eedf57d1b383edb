{# The hub channel code (B2B, D2C, MARKETPLACE) of the storefront system named in `column` (shopify_<channel>). #}
{% macro channel_code(column) -%}
    upper(replace({{ column }}, 'shopify_', ''))
{%- endmacro %}
