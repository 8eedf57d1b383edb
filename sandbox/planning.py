"""The planning tool's daily CSV exports: master data no other system holds.

A distributor keeps per-SKU policy (case pack, safety stock, drop-ship
supplier), kit bills of materials, promotions and contract prices with their
validity dates in a planning/PIM tool that exports CSV. The sandbox writes those
exports from the world into the ``planning`` drop folder when it starts:

* ``item_policy_YYYYMMDD.csv``: ``sku, case_pack, safety_stock,
  drop_ship_supplier, updated_at`` (one row per item; ``drop_ship_supplier``
  empty when none; ``updated_at`` = the epoch);
* ``kit_components_YYYYMMDD.csv``: ``kit_sku, component_sku, quantity`` (base
  units of the component per kit);
* ``promotions_YYYYMMDD.csv``: ``promotion_code, name, channel, sku,
  min_quantity, discount_percent, valid_from, valid_to`` (one row per promotion,
  channel, SKU and quantity break);
* ``contract_prices_YYYYMMDD.csv``: ``customer, sku, min_quantity, price,
  currency, valid_from, valid_to`` (``valid_from`` inclusive, ``valid_to``
  exclusive, empty = open ended).

``YYYYMMDD`` is the world's epoch date; times are ISO-8601 UTC
(``2026-03-02T00:00:00Z``). UTF-8, a header row, comma separated, CRLF rows
(the csv module's default). The same world gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sandbox.world import World

HEADERS: dict[str, tuple[str, ...]] = {
    "item_policy": ("sku", "case_pack", "safety_stock", "drop_ship_supplier", "updated_at"),
    "kit_components": ("kit_sku", "component_sku", "quantity"),
    "promotions": (
        "promotion_code",
        "name",
        "channel",
        "sku",
        "min_quantity",
        "discount_percent",
        "valid_from",
        "valid_to",
    ),
    "contract_prices": (
        "customer",
        "sku",
        "min_quantity",
        "price",
        "currency",
        "valid_from",
        "valid_to",
    ),
}


def _time(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _rows(world: World, export: str) -> Iterable[Sequence[object]]:
    if export == "item_policy":
        for it in world.items:
            yield (
                it.sku,
                it.case_pack,
                it.safety_stock,
                it.drop_ship_supplier or "",
                _time(world.epoch),
            )
    elif export == "kit_components":
        for it in world.items:
            for comp in it.kit_components:
                yield (it.sku, comp.sku, comp.quantity)
    elif export == "promotions":
        for promo in world.promotions:
            for channel in promo.channels:
                for sku in promo.skus:
                    for brk in promo.breaks:
                        yield (
                            promo.code,
                            promo.name,
                            channel,
                            sku,
                            brk.min_quantity,
                            _decimal(brk.discount_percent),
                            _time(promo.valid_from),
                            _time(promo.valid_to),
                        )
    elif export == "contract_prices":
        for cp in world.contract_prices:
            yield (
                cp.customer,
                cp.sku,
                cp.min_quantity,
                _decimal(cp.price),
                cp.currency,
                _time(cp.valid_from),
                _time(cp.valid_to),
            )
    else:
        raise ValueError(f"unknown planning export {export!r}; known: {', '.join(HEADERS)}")


def file_name(world: World, export: str) -> str:
    """The export's file name, dated by the world's epoch."""
    return f"{export}_{world.epoch.astimezone(UTC):%Y%m%d}.csv"


def planning_files(world: World) -> dict[str, bytes]:
    """Every export of ``world``: file name → CSV bytes (deterministic)."""
    files: dict[str, bytes] = {}
    for export, header in HEADERS.items():
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(_rows(world, export))
        files[file_name(world, export)] = buf.getvalue().encode("utf-8")
    return files


def write_planning_exports(world: World, folder: Path) -> list[Path]:
    """Write the exports into ``folder`` atomically (``.name.part``, then renamed).

    A file already there with the same bytes is left alone, so a restarted
    sandbox does not touch what it wrote before (nor wake the hub's sensor)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, data in planning_files(world).items():
        target = folder / name
        if target.is_file() and target.read_bytes() == data:
            continue
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written.append(target)
    return written
