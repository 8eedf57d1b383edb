"""The availability and price rules of docs/architecture.md, computed in Python from the
sandbox's truth, never by calling the models.

What is really true in the sandbox (stock by status, warehouse commitments, releases, purchase
orders in transit, the drop-ship suppliers' availability, what each store shows) and the
world's item master (case packs, safety stock, kits, drop-ship suppliers, which store lists
what), with the channel policy declared in the systems' YAML, give the figure each rule
should publish. Two inputs come from the hub, each for a reason the truth cannot supply:

* where order routing placed each open, unreleased line (``marts.order_routing``): routing is
  the hub's decision; :func:`open_demand` gives what it must place, checked on its own;
* the 3PL's latest daily stock snapshot as the hub loaded it (``staging.stg_3pl__stock``): the
  truth is "now", the 3PL reports once a day, so its figure starts from that snapshot;
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import psycopg

from dagster_project.ingest.registry import declared_systems
from dagster_project.transform.policy import channel_policy, location_policy
from sandbox.world import World
from sandbox.worldgen import generate_world

#: release and release-line states that commit nothing more (closed short, rejected, shipped)
DONE = {"cancelled", "rejected", "shipped", "short_shipped", "closed_short"}

TRUTH_SECTIONS = [
    "clock",
    "params",
    "stock",
    "committed",
    "orders",
    "releases",
    "shipments",
    "purchase_orders",
    "supplier_availability",
    "storefront_levels",
    "storefront_prices",
]


def rows(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[dict]:
    cur = conn.execute(query, params)
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def policies():
    """The channels' and locations' declared policies, by channel code and location."""
    channels, locations = {}, {}
    for name, (config, _) in declared_systems().items():
        if (channel := channel_policy(name, config.settings)) is not None:
            channels[channel.code] = channel
        if (location := location_policy(name, config.settings)) is not None:
            locations[location.location] = location
    return channels, locations


def released_orders(truth: dict) -> set[str]:
    """Orders given to a warehouse, as far as the hub can know: a WMS shows its releases; the
    3PL's 940s the hub sent itself; and any order with a confirmed shipment (a WMS shipment, a
    945 whatever reference it carries), which is never open demand again."""
    return (
        {r["order_ref"] for r in truth["releases"] if r["location"] != "3PL"}
        | {r["order_ref"] for r in truth["releases"] if r["source"] == "940"}
        | {s["order_ref"] for s in truth["shipments"] if s["order_ref"]}
    )


def open_demand(truth: dict, released: set[str]) -> dict[str, int]:
    """Base units still to ship per order line of every order not cancelled or released."""
    expected: dict[str, int] = defaultdict(int)
    for order in truth["orders"]:
        if order["cancelled"] or order["key"] in released:
            continue
        for line in order["lines"]:
            # a line's base units still to ship (a case line counts its case pack)
            per_unit = line["base_quantity"] // line["quantity"]
            left = (line["quantity"] - line["fulfilled"]) * per_unit
            if left > 0:
                expected[f"{order['key']}/{line['line_no']}"] += left
    return dict(expected)


def instant(text: str) -> datetime:
    """A truth timestamp (ISO 8601, ``Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def world_of(truth: dict) -> World:
    """The world the sandbox serves, generated again from the truth's ``params``."""
    params = truth["params"]
    return generate_world(
        seed=params["seed"],
        skus=params["skus"],
        orders_per_day=params["orders_per_day"],
        days=params["days"],
        scenario=params["scenario"],
    )


def expected_availability(
    conn: psycopg.Connection, truth: dict, world: World
) -> dict[tuple[str, str, str], int]:
    """The published figure per (SKU, location, channel), in the channel's selling units.

    Committed follows an order's whole life (docs/architecture.md, Sellable inventory): open
    lines where routing placed them; released lines a WMS has not allocated (accepted,
    backordered); allocations and picks; a 940 the 3PL's latest snapshot does not reflect
    (received after it): its lines, or, once shipped, what shipped (still in that snapshot's
    on-hand). An order released after the hub built its figures (its release is in the truth,
    not in the routing's input) is counted by its release, not again by its routing.
    """
    channels, locations = policies()
    own = sorted(locations)
    items = {it.sku: it for it in world.items}

    sellable: dict[tuple[str, str], int] = defaultdict(int)
    for row in truth["stock"]:
        if row["status"] == "sellable" and row["location"] != "3PL":
            sellable[(row["sku"], row["location"])] += row["quantity"]
    committed: dict[tuple[str, str], int] = defaultdict(int)
    for row in truth["committed"]:
        if row["location"] != "3PL":
            committed[(row["sku"], row["location"])] += row["committed"]
    for release in truth["releases"]:
        if release["location"] == "3PL" or release["status"] in DONE:
            continue
        for line in release["lines"]:
            if line["status"] not in DONE:
                left = line["quantity"] - max(line["allocated"], line["shipped"])
                committed[(line["sku"], release["location"])] += max(left, 0)
    incoming: dict[tuple[str, str], int] = defaultdict(int)
    for po in truth["purchase_orders"]:
        if po["drop_ship"] or po["received"] or not po.get("asn_id"):
            continue
        if po["location"] not in locations or po["location"] == "3PL":
            continue  # the 3PL sends no receipt advice: its inbound is not counted
        for line in po["lines"]:
            incoming[(line["sku"], po["location"])] += line["shipped"] or 0
    supplier_available = {
        (a["supplier"], a["sku"]): a["quantity"] for a in truth["supplier_availability"]
    }

    # the 3PL: its latest snapshot, plus the 940s it received after that snapshot
    snapshot_at = None
    for row in rows(
        conn,
        "select sku, location, sum(on_hand) filter (where status = 'AVAILABLE') as on_hand,"
        " sum(committed) as committed, max(snapshot_at) as snapshot_at"
        " from staging.stg_3pl__stock group by sku, location",
    ):
        sellable[(row["sku"], row["location"])] += row["on_hand"] or 0
        committed[(row["sku"], row["location"])] += row["committed"] or 0
        snapshot_at = max(filter(None, (snapshot_at, row["snapshot_at"])), default=None)
    shipped_3pl: dict[tuple[str, str], int] = defaultdict(int)
    for shipment in truth["shipments"]:
        if shipment["location"] == "3PL":
            for line in shipment["lines"]:
                shipped_3pl[(shipment["order_ref"], line["sku"])] += line["quantity"]
    shipped_orders = {ref for ref, _ in shipped_3pl}
    for release in truth["releases"]:
        if release["location"] != "3PL" or release["source"] != "940":
            continue
        if snapshot_at is not None and instant(release["received_at"]) <= snapshot_at:
            continue  # the snapshot reflects it (committed, or gone from on-hand)
        for line in release["lines"]:
            units = (
                shipped_3pl[(release["order_ref"], line["sku"])]
                if release["order_ref"] in shipped_orders
                else line["quantity"]
            )
            committed[(line["sku"], "3PL")] += units

    # releases a client sent (the hub: "api" to a WMS, "940" to the 3PL), not the world's own
    now_released = {r["order_ref"] for r in truth["releases"] if r["source"] in ("api", "940")}
    routed: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows(
        conn,
        "select order_line_key, sku, location, quantity from marts.order_routing "
        "where fulfilment = 'ship'",
    ):
        if row["order_line_key"].rsplit("/", 1)[0] in now_released and not row[
            "location"
        ].startswith("DROPSHIP-"):
            continue  # released since: its release commits it
        it = items[row["sku"]]
        if it.is_kit:
            for comp in it.kit_components:
                routed[(comp.sku, row["location"])] += row["quantity"] * comp.quantity
        else:
            routed[(row["sku"], row["location"])] += row["quantity"]

    def net(sku: str, location: str) -> int:
        it = items[sku]
        left = sellable[(sku, location)] - committed[(sku, location)] - routed[(sku, location)]
        return max(left - it.safety_stock, 0)

    expected = {}
    for it in world.items:
        for code in it.channels:
            policy = channels[code]
            factor = it.case_pack if policy.selling_unit == "CS" and it.case_pack > 1 else 1
            if it.is_drop_ship:
                where = f"DROPSHIP-{it.drop_ship_supplier}"
                have = supplier_available.get((it.drop_ship_supplier, it.sku))
                figure = 0 if have is None else max(have - routed[(it.sku, where)], 0)
                expected[(it.sku, where, code)] = figure // factor
                continue
            for location in own:
                if it.is_kit:
                    base = min(net(c.sku, location) // c.quantity for c in it.kit_components)
                else:
                    base = net(it.sku, location)
                    if policy.sell_incoming:
                        base += incoming[(it.sku, location)]
                expected[(it.sku, location, code)] = base // factor
    return expected


def cents(amount: Decimal | str) -> int:
    return int(Decimal(amount) * 100)
