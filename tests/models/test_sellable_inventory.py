"""marts.sellable_inventory against an independent computation from the sandbox's truth
(tests/rules.py: the rules of docs/architecture.md in Python, with the two hub inputs it
names); the routing those rules take from the hub is checked against the truth's open demand
on its own. tests/test_demo_and_ui.py applies the same rules over several passes.
"""

from __future__ import annotations

from collections import defaultdict

import httpx
import psycopg
import pytest

from dagster_project.ingest.registry import declared_systems
from dagster_project.transform.policy import channel_policy
from tests.models.conftest import LandedWorld
from tests.rules import (
    TRUTH_SECTIONS,
    expected_availability,
    open_demand,
    policies,
    released_orders,
    rows,
    world_of,
)


def _store_systems() -> dict[str, str]:
    """Each channel's store system (the declared block that carries its channel policy)."""
    return {
        channel.code: name
        for name, (config, _) in declared_systems().items()
        if (channel := channel_policy(name, config.settings)) is not None
    }


@pytest.fixture(scope="module")
def truth(clean_world: LandedWorld) -> dict:
    return clean_world.sandbox.control.truth(TRUTH_SECTIONS)


def test_order_routing_places_exactly_the_open_unreleased_demand(clean_world, truth) -> None:
    expected = open_demand(truth, released_orders(truth))
    with psycopg.connect(clean_world.hub) as conn:
        routed = defaultdict(int)
        for row in rows(conn, "select order_line_key, quantity from marts.order_routing"):
            routed[row["order_line_key"]] += row["quantity"]
        assert dict(routed) == dict(expected)
        # nothing ships from a location that does not offer the order's service level, and
        # no location ships more than it has free
        bad = rows(
            conn,
            """select r.order_line_key from marts.order_routing r
               join core.location l on l.location_code = r.location
               where r.fulfilment = 'ship' and r.service_level is not null
                 and not r.service_level = any(l.service_levels)""",
        )
        assert bad == []
        over = rows(
            conn,
            """select r.sku, r.location from marts.order_routing r
               join marts.int_inventory__physical_stock s
                 on s.sku = r.sku and s.location = r.location
               where r.fulfilment = 'ship' and r.supply_kind = 'stocked'
               group by r.sku, r.location, s.sellable_on_hand, s.committed_physical
               having sum(r.quantity) > greatest(s.sellable_on_hand - s.committed_physical, 0)""",
        )
        assert over == []
    assert expected, "the world should have open, unreleased orders to route"


def test_sellable_inventory_equals_the_truth(clean_world, truth) -> None:
    world = world_of(truth)
    with psycopg.connect(clean_world.hub) as conn:
        expected = expected_availability(conn, truth, world)
        got = {
            (r["sku"], r["location"], r["channel"]): r["published_quantity"]
            for r in rows(
                conn,
                "select sku, location, channel, published_quantity from marts.sellable_inventory",
            )
        }
        routed = rows(conn, "select 1 from marts.order_routing where fulfilment = 'ship'")
    assert set(got) == set(expected)
    wrong = {k: (got[k], v) for k, v in expected.items() if got[k] != v}
    assert wrong == {}, f"(hub, truth) differ for {len(wrong)} of {len(expected)}: {wrong}"
    # the world exercises every rule
    assert any(it.is_kit for it in world.items) and any(it.is_drop_ship for it in world.items)
    assert any(it.case_pack > 1 for it in world.items)
    assert routed


def test_drop_ship_availability_is_published_at_the_suppliers_store_location(
    clean_world, truth
) -> None:
    """Every drop-ship item a store lists has one row in publish.storefront_inventory: at the
    store location of its supplier (the store's location named DROPSHIP-<supplier>, as the
    store itself lists it), with the rule's figure from the truth: the supplier's latest 846
    quantity less what routing sent to that supplier, in the store's selling units."""
    world = world_of(truth)
    channels, _ = policies()
    systems = _store_systems()
    supplier_available = {
        (a["supplier"], a["sku"]): a["quantity"] for a in truth["supplier_availability"]
    }
    store_locations = {}  # (system, location name) -> the store's location id
    for code, system in systems.items():
        with httpx.Client(
            base_url=clean_world.sandbox.shopify_url(code) + "/admin/api/2025-07",
            headers={"X-Shopify-Access-Token": clean_world.sandbox.shopify_token(code)},
        ) as store:
            response = store.get("/locations.json")
            response.raise_for_status()
            for location in response.json()["locations"]:
                store_locations[(system, location["name"])] = location["id"]
    drop_ship = [it for it in world.items if it.is_drop_ship]
    with psycopg.connect(clean_world.hub) as conn:
        routed = {
            (r["sku"], r["location"]): r["quantity"]
            for r in rows(
                conn,
                "select sku, location, sum(quantity) as quantity from marts.order_routing "
                "where fulfilment = 'ship' and supply_kind = 'drop_ship' group by 1, 2",
            )
        }
        got = {
            (r["system"], r["sku"]): (r["location"], r["location_id"], r["available"])
            for r in rows(
                conn,
                "select system, sku, location, location_id, available "
                "from publish.storefront_inventory where sku = any(%s)",
                ([it.sku for it in drop_ship],),
            )
        }
    expected = {}
    for it in drop_ship:
        where = f"DROPSHIP-{it.drop_ship_supplier}"
        have = supplier_available.get((it.drop_ship_supplier, it.sku))
        base = 0 if have is None else max(have - routed.get((it.sku, where), 0), 0)
        for code in it.channels:
            policy = channels[code]
            factor = it.case_pack if policy.selling_unit == "CS" and it.case_pack > 1 else 1
            system = systems[code]
            expected[(system, it.sku)] = (where, store_locations[(system, where)], base // factor)
    assert got == expected
    # the world exercises the rule: figures above zero, and some routed to a supplier
    assert any(figure > 0 for _, _, figure in expected.values())
    assert any(routed.values())


def test_a_stale_stock_feed_is_held_and_leaves_the_publish(clean_world) -> None:
    with psycopg.connect(clean_world.hub, autocommit=True) as conn:
        conn.execute(
            "update ops.ingest_batches set finished_at = finished_at - interval '3 hours' "
            "where system = 'wms_dc_east' and stream = 'stock'"
        )
        try:
            clean_world.rebuild(
                "staging/stg_ops__stream_feeds",
                "marts/int_inventory__physical_stock",
                "marts/sellable_inventory",
                "publish/storefront_inventory",
            )
            held = rows(
                conn,
                "select freshness_action, count(*) as n, count(published_quantity) as published "
                "from marts.sellable_inventory where location = 'DC-EAST' group by 1",
            )
            assert held and all(
                r["freshness_action"] == "hold" and r["published"] == 0 for r in held
            )
            assert (
                conn.execute(
                    "select count(*) from publish.storefront_inventory where location = 'DC-EAST'"
                ).fetchone()[0]
                == 0
            )
            assert (
                conn.execute(
                    "select count(*) from publish.storefront_inventory where location = 'DC-WEST'"
                ).fetchone()[0]
                > 0
            )
        finally:
            conn.execute(
                "update ops.ingest_batches set finished_at = finished_at + interval '3 hours' "
                "where system = 'wms_dc_east' and stream = 'stock'"
            )
            clean_world.rebuild(
                "staging/stg_ops__stream_feeds",
                "marts/int_inventory__physical_stock",
                "marts/sellable_inventory",
                "publish/storefront_inventory",
            )
