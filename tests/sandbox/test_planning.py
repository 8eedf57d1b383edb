"""The planning tool's CSV exports: written at start into the planning drop folder,
the same bytes for the same world, and every row matching the world."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from sandbox.planning import HEADERS, planning_files, write_planning_exports
from sandbox.testing import SandboxHandle
from sandbox.worldgen import generate_world


def _rows(folder: Path, export: str, date: str) -> list[dict[str, str]]:
    data = (folder / f"{export}_{date}.csv").read_bytes()
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    assert tuple(reader.fieldnames or ()) == HEADERS[export]
    return list(reader)


def test_the_exports_are_in_the_planning_drop_folder_and_match_the_world(
    sb: SandboxHandle,
) -> None:
    world = sb.runtime.sim.world
    folder = sb.dirs["planning:drop"]
    assert sb.env["DISTROHUB_PLANNING_DROP_DIR"] == str(folder)
    date = world.epoch.strftime("%Y%m%d")
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(
        f"{export}_{date}.csv" for export in HEADERS
    )

    policy = {r["sku"]: r for r in _rows(folder, "item_policy", date)}
    assert len(policy) == len(world.items)
    for item in world.items:
        row = policy[item.sku]
        assert int(row["case_pack"]) == item.case_pack
        assert int(row["safety_stock"]) == item.safety_stock
        assert row["drop_ship_supplier"] == (item.drop_ship_supplier or "")
        assert row["updated_at"] == "2026-03-02T00:00:00Z"
    assert any(r["drop_ship_supplier"] for r in policy.values())

    kits = _rows(folder, "kit_components", date)
    assert len(kits) == sum(len(it.kit_components) for it in world.items) > 0
    assert {(r["kit_sku"], r["component_sku"], int(r["quantity"])) for r in kits} == {
        (it.sku, c.sku, c.quantity) for it in world.items for c in it.kit_components
    }

    promotions = _rows(folder, "promotions", date)
    assert len(promotions) == sum(
        len(p.channels) * len(p.skus) * len(p.breaks) for p in world.promotions
    )
    by_code = {p.code: p for p in world.promotions}
    for row in promotions:
        promo = by_code[row["promotion_code"]]
        assert row["channel"] in promo.channels and row["sku"] in promo.skus
        brk = next(b for b in promo.breaks if b.min_quantity == int(row["min_quantity"]))
        assert Decimal(row["discount_percent"]) == brk.discount_percent

    contracts = _rows(folder, "contract_prices", date)
    assert len(contracts) == len(world.contract_prices)
    for row, cp in zip(contracts, world.contract_prices, strict=True):
        assert (row["customer"], row["sku"], int(row["min_quantity"])) == (
            cp.customer,
            cp.sku,
            cp.min_quantity,
        )
        assert Decimal(row["price"]) == cp.price and row["currency"] == cp.currency
        assert row["valid_from"] == cp.valid_from.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row["valid_to"] == (
            "" if cp.valid_to is None else cp.valid_to.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    assert any(r["valid_to"] == "" for r in contracts), "open-ended contract prices exist"


def test_the_exports_are_deterministic_and_rewriting_them_is_idempotent(tmp_path: Path) -> None:
    world = generate_world(seed=3, skus=40, orders_per_day=5, days=1)
    again = generate_world(seed=3, skus=40, orders_per_day=5, days=1)
    assert planning_files(world) == planning_files(again)

    written = write_planning_exports(world, tmp_path)
    assert len(written) == len(HEADERS)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert write_planning_exports(again, tmp_path) == []  # a restart rewrites nothing
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary files"
    for data, _ in before.values():
        text = data.decode("utf-8")
        assert text.endswith("\r\n") and "\r\n" in text
