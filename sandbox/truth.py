"""Ground truth and received state, as plain JSON-ready dicts.

`build_truth` says what is really true in the world now (for tests and
reconciliation checks); `build_received` lists what clients pushed into each
system. Sections of the truth (ask for a subset with ``sections``):

* ``clock``: simulated now and hours played; ``params``: the world arguments;
* ``stock``: on-hand per SKU, location and status (never negative);
* ``committed``: per SKU and location, ``allocated`` + ``picking`` (= committed);
* ``orders``: every storefront order (key, id, state, lines);
* ``releases``: orders released to each warehouse, line by line;
* ``shipments``: every shipment (WMS, 3PL, supplier drop-ship), tracker status;
* ``purchase_orders``: each PO's acknowledged, shipped, received, invoiced state;
* ``receipts``, ``returns``: goods received and returns with their state;
* ``supplier_availability``: last 846 quantity per drop-ship SKU;
* ``discrepancies``: what the scenario planted; ``faults``: what fault
  profiles injected; ``unknown_sku_lines``; ``storefront_price_edits``;
  ``changes``: records changed through the control API;
* ``storefront_levels``: each store's inventory level per listed SKU and each location
  it is stocked at, as its API shows it (``available`` may be below zero: orders taken
  beyond it);
* ``storefront_prices``: each store's variant price and compare-at price per listed
  SKU, as its API shows them;
* ``mailbox``: every message the sandbox's mail relay accepted, in arrival order (envelope,
  headers, text body; ``sandbox.smtp``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.ids import shopify_id
from sandbox.timestamps import iso

if TYPE_CHECKING:
    from sandbox.simulation import Simulation

SECTIONS = (
    "clock",
    "params",
    "stock",
    "committed",
    "orders",
    "releases",
    "shipments",
    "purchase_orders",
    "receipts",
    "returns",
    "supplier_availability",
    "discrepancies",
    "faults",
    "unknown_sku_lines",
    "storefront_price_edits",
    "changes",
    "storefront_levels",
    "storefront_prices",
    "mailbox",
)


def _iso(ts: int | None) -> str | None:
    return None if ts is None else iso(ts).replace("+00:00", "Z")


def build_truth(sim: Simulation, sections: set[str] | None = None) -> dict[str, Any]:
    want = set(SECTIONS) if not sections else set(sections)
    unknown = want - set(SECTIONS)
    if unknown:
        raise ValueError(
            f"unknown truth section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}"
        )
    items = sim.items
    out: dict[str, Any] = {}
    if "clock" in want:
        out["clock"] = {"now": _iso(sim.now), "hours": sim.hour, "epoch": _iso(sim.epoch_ts)}
    if "params" in want:
        p = sim.world.params
        out["params"] = {
            "seed": p.seed,
            "skus": p.skus,
            "orders_per_day": p.orders_per_day,
            "days": p.days,
            "scenario": p.scenario,
            "faults": list(sim.faults.profiles),
            "auto_release": sim.auto_release,
        }
    if "stock" in want:
        out["stock"] = [
            {"sku": items[i].sku, "location": loc, "status": str(st), "quantity": q}
            for i, loc, st, q in sim.ledger.rows()
        ]
    if "committed" in want:
        acc: dict[tuple[int, str], list[int]] = {}
        for a in sim.allocations.values():
            if a.state in ("allocated", "picking"):
                row = acc.setdefault((a.item, a.location), [0, 0])
                row[0 if a.state == "allocated" else 1] += a.quantity
        for rel in sim.releases.values():  # 3PL commitments are per 940 line
            if rel.location == "3PL" and rel.status not in ("shipped", "short_shipped"):
                for ln in rel.lines:
                    if ln.allocated and not ln.shipped:
                        acc.setdefault((ln.item, "3PL"), [0, 0])[0] += ln.allocated
        out["committed"] = [
            {
                "sku": items[i].sku,
                "location": loc,
                "allocated": v[0],
                "picking": v[1],
                "committed": v[0] + v[1],
            }
            for (i, loc), v in sorted(acc.items())
        ]
    if "orders" in want:
        rows = []
        for code, store in sim.stores.items():
            for o in store.orders:
                rows.append(
                    {
                        "key": o.key,
                        "channel": code,
                        "id": shopify_id("order", code, o.seq),
                        "name": f"#{o.number}",
                        "customer": sim.customers[o.customer].code,
                        "created_at": _iso(o.created),
                        "updated_at": _iso(o.updated),
                        "currency": o.currency,
                        "total": _money(o.total_cents),
                        "financial_status": o.financial_status,
                        "fulfillment_status": o.fulfillment_status,
                        "cancelled": o.cancelled_at is not None,
                        "released_to": o.released_to,
                        "lines": [
                            {
                                "line_no": ln.line_no,
                                "sku": ln.sku,
                                "quantity": ln.quantity,
                                "unit": ln.unit,
                                "base_quantity": ln.base_quantity,
                                "unit_price": _money(ln.unit_cents),
                                "discount": _money(ln.discount_cents),
                                "fulfilled": ln.fulfilled,
                            }
                            for ln in o.lines
                        ],
                    }
                )
        out["orders"] = rows
    if "releases" in want:
        out["releases"] = [
            {
                "location": rel.location,
                "release_id": rel.release_id,
                "order_ref": rel.order_ref,
                "source": rel.source,
                "status": rel.status,
                "received_at": _iso(rel.received_at),
                "shipment_id": rel.shipment_id,
                "lines": [
                    {
                        "line_ref": ln.line_ref,
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "allocated": ln.allocated,
                        "shipped": ln.shipped,
                        "status": ln.status,
                    }
                    for ln in rel.lines
                ],
            }
            for rel in sim.releases.values()
        ]
    if "shipments" in want:
        out["shipments"] = [
            {
                "id": sh.id,
                "location": sh.location,
                "source": sh.source,
                "order_ref": sh.order_ref,
                "release_id": sh.release_id,
                "carrier": sh.carrier,
                "tracking_number": sh.tracking_number,
                "tracker_id": sh.tracker_id,
                "tracker_status": sim.trackers[sh.tracker_id].status,
                "shipped_at": _iso(sh.shipped_at),
                "lines": [
                    {
                        "line_ref": ln.line_ref,
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "ordered": ln.ordered,
                    }
                    for ln in sh.lines
                ],
            }
            for sh in sim.shipments.values()
        ]
    if "purchase_orders" in want:
        out["purchase_orders"] = [
            {
                "number": po.number,
                "supplier": po.supplier,
                "location": po.location,
                "drop_ship": po.drop_ship,
                "source": po.source,
                "state": po.state,
                "asn_id": po.asn_id,
                "invoice_no": po.invoice_no,
                "received": po.received,
                "expected_at": _iso(po.arrive_at),
                "lines": [
                    {
                        "line_no": ln.line_no,
                        "sku": ln.sku,
                        "ordered": ln.quantity,
                        "unit_cost": _money(ln.unit_cost_cents),
                        "ack_code": ln.ack_code,
                        "acknowledged": ln.acked,
                        "shipped": ln.shipped,
                    }
                    for ln in po.lines
                ],
            }
            for po in sim.purchase_orders.values()
        ]
    if "receipts" in want:
        out["receipts"] = [
            {
                "id": r.id,
                "location": r.location,
                "po_number": r.po_number,
                "asn_id": r.asn_id,
                "received_at": _iso(r.received_at),
                "qc_done": r.qc_done,
                "lines": [
                    {"sku": ln.sku, "expected": ln.expected, "received": ln.received}
                    for ln in r.lines
                ],
            }
            for r in sim.receipts
        ]
    if "returns" in want:
        out["returns"] = [
            {
                "rma": r.id,
                "location": r.location,
                "order_ref": r.order_ref,
                "shipment_id": r.shipment_id,
                "state": r.state,
                "received_at": _iso(r.received_at),
                "lines": [{"sku": s, "quantity": q} for s, _, q in r.lines],
                "outcome": [{"sku": s, "quantity": q, "status": st} for s, q, st in r.outcome],
            }
            for r in sim.returns
        ]
    if "supplier_availability" in want:
        out["supplier_availability"] = [
            {"supplier": sup, "sku": items[i].sku, "quantity": q}
            for (sup, i), q in sorted(sim.availability.items())
        ]
    if "discrepancies" in want:
        out["discrepancies"] = [
            {"kind": d.kind, "key": d.key, "systems": list(d.systems), "detail": d.detail}
            for d in sim.world.discrepancies
        ]
    if "faults" in want:
        out["faults"] = list(sim.faults.log)
    if "unknown_sku_lines" in want:
        out["unknown_sku_lines"] = list(sim.unknown_sku_lines)
    if "storefront_price_edits" in want:
        out["storefront_price_edits"] = list(sim.price_edits)
    if "changes" in want:
        out["changes"] = list(sim.changes)
    if "storefront_levels" in want:
        out["storefront_levels"] = [
            {
                "channel": code,
                "sku": items[i].sku,
                "location": loc,
                "available": avail,
                "updated_at": _iso(at),
            }
            for code, store in sim.stores.items()
            for i in sorted(store.listed)
            for loc in store.stocked_at(i, items[i])
            for avail, at in (sim.store_available(store, i, loc),)
        ]
    if "storefront_prices" in want:
        out["storefront_prices"] = [
            {
                "channel": code,
                "sku": items[i].sku,
                "price": _money(price),
                "compare_at_price": None if compare is None else _money(compare),
            }
            for code, store in sim.stores.items()
            for i in sorted(store.listed)
            for price, compare, _ in (sim.variant_price(store, i),)
        ]
    if "mailbox" in want:
        out["mailbox"] = list(sim.mailbox)
    return out


def build_received(sim: Simulation) -> dict[str, Any]:
    """What clients pushed into each system, in arrival order."""
    shopify = {
        code: {
            "inventory_level_sets": list(store.level_sets),
            "variant_price_updates": list(store.price_updates),
            "fulfillments": list(store.fulfillment_requests),
            "webhook_subscriptions": list(store.webhooks),
        }
        for code, store in sim.stores.items()
    }
    wms: dict[str, Any] = {"DC-EAST": {"releases": []}, "DC-WEST": {"releases": []}}
    for r in sim.releases_received:
        wms[r["location"]]["releases"].append(r)
    suppliers = {
        s.code: {"files": sim.received_files.get(f"supplier:{s.code}", [])}
        for s in sim.world.suppliers
    }
    return {
        "shopify": shopify,
        "wms": wms,
        "3pl": {"files": sim.received_files.get("3pl", [])},
        "suppliers": suppliers,
    }


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
