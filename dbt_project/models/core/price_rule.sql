with

price_list_lines as (

    select * from {{ ref('stg_tryton__price_list_lines') }}

),

price_lists as (

    select * from {{ ref('stg_tryton__price_lists') }}

),

final as (

    select
        price_list_lines.price_list_line_id,
        price_list_lines.price_list_id,
        substring(price_lists.name from '^\[([^]]+)\]') as price_list_code,
        price_lists.name as price_list_name,
        price_lists.is_active as is_price_list_active,
        price_lists.tax_included,
        price_list_lines.sequence,
        price_list_lines.sku,
        price_list_lines.category_id,
        coalesce(price_list_lines.min_quantity, 0) as min_quantity,
        price_list_lines.formula,
        case
            when price_list_lines.formula ~ '^\s*[0-9]+(\.[0-9]+)?\s*$'
                then trim(price_list_lines.formula)::numeric
        end as fixed_price,
        price_list_lines.updated_at
    from price_list_lines
    inner join price_lists on price_lists.price_list_id = price_list_lines.price_list_id

)

select * from final
