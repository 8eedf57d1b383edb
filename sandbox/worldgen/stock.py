"""Opening stock per item, location and status, and bin naming."""

from __future__ import annotations

from sandbox.world import Item, StockLevel, StockStatus, WorldParams
from sandbox.worldgen.rng import stream

STATUS_BINS = {
    StockStatus.DAMAGED: "DMG-01",
    StockStatus.QC: "QC-01",
    StockStatus.RETURNS_INSPECTION: "RET-01",
}


def pick_bin(item_idx: int, location: str) -> str:
    """The pick bin of an item in a location: aisle-bay-level, stable per item.

    The 3PL does not expose bins; it gets a single bin "3PL"."""
    if location == "3PL":
        return "3PL"
    aisle = chr(ord("A") + item_idx % 20)
    bay = (item_idx // 20) % 60 + 1
    level = (item_idx // 1200) % 6 + 1
    return f"{aisle}{bay:02d}-{level}"


def bin_for(item_idx: int, location: str, status: StockStatus) -> str:
    if status is StockStatus.SELLABLE or location == "3PL":
        return pick_bin(item_idx, location)
    return STATUS_BINS[status]


def generate_opening_stock(params: WorldParams, items: tuple[Item, ...]) -> tuple[StockLevel, ...]:
    """Physical stock at the epoch, before allocations are subtracted.

    Stocked items are held in both DCs (5% of them out of stock in each) and
    about 30% also at the 3PL; a few hold damaged, QC or returns-inspection
    units (3PL: sellable and damaged only).
    """
    rng = stream(params.seed, "opening-stock")
    out: list[StockLevel] = []
    for it in items:
        if not it.is_stocked:
            continue
        scale = 24 if it.case_pack == 1 else it.case_pack * 4
        for loc in ("DC-EAST", "DC-WEST", "3PL"):
            if loc == "3PL" and rng.random() > 0.3:
                continue
            if rng.random() < 0.05:
                continue  # out of stock here
            out.append(
                StockLevel(it.sku, loc, StockStatus.SELLABLE, rng.randint(1, 40) * scale // 4 + 1)
            )
            r = rng.random()
            if r < 0.03:
                out.append(StockLevel(it.sku, loc, StockStatus.DAMAGED, rng.randint(1, 6)))
            elif r < 0.07 and loc != "3PL":
                out.append(
                    StockLevel(
                        it.sku, loc, StockStatus.QC, rng.randint(1, 4) * max(1, it.case_pack)
                    )
                )
            elif r < 0.09 and loc != "3PL":
                out.append(
                    StockLevel(it.sku, loc, StockStatus.RETURNS_INSPECTION, rng.randint(1, 3))
                )
    return tuple(out)
