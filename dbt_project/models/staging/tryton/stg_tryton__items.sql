with

source as (

    {{ union_latest('tryton', 'items', ['id']) }}

),

final as (

    select
        (payload->>'id')::bigint as item_id,
        payload->>'code' as sku,
        payload->>'name' as name,
        payload->>'type' as item_type,
        (payload->>'template')::bigint as template_id,
        (payload->>'active')::boolean as is_active,
        (payload->>'salable')::boolean as is_salable,
        (payload->>'purchasable')::boolean as is_purchasable,
        (payload->>'default_uom')::bigint as default_uom_id,
        payload#>>'{"default_uom.",symbol}' as default_uom_symbol,
        (payload->>'sale_uom')::bigint as sale_uom_id,
        (payload->>'purchase_uom')::bigint as purchase_uom_id,
        coalesce((payload->>'list_price')::numeric, (payload->>'list_price_used')::numeric) as list_price,
        (payload->>'cost_price')::numeric as cost_price,
        payload->>'cost_price_method' as cost_price_method,
        (payload->>'create_date')::timestamptz as created_at,
        coalesce((payload->>'write_date')::timestamptz, (payload->>'create_date')::timestamptz) as updated_at,
        _loaded_at as loaded_at
    from source

)

select * from final
