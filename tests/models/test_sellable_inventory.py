"""marts.sellable_inventory against an independent computation from the sandbox's truth
(tests/rules.py: the rules of docs/architecture.md in Python, with the two hub inputs it
names); the routing those rules take from the hub is checked against the truth's open demand
on its own. tests/test_demo_and_ui.py applies the same rules over several passes.
"""

from __future__ import annotations

from collections import defaultdict

import psycopg
import pytest

from sandbox.worldgen import generate_world
from tests.models.conftest import LandedWorld
from tests.rules import TRUTH_SECTIONS, expected_availability, open_demand, released_orders, rows


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
    params = truth["params"]
    world = generate_world(
        seed=params["seed"],
        skus=params["skus"],
        orders_per_day=params["orders_per_day"],
        days=params["days"],
        scenario=params["scenario"],
    )
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
