{# The hub stock status (sellable, damaged, qc, returns_inspection) of a 3PL inventory status in `column`. #}
{% macro tpl_stock_status(column) -%}
    case upper({{ column }})
        when 'AVAILABLE' then 'sellable'
        when 'DAMAGED' then 'damaged'
        when 'QC' then 'qc'
        when 'HOLD' then 'qc'
        when 'RETURNS' then 'returns_inspection'
        else lower({{ column }})
    end
{%- endmacro %}
