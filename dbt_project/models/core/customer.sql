with

parties as (

    select * from {{ ref('stg_tryton__parties') }}

),

party_categories as (

    select * from {{ ref('stg_tryton__party_categories') }}

),

storefront_customers as (

    select * from {{ ref('stg_shopify__customers') }}

),

erp_customers as (

    select *
    from parties
    where customer_payment_term_id is not null

),

credit_limit_categories as (

    select
        categories.category_id,
        split_part(categories.name, ' ', 1) as currency,
        split_part(categories.name, ' ', 2)::numeric as amount
    from party_categories as categories
    inner join party_categories as parents on parents.category_id = categories.parent_id
    where parents.name = 'Credit limit'
      and categories.name ~ '^[A-Z]{3} [0-9]+(\.[0-9]+)?$'

),

credit_limits as (

    select distinct on (parties.party_id)
        parties.party_id,
        credit_limit_categories.amount as credit_limit,
        credit_limit_categories.currency as credit_limit_currency
    from parties
    cross join lateral jsonb_array_elements_text(
        coalesce(parties.category_ids, '[]'::jsonb)
    ) as party_category (category_id)
    inner join credit_limit_categories
        on credit_limit_categories.category_id = party_category.category_id::bigint
    order by parties.party_id, credit_limit_categories.amount

),

storefront_tags as (

    select
        storefront_customers.*,
        string_to_array(replace(coalesce(tags, ''), ' ', ''), ',') as tag_list
    from storefront_customers

),

linked as (

    select
        erp_customers.party_id,
        erp_customers.party_code,
        storefront_tags.system,
        storefront_tags.customer_id
    from erp_customers
    inner join storefront_tags on erp_customers.party_code = any(storefront_tags.tag_list)

),

final as (

    select
        coalesce(erp_customers.party_code, storefront_tags.system || ':' || storefront_tags.customer_id)
            as customer_key,
        erp_customers.party_id,
        erp_customers.party_code,
        coalesce(
            erp_customers.name,
            nullif(trim(concat_ws(' ', storefront_tags.first_name, storefront_tags.last_name)), '')
        ) as name,
        coalesce(erp_customers.is_active, storefront_tags.state <> 'disabled') as is_active,
        erp_customers.customer_payment_term_id as payment_term_id,
        erp_customers.customer_payment_term_name as payment_term_name,
        erp_customers.sale_price_list_id,
        erp_customers.receivable,
        credit_limits.credit_limit,
        credit_limits.credit_limit_currency,
        {{ channel_code('storefront_tags.system') }} as channel,
        storefront_tags.system as storefront_system,
        storefront_tags.customer_id as storefront_customer_id,
        storefront_tags.email,
        storefront_tags.currency,
        storefront_tags.tax_exempt as is_tax_exempt,
        storefront_tags.default_country_code as country_code,
        case
            when erp_customers.party_id is not null and storefront_tags.customer_id is not null
                then 'code'
            when erp_customers.party_id is not null then 'erp_only'
            else 'storefront_only'
        end as link
    from erp_customers
    left join credit_limits on credit_limits.party_id = erp_customers.party_id
    full outer join linked on linked.party_id = erp_customers.party_id
    full outer join storefront_tags
        on storefront_tags.system = linked.system
        and storefront_tags.customer_id = linked.customer_id

)

select * from final
