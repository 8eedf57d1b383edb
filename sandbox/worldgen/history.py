"""The pre-epoch history: storefront orders, their allocations, the ERP's sales
orders made from them.

Orders are placed over `HISTORY_DAYS` before the epoch (at most 100 a day, so
the ERP seed stays small at any scale). By their age at the epoch they are
shipped (older than 30 h), being picked (10-30 h), allocated (3-10 h) or not
yet released (under 3 h); 2% are cancelled. Allocations never exceed the
sellable stock left after earlier allocations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sandbox.world import (
    HISTORY_DAYS,
    Allocation,
    Customer,
    ErpSalesOrder,
    Item,
    Order,
    OrderLine,
    StockLevel,
    StockStatus,
    WorldParams,
)
from sandbox.worldgen.ordering import DraftOrder, OrderMaker
from sandbox.worldgen.rng import stream
from sandbox.worldgen.stock import pick_bin

ZONE_LOCATIONS = {
    "EAST": ("DC-EAST", "DC-WEST", "3PL"),
    "WEST": ("DC-WEST", "DC-EAST", "3PL"),
    "CENTRAL": ("3PL", "DC-EAST", "DC-WEST"),
}

MAX_HISTORY_ORDERS_PER_DAY = 100


def _dec(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@dataclass(slots=True)
class History:
    orders: tuple[Order, ...]
    allocations: tuple[Allocation, ...]
    erp_orders: tuple[ErpSalesOrder, ...]


def explode(
    items: tuple[Item, ...], sku_index: dict[str, int], item_idx: int, base_qty: int
) -> list[tuple[int, int]]:
    """Stocked (item index, base quantity) pairs a line needs: kits become
    their components; drop-ship items need nothing from own stock."""
    item = items[item_idx]
    if item.is_drop_ship:
        return []
    if item.is_kit:
        return [(sku_index[c.sku], c.quantity * base_qty) for c in item.kit_components]
    return [(item_idx, base_qty)]


def generate_history(
    params: WorldParams,
    items: tuple[Item, ...],
    customers: tuple[Customer, ...],
    maker: OrderMaker,
    stock: tuple[StockLevel, ...],
) -> History:
    rng = stream(params.seed, "history")
    sku_index = {it.sku: i for i, it in enumerate(items)}
    free: dict[tuple[int, str], int] = {}
    for s in stock:
        if s.status is StockStatus.SELLABLE:
            free[(sku_index[s.sku], s.location)] = s.quantity
    per_day = min(params.orders_per_day, MAX_HISTORY_ORDERS_PER_DAY)
    total = per_day * HISTORY_DAYS
    numbers = {"B2B": 1000, "D2C": 1000, "MARKETPLACE": 1000}
    orders: list[Order] = []
    allocations: list[Allocation] = []
    erp: list[ErpSalesOrder] = []
    span = HISTORY_DAYS * 24 * 3600
    times = sorted(rng.randrange(span) for _ in range(total))
    for offset in times:
        created = params.epoch - timedelta(seconds=span - offset)
        age_h = (span - offset) / 3600
        channel = maker.pick_channel(rng)
        draft: DraftOrder = maker.make(rng, channel, created)
        if not draft.lines:
            continue
        numbers[channel] += 1
        cust = customers[draft.customer_idx]
        lines = tuple(
            OrderLine(
                n + 1,
                items[ln.item_idx].sku,
                ln.quantity,
                ln.unit,
                _dec(ln.unit_cents),
                _dec(ln.discount_cents),
            )
            for n, ln in enumerate(draft.lines)
        )
        key = f"{channel}#{numbers[channel]}"
        cancelled = rng.random() < 0.02
        if cancelled:
            stage = "cancelled"
        elif age_h > 30:
            stage = "shipped"
        elif age_h > 10:
            stage = "picking"
        elif age_h > 3:
            stage = "allocated"
        else:
            stage = "new"
        ship_from = ZONE_LOCATIONS[cust.shipping_zone][0]
        needs = [
            pair
            for ln in draft.lines
            for pair in explode(items, sku_index, ln.item_idx, ln.base_quantity)
        ]
        if stage in ("picking", "allocated"):
            for loc in ZONE_LOCATIONS[cust.shipping_zone]:
                if all(free.get((i, loc), 0) >= q for i, q in _merge(needs)):
                    ship_from = loc
                    for i, q in _merge(needs):
                        free[(i, loc)] -= q
                    break
            else:
                stage = "new"  # nowhere to allocate: stays unreleased (backorder)
        if stage in ("picking", "allocated"):
            no = 0
            for n, ln in enumerate(draft.lines):
                for i, q in explode(items, sku_index, ln.item_idx, ln.base_quantity):
                    no += 1
                    allocations.append(
                        Allocation(
                            key, n + 1, items[i].sku, ship_from, q, stage, pick_bin(i, ship_from)
                        )
                    )
        state = {"cancelled": "cancelled", "shipped": "fulfilled"}.get(stage, "open")
        financial = "paid" if channel != "B2B" else ("pending" if stage != "shipped" else "paid")
        if cancelled:
            financial = "voided" if channel == "B2B" else "refunded"
        order = Order(
            channel=channel,
            number=numbers[channel],
            customer=cust.code,
            created_at=created,
            currency=draft.currency,
            lines=lines,
            shipping=_dec(draft.shipping_cents),
            tax=_dec(draft.tax_cents),
            state=state,
            ship_from=ship_from,
            financial_status=financial,
            service_level=draft.service_level,
        )
        orders.append(order)
        erp.append(
            ErpSalesOrder(
                reference=key,
                channel=channel,
                customer=cust.code,
                currency=draft.currency,
                order_date=created,
                lines=lines,
                total=order.total,
                state={"cancelled": "cancelled", "shipped": "done"}.get(stage, "processing"),
                shipment_state="done" if stage == "shipped" else "waiting",
                warehouse=ship_from,
            )
        )
    return History(tuple(orders), tuple(allocations), tuple(erp))


def _merge(needs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    acc: dict[int, int] = {}
    for i, q in needs:
        acc[i] = acc.get(i, 0) + q
    return sorted(acc.items())
