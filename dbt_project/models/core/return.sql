with

returns as (

    select * from {{ ref('stg_wms__returns') }}

),

orders as (

    select * from {{ ref('order') }}

),

final as (

    select
        returns.system || ':' || returns.rma as return_key,
        returns.rma,
        returns.system,
        returns.location,
        returns.order_ref,
        orders.order_key,
        returns.shipment_id,
        returns.state,
        returns.line_count,
        returns.quantity,
        returns.outcome,
        returns.received_at
    from returns
    left join orders on orders.order_key = returns.order_ref

)

select * from final
