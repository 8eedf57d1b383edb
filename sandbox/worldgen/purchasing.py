"""Open purchase orders at the epoch."""

from __future__ import annotations

from datetime import timedelta

from sandbox.world import Item, PurchaseOrder, PurchaseOrderLine, Supplier, WorldParams
from sandbox.worldgen.rng import stream


def generate_open_purchase_orders(
    params: WorldParams, items: tuple[Item, ...], suppliers: tuple[Supplier, ...]
) -> tuple[PurchaseOrder, ...]:
    """Per supplier, max(2, min(days, 6)) open POs to DC-EAST, DC-WEST or the 3PL.

    Every expected date is after the epoch. A PO whose ship date (expected
    date minus one day) is before the epoch is ``shipped`` (its 856 was sent;
    it is in transit); otherwise ``confirmed``.
    """
    rng = stream(params.seed, "purchase-orders")
    out: list[PurchaseOrder] = []
    number = 100000
    per_supplier = max(2, min(params.days, 6))
    locations = ("DC-EAST", "DC-WEST", "3PL")
    for sup in suppliers:
        pool = [it for it in items if it.supplier == sup.code and it.is_stocked]
        if not pool:
            continue
        for k in range(per_supplier):
            number += 1
            ordered = params.epoch - timedelta(
                days=rng.randint(0, sup.lead_time_days - 1), hours=rng.randint(1, 23)
            )
            expected = ordered + timedelta(days=sup.lead_time_days)
            lines = tuple(
                PurchaseOrderLine(
                    n + 1, it.sku, rng.randint(2, 20) * max(it.case_pack, 6), it.cost_price
                )
                for n, it in enumerate(rng.sample(pool, min(len(pool), rng.randint(2, 8))))
            )
            shipped = expected - timedelta(days=1) < params.epoch
            out.append(
                PurchaseOrder(
                    number=f"PO-{number}",
                    supplier=sup.code,
                    location=locations[k % 3],
                    order_date=ordered,
                    expected_date=expected,
                    currency=sup.currency,
                    lines=lines,
                    state="shipped" if shipped else "confirmed",
                )
            )
    return tuple(out)
