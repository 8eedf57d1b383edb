{#
  The price rule (docs/architecture.md, Pricing): contract price > customer price list >
  active promotion > list price, with validity windows and quantity breaks,
  rounded by currency. One row per price book x SKU x currency x validity
  window x quantity break; see customer_prices.yml. The books cost what the
  rules cost, not customers x SKUs: each price list, channel and customer price
  group (marts.customer_price_groups: customers sharing a price list, channel
  and currency) is priced once for every SKU; a customer only for the SKUs it
  has contract prices on (its group's rules for that SKU plus its contracts).
#}

{{ config(meta={'freshness_sla_minutes': 180}, pre_hook="{{ without_nested_loops() }}") }}  {#- freshness SLA: hourly #}

with

items as (

    select * from {{ ref('item') }}

),

item_policy as (

    select * from {{ ref('stg_planning__item_policy') }}

),

customer_groups as (

    select * from {{ ref('customer_price_groups') }}

),

channels as (

    select * from {{ ref('channel') }}

),

price_rules as (

    select * from {{ ref('price_rule') }}

),

planning_contracts as (

    select * from {{ ref('stg_planning__contract_prices') }}

),

promotions as (

    select * from {{ ref('stg_planning__promotions') }}

),

case_packs as (

    select distinct on (sku)
        sku,
        case_pack
    from item_policy
    order by sku asc, updated_at desc nulls last, loaded_at desc

),

price_lists as (

    select distinct
        price_list_id,
        price_list_code,
        {{ price_list_currency('price_list_code') }} as currency
    from price_rules
    where price_list_code not like 'CONTRACT %'
        and coalesce(is_price_list_active, true)

),

-- fixed prices per SKU; Tryton's catch-all `unit_price` line (no SKU) is the
-- list price, i.e. "no price in this list": the rule falls through
price_list_lines as (

    select
        price_list_id,
        price_list_code,
        sku,
        greatest(min_quantity, 1)::integer as min_quantity,
        fixed_price as price
    from price_rules
    where price_list_code not like 'CONTRACT %'
        and coalesce(is_price_list_active, true)
        and sku is not null
        and fixed_price is not null

),

-- contracts: the planning feed (with validity dates) first; the ERP's
-- [CONTRACT <customer>] lists (no dates: open ended) for a customer, SKU and
-- break the feed does not hold
contracts_from_planning as (

    select
        customer_code,
        sku,
        greatest(min_quantity, 1) as min_quantity,
        price,
        currency,
        valid_from,
        valid_to,
        'planning' as rule_source
    from planning_contracts

),

contracts_from_erp as (

    select
        substring(price_rules.price_list_code from '^CONTRACT (.+)$') as customer_code,
        price_rules.sku,
        greatest(price_rules.min_quantity, 1)::integer as min_quantity,
        price_rules.fixed_price as price,
        null::text as currency,
        null::timestamptz as valid_from,
        null::timestamptz as valid_to,
        'erp' as rule_source
    from price_rules
    where price_rules.price_list_code like 'CONTRACT %'
        and coalesce(price_rules.is_price_list_active, true)
        and price_rules.sku is not null
        and price_rules.fixed_price is not null
        and not exists (
            select 1
            from contracts_from_planning
            where contracts_from_planning.customer_code
                = substring(price_rules.price_list_code from '^CONTRACT (.+)$')
                and contracts_from_planning.sku = price_rules.sku
                and contracts_from_planning.min_quantity = greatest(price_rules.min_quantity, 1)
        )

),

contracts as (

    select * from contracts_from_planning
    union all
    select * from contracts_from_erp

),

-- the price owners: customers with contracts or a price list, their price
-- groups, every price list, every storefront channel (its declared price list
-- is its list price). A group's book is what each of its customers pays for a
-- SKU it has no contract price on
customer_owners as (

    select
        'customer' as owner_type,
        customer_key as owner_key,
        price_list_id,
        price_list_code,
        channel,
        currency
    from customer_groups

),

group_owners as (

    select distinct
        'customer_group' as owner_type,
        price_group as owner_key,
        price_list_id,
        price_list_code,
        channel,
        currency
    from customer_groups

),

price_list_owners as (

    select
        'price_list' as owner_type,
        price_list_code as owner_key,
        price_list_id,
        price_list_code,
        null::text as channel,
        currency
    from price_lists

),

channel_owners as (

    select
        'channel' as owner_type,
        channels.channel as owner_key,
        price_lists.price_list_id,
        channels.price_list_code,
        channels.channel,
        coalesce(channels.currency, price_lists.currency) as currency
    from channels
    left join price_lists on price_lists.price_list_code = channels.price_list_code

),

owners as (

    select * from customer_owners
    union all
    select * from group_owners
    union all
    select * from price_list_owners
    union all
    select * from channel_owners

),

-- the owners priced for every SKU (a customer is priced through its group)
book_owners as (

    select * from owners
    where owner_type <> 'customer'

),

-- the list price per currency: the list named by var list_price_list
-- (LIST-USD, LIST-CAD), else the ERP item list price in the company currency
list_price_lines as (

    select
        price_lists.currency,
        price_list_lines.price_list_code,
        price_list_lines.sku,
        price_list_lines.min_quantity,
        price_list_lines.price
    from price_list_lines
    inner join price_lists on price_lists.price_list_id = price_list_lines.price_list_id
    where price_list_lines.price_list_code
        = replace('{{ var('list_price_list', 'LIST-{currency}') }}', '{currency}', price_lists.currency)

),

list_prices as (

    select
        currency,
        price_list_code as rule_reference,
        'erp' as rule_source,
        sku,
        min_quantity,
        price
    from list_price_lines

    union all

    select
        '{{ var('company_currency', 'USD') }}' as currency,
        'ITEM-LIST-PRICE' as rule_reference,
        'erp' as rule_source,
        items.sku,
        1 as min_quantity,
        items.list_price as price
    from items
    where items.list_price is not null
        and not exists (
            select 1
            from list_price_lines
            where list_price_lines.sku = items.sku
                and list_price_lines.currency = '{{ var('company_currency', 'USD') }}'
        )

),

-- every candidate price of an owner: rank orders the rules (lowest wins);
-- the owner's own list ranks 20 for a customer or customer group (its price
-- list) and 40 for a price list or channel (there it is the list price, below
-- promotions)
contract_candidates as (

    select
        owners.owner_type,
        owners.owner_key,
        contracts.sku,
        owners.currency,
        10 as rule_rank,
        'CONTRACT ' || contracts.customer_code as rule_reference,
        contracts.rule_source,
        contracts.min_quantity,
        coalesce(contracts.valid_from, '-infinity'::timestamptz) as valid_from,
        coalesce(contracts.valid_to, 'infinity'::timestamptz) as valid_to,
        contracts.price,
        null::numeric as discount_percent
    from owners
    inner join contracts
        on contracts.customer_code = owners.owner_key
        and coalesce(contracts.currency, owners.currency) = owners.currency
    where owners.owner_type = 'customer'

),

price_list_candidates as (

    select
        owners.owner_type,
        owners.owner_key,
        price_list_lines.sku,
        owners.currency,
        case when owners.owner_type = 'customer_group' then 20 else 40 end as rule_rank,
        price_list_lines.price_list_code as rule_reference,
        'erp' as rule_source,
        price_list_lines.min_quantity,
        '-infinity'::timestamptz as valid_from,
        'infinity'::timestamptz as valid_to,
        price_list_lines.price,
        null::numeric as discount_percent
    from book_owners as owners
    inner join price_list_lines on price_list_lines.price_list_id = owners.price_list_id

),

promotion_candidates as (

    select
        owners.owner_type,
        owners.owner_key,
        promotions.sku,
        owners.currency,
        30 as rule_rank,
        promotions.promotion_code as rule_reference,
        'planning' as rule_source,
        greatest(promotions.min_quantity, 1) as min_quantity,
        promotions.valid_from,
        promotions.valid_to,
        null::numeric as price,
        promotions.discount_percent
    from book_owners as owners
    inner join promotions on promotions.channel = owners.channel
    where owners.owner_type in ('customer_group', 'channel')

),

list_price_candidates as (

    select
        owners.owner_type,
        owners.owner_key,
        list_prices.sku,
        owners.currency,
        50 as rule_rank,
        list_prices.rule_reference,
        list_prices.rule_source,
        list_prices.min_quantity,
        '-infinity'::timestamptz as valid_from,
        'infinity'::timestamptz as valid_to,
        list_prices.price,
        null::numeric as discount_percent
    from book_owners as owners
    inner join list_prices on list_prices.currency = owners.currency

),

book_candidates as (

    select * from price_list_candidates
    union all
    select * from promotion_candidates
    union all
    select * from list_price_candidates

),

-- a customer's own book: only the SKUs (in its currency) it has contract
-- prices on, where its contracts compete with its group's rules for the SKU
customer_skus as (

    select distinct owner_key, sku, currency
    from contract_candidates

),

customer_candidates as (

    select * from contract_candidates

    union all

    select
        'customer' as owner_type,
        customer_skus.owner_key,
        book_candidates.sku,
        book_candidates.currency,
        book_candidates.rule_rank,
        book_candidates.rule_reference,
        book_candidates.rule_source,
        book_candidates.min_quantity,
        book_candidates.valid_from,
        book_candidates.valid_to,
        book_candidates.price,
        book_candidates.discount_percent
    from customer_skus
    inner join customer_groups on customer_groups.customer_key = customer_skus.owner_key
    inner join book_candidates
        on book_candidates.owner_type = 'customer_group'
        and book_candidates.owner_key = customer_groups.price_group
        and book_candidates.sku = customer_skus.sku
        and book_candidates.currency = customer_skus.currency

),

candidates as (

    select * from book_candidates
    union all
    select * from customer_candidates

),

-- validity windows: cut each owner x SKU x currency timeline at every date a
-- candidate starts or ends; inside a window the set of valid rules is fixed.
-- Most timelines hold only open-ended rules (list prices, price lists): such a
-- timeline is one window, (-infinity, infinity), and skips the cutting below
-- (the same windows, without sorting every candidate's dates)
dated_timelines as (

    select distinct owner_type, owner_key, sku, currency
    from candidates
    where valid_from is distinct from '-infinity'::timestamptz
        or valid_to is distinct from 'infinity'::timestamptz

),

dated_candidates as (

    select candidates.*
    from candidates
    where (owner_type, owner_key, sku, currency) in (
        select owner_type, owner_key, sku, currency from dated_timelines
    )

),

boundaries as (

    select owner_type, owner_key, sku, currency, '-infinity'::timestamptz as window_from
    from dated_candidates
    union
    select owner_type, owner_key, sku, currency, valid_from
    from dated_candidates
    union
    select owner_type, owner_key, sku, currency, valid_to
    from dated_candidates
    where valid_to <> 'infinity'::timestamptz

),

windows as (

    select
        owner_type,
        owner_key,
        sku,
        currency,
        window_from,
        coalesce(
            lead(window_from) over (
                partition by owner_type, owner_key, sku, currency order by window_from
            ),
            'infinity'::timestamptz
        ) as window_to
    from boundaries

),

valid_candidates as (

    select
        windows.window_from,
        windows.window_to,
        dated_candidates.*
    from windows
    inner join dated_candidates
        on dated_candidates.owner_type = windows.owner_type
        and dated_candidates.owner_key = windows.owner_key
        and dated_candidates.sku = windows.sku
        and dated_candidates.currency = windows.currency
        and dated_candidates.valid_from <= windows.window_from
        and dated_candidates.valid_to >= windows.window_to

    union all

    select
        '-infinity'::timestamptz as window_from,
        'infinity'::timestamptz as window_to,
        candidates.*
    from candidates
    where candidates.owner_type is not null
        and candidates.owner_key is not null
        and candidates.sku is not null
        and candidates.currency is not null
        and not exists (
            select 1
            from dated_timelines
            where dated_timelines.owner_type = candidates.owner_type
                and dated_timelines.owner_key = candidates.owner_key
                and dated_timelines.sku = candidates.sku
                and dated_timelines.currency = candidates.currency
        )

),

-- quantity breaks: every min_quantity of a rule valid in the window
breaks as (

    select distinct
        owner_type,
        owner_key,
        sku,
        currency,
        window_from,
        window_to,
        min_quantity as quantity
    from valid_candidates

),

-- per break and rule: the line with the highest min_quantity not above the
-- break (per promotion and reference, so two promotions compete below)
applicable as (

    select
        breaks.quantity,
        valid_candidates.*,
        row_number() over (
            partition by
                breaks.owner_type, breaks.owner_key, breaks.sku, breaks.currency,
                breaks.window_from, breaks.quantity, valid_candidates.rule_rank,
                case when valid_candidates.rule_rank = 30 then valid_candidates.rule_reference end
            order by valid_candidates.min_quantity desc, valid_candidates.price asc nulls last
        ) as break_rank
    from breaks
    inner join valid_candidates
        on valid_candidates.owner_type = breaks.owner_type
        and valid_candidates.owner_key = breaks.owner_key
        and valid_candidates.sku = breaks.sku
        and valid_candidates.currency = breaks.currency
        and valid_candidates.window_from = breaks.window_from
        and valid_candidates.min_quantity <= breaks.quantity

),

applicable_lines as (

    select * from applicable where break_rank = 1

),

-- the list price at each break: its list price rule's line (one at most per break)
list_price_at_break as (

    select
        applicable_lines.*,
        max(
            case when rule_rank = 50 then {{ round_money('price', 'currency') }} end
        ) over (
            partition by owner_type, owner_key, sku, currency, window_from, quantity
        ) as list_price
    from applicable_lines

),

-- a promotion discounts the list price; the deepest valid discount wins
priced as (

    select
        owner_type,
        owner_key,
        sku,
        currency,
        window_from,
        window_to,
        quantity,
        rule_rank,
        rule_reference,
        rule_source,
        discount_percent,
        list_price,
        case
            when rule_rank = 30
                then {{ round_money('list_price * (100 - discount_percent) / 100', 'currency') }}
            else {{ round_money('price', 'currency') }}
        end as unit_price
    from list_price_at_break

),

winners as (

    select
        priced.*,
        row_number() over (
            partition by owner_type, owner_key, sku, currency, window_from, quantity
            order by
                rule_rank asc,
                discount_percent desc nulls last,
                rule_reference asc
        ) as winner_rank
    from priced
    where unit_price is not null

),

-- each break's upper bound, so a reader can look a quantity up
bounded as (

    select
        winners.*,
        lead(quantity) over (
            partition by owner_type, owner_key, sku, currency, window_from order by quantity
        ) - 1 as max_quantity
    from winners
    where winner_rank = 1

),

final as (

    select
        bounded.owner_type,
        bounded.owner_key,
        owners.price_list_code as owner_price_list_code,
        bounded.sku,
        bounded.currency,
        bounded.quantity as min_quantity,
        bounded.max_quantity,
        nullif(bounded.window_from, '-infinity'::timestamptz) as valid_from,
        nullif(bounded.window_to, 'infinity'::timestamptz) as valid_to,
        (
            bounded.window_from <= {{ as_of() }}
            and {{ as_of() }} < bounded.window_to
        ) as is_current,
        bounded.unit_price,
        case_packs.case_pack,
        case
            when case_packs.case_pack > 1 then bounded.unit_price * case_packs.case_pack
        end as case_price,
        case bounded.rule_rank
            when 10 then 'contract'
            when 20 then 'customer_price_list'
            when 30 then 'promotion'
            else 'list_price'
        end as rule,
        bounded.rule_reference,
        bounded.rule_source,
        bounded.discount_percent,
        bounded.list_price
    from bounded
    inner join owners
        on owners.owner_type = bounded.owner_type
        and owners.owner_key = bounded.owner_key
    left join case_packs on case_packs.sku = bounded.sku

)

select * from final
