"""The world generator: deterministic, consistent, and the same through the simulation."""

from __future__ import annotations

import hashlib
import json
import pickle

from sandbox.simulation import Simulation
from sandbox.world import StockStatus
from sandbox.worldgen import generate_world


def _digest(obj: object) -> str:
    return hashlib.sha256(pickle.dumps(obj, protocol=5)).hexdigest()


def test_same_seed_same_world_byte_for_byte() -> None:
    a = generate_world(seed=11, skus=200, orders_per_day=50, days=3, scenario="discrepancies")
    b = generate_world(seed=11, skus=200, orders_per_day=50, days=3, scenario="discrepancies")
    assert repr(a) == repr(b)
    assert _digest(a.items) == _digest(b.items)
    assert _digest(a.opening_stock) == _digest(b.opening_stock)
    assert _digest(a.erp_sales_orders) == _digest(b.erp_sales_orders)
    c = generate_world(seed=12, skus=200, orders_per_day=50, days=3, scenario="discrepancies")
    assert repr(a.items) != repr(c.items)


def test_world_is_consistent() -> None:
    w = generate_world(seed=3, skus=500, orders_per_day=100, days=2, scenario="clean")
    assert w.check() == []
    skus = {it.sku for it in w.items}
    assert len(w.items) == 500
    kits = [it for it in w.items if it.is_kit]
    assert kits and all(
        c.sku in skus and not w.item(c.sku).is_kit for k in kits for c in k.kit_components
    )
    assert any(it.is_drop_ship for it in w.items)
    assert {loc.code for loc in w.locations} == {"DC-EAST", "DC-WEST", "3PL"}
    assert {ch.code for ch in w.channels} == {"B2B", "D2C", "MARKETPLACE"}
    assert {c.code for c in w.currencies} == {"USD", "CAD"}
    assert len(w.suppliers) == 3
    b2b = [c for c in w.customers if c.kind == "b2b"]
    assert b2b and all(c.credit_limit > 0 and c.payment_term != "PREPAID" for c in b2b)
    assert all(s.quantity > 0 for s in w.opening_stock)
    assert {s.status for s in w.opening_stock} == set(StockStatus)
    assert any(p.breaks and len(p.breaks) > 1 for p in w.promotions)
    assert w.contract_prices and w.price_lists and w.open_purchase_orders
    # clean: the ERP agrees with the storefront history and the WMS
    assert w.discrepancies == ()
    assert {o.reference for o in w.erp_sales_orders} == {o.key for o in w.history_orders}


def test_discrepancies_are_planted_and_listed() -> None:
    w = generate_world(seed=3, skus=60, orders_per_day=40, days=2, scenario="discrepancies")
    kinds = {d.kind for d in w.discrepancies}
    assert kinds == {
        "order_missing_in_erp",
        "order_duplicated_in_erp",
        "order_total_mismatch",
        "shipment_unposted",
        "onhand_mismatch",
        "invoice_po_mismatch",
    }
    refs = [o.reference for o in w.erp_sales_orders]
    by_kind = {d.kind: d for d in w.discrepancies}
    assert by_kind["order_missing_in_erp"].key not in refs
    assert refs.count(by_kind["order_duplicated_in_erp"].key) == 2
    sku, loc = by_kind["onhand_mismatch"].key.split("@")
    physical = sum(s.quantity for s in w.opening_stock if s.sku == sku and s.location == loc)
    book = next(b.quantity for b in w.erp_stock if b.sku == sku and b.location == loc)
    assert physical != book


def test_simulation_is_deterministic_and_chunking_does_not_matter() -> None:
    w = generate_world(seed=5, skus=80, orders_per_day=80, days=2, scenario="clean")
    one = Simulation(w, auto_release=True)
    one.advance(48)
    two = Simulation(
        generate_world(seed=5, skus=80, orders_per_day=80, days=2, scenario="clean"),
        auto_release=True,
    )
    two.advance(20)
    two.advance(28)
    a = json.dumps(one.truth(), sort_keys=True)
    b = json.dumps(two.truth(), sort_keys=True)
    assert a == b
    assert [f.data for f in one.files] == [f.data for f in two.files]
    assert [(e.type, e.data) for e in one.events["DC-EAST"]] == [
        (e.type, e.data) for e in two.events["DC-EAST"]
    ]


def test_truth_obeys_the_stock_rules() -> None:
    sim = Simulation(generate_world(seed=9, skus=60, orders_per_day=150, days=3), auto_release=True)
    sim.advance(72)
    truth = sim.truth({"stock", "committed", "orders", "shipments"})
    assert all(row["quantity"] > 0 for row in truth["stock"])
    sellable = {
        (r["sku"], r["location"]): r["quantity"]
        for r in truth["stock"]
        if r["status"] == "sellable"
    }
    for row in truth["committed"]:
        assert row["committed"] == row["allocated"] + row["picking"]
        assert row["committed"] <= sellable.get((row["sku"], row["location"]), 0), row
    known = {it.sku for it in sim.world.items}
    assert all(ln["sku"] in known for o in truth["orders"] for ln in o["lines"])
    assert truth["shipments"], "two days of auto-released orders ship something"


def test_truth_lists_every_store_level_and_orders_move_them() -> None:
    sim = Simulation(generate_world(seed=9, skus=30, orders_per_day=150, days=1))
    before = {
        (r["channel"], r["sku"], r["location"]): r["available"]
        for r in sim.truth({"storefront_levels"})["storefront_levels"]
    }
    # every listed SKU at the two DCs and the 3PL; a drop-ship one at its supplier's only
    stocked = sum(
        1 if sim.items[i].is_drop_ship else 3 for store in sim.stores.values() for i in store.listed
    )
    assert len(before) == stocked
    assert {loc for _, _, loc in before} >= {"DC-EAST", "DC-WEST", "3PL"}
    sim.advance(24)
    after = {
        (r["channel"], r["sku"], r["location"]): r["available"]
        for r in sim.truth({"storefront_levels"})["storefront_levels"]
    }
    assert after.keys() == before.keys()
    # nobody set a level: a day of orders only took units off
    assert all(after[k] <= before[k] for k in before)
    assert sum(before.values()) > sum(after.values())


def test_a_large_world_is_generated() -> None:
    # how fast is the bench's business (bench/world.py builds 100,000 SKUs); here: it completes
    w = generate_world(seed=1, skus=20_000, orders_per_day=1000, days=1)
    assert len(w.items) == 20_000
