"""Put the pieces together into a `World`, planting discrepancies if asked."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sandbox.world import (
    BookStock,
    Currency,
    Discrepancy,
    ErpSalesOrder,
    Unit,
    World,
    WorldParams,
)
from sandbox.worldgen.catalog import generate_items
from sandbox.worldgen.history import History, generate_history
from sandbox.worldgen.ordering import OrderMaker
from sandbox.worldgen.parties import (
    CHANNELS,
    LOCATIONS,
    PAYMENT_TERMS,
    SUPPLIERS,
    generate_customers,
)
from sandbox.worldgen.pricing import (
    USD_CAD,
    PriceBook,
    generate_contract_prices,
    generate_price_lists,
    generate_promotions,
)
from sandbox.worldgen.purchasing import generate_open_purchase_orders
from sandbox.worldgen.rng import stream
from sandbox.worldgen.stock import generate_opening_stock


def assemble_world(params: WorldParams) -> World:
    items = generate_items(params)
    customers = generate_customers(params)
    price_lists = generate_price_lists(params, items)
    contracts = generate_contract_prices(params, items, customers)
    promotions = generate_promotions(params, items)
    stock = generate_opening_stock(params, items)
    book = PriceBook(items, customers, price_lists, contracts, promotions)
    maker = OrderMaker(params.seed, items, customers, CHANNELS, book)
    history = generate_history(params, items, customers, maker, stock)
    purchase_orders = generate_open_purchase_orders(params, items, SUPPLIERS)
    book_stock: dict[tuple[str, str], int] = {}
    for s in stock:
        book_stock[(s.sku, s.location)] = book_stock.get((s.sku, s.location), 0) + s.quantity
    erp_stock = [BookStock(sku, loc, q) for (sku, loc), q in book_stock.items()]
    erp_orders = list(history.erp_orders)
    discrepancies: list[Discrepancy] = []
    if params.scenario == "discrepancies":
        discrepancies = _plant(params, history, erp_orders, erp_stock, purchase_orders)
    return World(
        params=params,
        currencies=(Currency("USD", "US dollar"), Currency("CAD", "Canadian dollar")),
        fx_rates={"USD/CAD": USD_CAD},
        units=(Unit("EA", "Each"), Unit("CS", "Case")),
        items=items,
        locations=LOCATIONS,
        channels=CHANNELS,
        payment_terms=PAYMENT_TERMS,
        customers=customers,
        suppliers=SUPPLIERS,
        price_lists=price_lists,
        contract_prices=contracts,
        promotions=promotions,
        opening_stock=stock,
        erp_stock=tuple(erp_stock),
        opening_allocations=history.allocations,
        history_orders=history.orders,
        erp_sales_orders=tuple(erp_orders),
        open_purchase_orders=purchase_orders,
        discrepancies=tuple(discrepancies),
    )


def _plant(
    params, history: History, erp_orders: list[ErpSalesOrder], erp_stock: list[BookStock], pos
):
    """Plant one discrepancy of each kind; return their descriptions."""
    rng = stream(params.seed, "discrepancies")
    out: list[Discrepancy] = []
    by_ref = {o.reference: i for i, o in enumerate(erp_orders)}
    live = [o for o in history.orders if o.state != "cancelled"]
    shipped_dc = [
        o for o in history.orders if o.state == "fulfilled" and o.ship_from.startswith("DC-")
    ]
    chosen: set[str] = set()

    def pick(pool):
        pool = [o for o in pool if o.key not in chosen]
        if not pool:
            return None
        o = pool[rng.randrange(len(pool))]
        chosen.add(o.key)
        return o

    o = pick(shipped_dc)
    if o is not None:
        i = by_ref[o.key]
        erp_orders[i] = replace(erp_orders[i], state="processing", shipment_state="waiting")
        out.append(
            Discrepancy(
                "shipment_unposted",
                o.key,
                ("wms", "erp"),
                {"wms": "shipped", "erp": "shipment waiting", "location": o.ship_from},
            )
        )
    o = pick(live)
    if o is not None:
        i = by_ref[o.key]
        first = erp_orders[i].lines[0]
        bumped = replace(first, unit_price=first.unit_price + Decimal("1.00"))
        new_total = erp_orders[i].total + first.quantity * Decimal("1.00")
        erp_orders[i] = replace(
            erp_orders[i], lines=(bumped, *erp_orders[i].lines[1:]), total=new_total
        )
        out.append(
            Discrepancy(
                "order_total_mismatch",
                o.key,
                ("storefront", "erp"),
                {"storefront": str(o.total), "erp": str(new_total)},
            )
        )
    o = pick(live)
    if o is not None:
        erp_orders.append(erp_orders[by_ref[o.key]])
        out.append(
            Discrepancy(
                "order_duplicated_in_erp",
                o.key,
                ("storefront", "erp"),
                {"storefront": "1", "erp": "2"},
            )
        )
    o = pick(live)
    if o is not None:
        erp_orders.pop(by_ref[o.key])  # last, so earlier indexes stay valid
        out.append(
            Discrepancy(
                "order_missing_in_erp",
                o.key,
                ("storefront", "erp"),
                {"storefront": str(o.total), "erp": "missing"},
            )
        )
    dc_rows = [i for i, b in enumerate(erp_stock) if b.location == "DC-EAST"]
    if dc_rows:
        i = dc_rows[rng.randrange(len(dc_rows))]
        b = erp_stock[i]
        delta = rng.choice((-3, -2, 4, 5))
        erp_stock[i] = replace(b, quantity=max(0, b.quantity + delta))
        out.append(
            Discrepancy(
                "onhand_mismatch",
                f"{b.sku}@{b.location}",
                ("wms", "erp"),
                {"wms": str(b.quantity), "erp": str(erp_stock[i].quantity)},
            )
        )
    shipped_pos = [p for p in pos if p.state == "shipped"] or list(pos)
    if shipped_pos:
        po = shipped_pos[rng.randrange(len(shipped_pos))]
        line = po.lines[0]
        out.append(
            Discrepancy(
                "invoice_po_mismatch",
                po.number,
                ("supplier", "erp"),
                {
                    "sku": line.sku,
                    "po_unit_cost": str(line.unit_cost),
                    "invoice_unit_cost": str(line.unit_cost + Decimal("0.50")),
                },
            )
        )
    return out
