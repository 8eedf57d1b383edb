"""The narrow path: a stock event → the SKU's rows rebuilt, gated in SQL and delivered.

Runs on ``publish_world`` after the publish tests (file order): the world's storefronts hold
what the full publish sent. Each test puts back what it changes (stock, feed ages, tables).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from psycopg import sql

from dagster_project.ingest.readers import open_reader
from dagster_project.ingest.refresh import refresh_keys
from dagster_project.ingest.registry import declared_systems
from dagster_project.operations.status import collect
from dagster_project.publish.narrow import compile_program, publish_narrow
from dagster_project.publish.run import publish
from dagster_project.publish.targets import target
from dagster_project.quality import sql_suite
from dagster_project.quality.expectations import run_suite
from dagster_project.webhooks.app import create_app
from dagster_project.worker.service import NarrowWorker
from tests.publish.conftest import tampered
from tests.servers import serving
from tests.waiting import wait_until

CHAIN = (
    "core/inventory_position",
    "marts/int_inventory__physical_stock",
    "marts/sellable_inventory",
    "publish/storefront_inventory",
)
# columns that depend on when the model was built, not on its inputs
TIME_COLUMNS = {"feed_age_minutes"}


def _rows(hub: str, relation: str, skus: list[str]) -> list[tuple]:
    schema, table = relation.split("/")
    with psycopg.connect(hub) as conn:
        cols = [
            r[0]
            for r in conn.execute(
                """select column_name from information_schema.columns
                    where table_schema = %s and table_name = %s order by ordinal_position""",
                (schema, table),
            )
            if r[0] not in TIME_COLUMNS
        ]
        query = sql.SQL("select {} from {} where sku = any(%s) order by 1, 2, 3, 4").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(schema, table)
        )
        return conn.execute(query, (skus,)).fetchall()


@contextmanager
def webhook_receiver(hub: str) -> Iterator[str]:
    """The product's webhook server on a free port (the declared systems, secrets from env)."""
    with serving(create_app(hub)) as url:
        yield f"{url}/webhooks"


def _wait_for_inbox(hub: str, after_id: int, topic: str, count: int = 1) -> None:
    def arrived() -> bool:
        with psycopg.connect(hub) as conn:
            n = conn.execute(
                "select count(*) from ops.webhook_inbox where id > %s and topic = %s",
                (after_id, topic),
            ).fetchone()[0]
        return n >= count

    wait_until(f"{count} {topic} webhook(s) in ops.webhook_inbox after id {after_id}", arrived)


def _kit_and_component(hub: str) -> tuple[str, str]:
    """A kit published to a store whose component is stocked at DC-EAST."""
    with psycopg.connect(hub) as conn:
        row = conn.execute(
            """select k.kit_sku, k.component_sku
                 from staging.stg_planning__kit_components k
                 join publish.storefront_inventory p on p.sku = k.kit_sku
                 join marts.int_inventory__physical_stock s
                   on s.sku = k.component_sku and s.location = 'DC-EAST'
                order by 1, 2 limit 1"""
        ).fetchone()
    assert row, "the world has no published kit with a component at DC-EAST"
    return row[0], row[1]


def _store_level(world, system: str, inventory_item_id: int, location_id: int) -> int:
    channel = system.removeprefix("shopify_").upper()
    response = httpx.get(
        f"{world.sandbox.shopify_url(channel)}/admin/api/2025-07/inventory_levels.json",
        params={"inventory_item_ids": inventory_item_id, "location_ids": location_id},
        headers={"X-Shopify-Access-Token": world.sandbox.shopify_token(channel)},
    )
    response.raise_for_status()
    return response.json()["inventory_levels"][0]["available"]


def test_a_stock_event_reaches_the_store_through_the_narrow_path(publish_world):
    world = publish_world
    kit, component = _kit_and_component(world.hub)
    worker = NarrowWorker(world.hub)
    worker.prepare()
    with psycopg.connect(world.hub) as conn:
        last_id = conn.execute("select coalesce(max(id), 0) from ops.webhook_inbox").fetchone()[0]
    with webhook_receiver(world.hub) as url:
        world.sandbox.control.set_webhook_target(url)
        try:
            world.sandbox.control.adjust_stock("DC-EAST", component, 240)
            world.sandbox.control.drain()
            _wait_for_inbox(world.hub, last_id, "stock.adjusted")
            done = worker.run_once()
        finally:
            world.sandbox.control.set_webhook_target(None)
    assert not done.errors, done.errors
    [refreshed] = done.refreshes
    assert refreshed.values == [component] and refreshed.counts.read >= 1
    [result] = done.publishes
    assert result.passed, result.summary
    assert {p.gate for p in result.parts} == {
        "dbt_tests",
        "expectations",
        "freshness",
        "blast_radius",
    }
    assert result.scope >= 2, "the kit and its components are rebuilt with the component"
    assert result.messages > 0 and result.delivery is not None
    assert result.delivery.delivered == result.messages
    assert result.carried, "the full table's verdict is carried to the rewritten version"

    # the narrow rows are the rows a full build of the same models makes from the same raw
    with psycopg.connect(world.hub) as conn:
        scope = [
            r[0]
            for r in conn.execute(
                """select distinct sku from marts.sellable_inventory
                    where sku = any(%s) or sku in (select kit_sku from
                          staging.stg_planning__kit_components where component_sku = %s)""",
                ([kit, component], component),
            )
        ]
    narrow_rows = {rel: _rows(world.hub, rel, scope) for rel in CHAIN}
    world.rebuild(*CHAIN)
    for rel in CHAIN:
        assert narrow_rows[rel] == _rows(world.hub, rel, scope), f"{rel} differs from a full build"

    # the store holds the kit's new figure, as the outbox says it was told
    with psycopg.connect(world.hub) as conn:
        system, item, location, available = conn.execute(
            """select system, inventory_item_id, location_id, available
                 from publish.storefront_inventory where sku = %s and location = 'DC-EAST'
                order by system limit 1""",
            (kit,),
        ).fetchone()
    assert _store_level(world, system, item, location) == available

    # a full publish afterwards finds nothing left to send for these SKUs
    full = publish(world.hub, target("storefront_inventory"), log=lambda _m: None)
    with psycopg.connect(world.hub) as conn:
        resent = conn.execute(
            """select count(*) from ops.outbox o
                where o.target = 'storefront_inventory' and o.data_version = %s
                  and o.payload ->> 'sku' = any(%s)""",
            (full.data_version, scope),
        ).fetchone()[0]
    assert resent == 0

    # put the world back
    world.sandbox.control.adjust_stock("DC-EAST", component, -240)
    cfg = target("storefront_inventory")
    program = compile_program(cfg, world.hub)
    config, streams = declared_systems()["wms_dc_east"]
    stock = next(s for s in streams if s.name == "stock")
    with psycopg.connect(world.hub) as conn, open_reader(config, stock) as reader:
        refresh_keys(conn, "wms_dc_east", "wms_rest", stock, reader, [component])
    back = publish_narrow(world.hub, cfg, program, [component], log=lambda _m: None)
    assert back.passed, back.summary


def test_the_narrow_gate_holds_a_stale_source_and_sends_nothing(publish_world):
    world = publish_world
    cfg = target("storefront_inventory")
    program = compile_program(cfg, world.hub)
    with psycopg.connect(world.hub) as conn:
        sku = conn.execute(
            "select sku from publish.storefront_inventory order by sku limit 1"
        ).fetchone()[0]
        pending_before = conn.execute(
            "select count(*) from ops.outbox where target = %s and status = 'pending'",
            (cfg.target,),
        ).fetchone()[0]
    # the stores' inventory items (not a stock feed the model handles itself) go stale
    shift = sql.SQL(
        "update ops.ingest_batches set finished_at = finished_at {} interval '3 days' "
        "where system = 'shopify_b2b' and stream = 'inventory_items'"
    )
    with psycopg.connect(world.hub, autocommit=True) as conn:
        conn.execute(shift.format(sql.SQL("-")))
    try:
        result = publish_narrow(world.hub, cfg, program, [sku], log=lambda _m: None)
    finally:
        with psycopg.connect(world.hub, autocommit=True) as conn:
            conn.execute(shift.format(sql.SQL("+")))
    assert not result.passed
    [fresh] = [p for p in result.parts if not p.passed]
    assert fresh.gate == "freshness" and "shopify_b2b inventory_items" in fresh.summary
    assert result.messages == 0 and result.delivery is None
    with psycopg.connect(world.hub) as conn:
        pending_after = conn.execute(
            "select count(*) from ops.outbox where target = %s and status = 'pending'",
            (cfg.target,),
        ).fetchone()[0]
        held = conn.execute(
            """select passed, summary from ops.narrow_runs
                where target = %s order by id desc limit 1""",
            (cfg.target,),
        ).fetchone()
    assert pending_after == pending_before
    assert held[0] is False and "freshness" in held[1]
    # `distrohub status` names the held narrow publish
    with psycopg.connect(world.hub) as conn:
        report = collect(conn)
    [activity] = [n for n in report.narrow if n.target == cfg.target]
    assert activity.held >= 1 and activity.runs >= activity.held
    [gate] = [g for g in report.gates if g.target == cfg.target]
    assert gate.passed is False and "freshness" in gate.summary and not report.healthy


BAD_ROWS = {
    # expectation → a statement that breaks it on a few rows
    "expect_column_values_to_be_between(available)": "update publish.storefront_inventory "
    "set available = -3 where record_key in (select record_key from publish.storefront_inventory "
    "order by record_key limit 2)",
    "expect_column_pair_values_a_to_be_greater_than_b(supply_selling_units, available)": (
        "update publish.storefront_inventory set available = supply_selling_units + 5 "
        "where record_key in (select record_key from publish.storefront_inventory "
        "order by record_key desc limit 3)"
    ),
    "unexpected_rows_expectation": "update publish.storefront_inventory "
    "set inventory_item_id = 999000111 where record_key = (select min(record_key) from "
    "publish.storefront_inventory)",
    "expect_column_values_to_not_be_null(available)": "update publish.storefront_inventory "
    "set available = null where record_key = (select max(record_key) from "
    "publish.storefront_inventory)",
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_the_sql_form_of_the_suite_fails_what_gx_fails(publish_world, case):
    """The narrow gate's SQL evaluation of a GX suite and GX itself agree, row for row."""
    batch = sql.SQL("(select * from publish.storefront_inventory)")
    with tampered(publish_world.hub, "storefront_inventory", BAD_ROWS[case]):
        gx = run_suite(publish_world.hub, "storefront_inventory")
        with psycopg.connect(publish_world.hub) as conn:
            ours = sql_suite.run(conn, "storefront_inventory", batch, {})
    gx_failed = {(f.expectation, f.column or None): f.unexpected_count for f in gx.failures}
    our_failed = {
        (f["expectation"], f["column"]): f["unexpected_count"] for f in ours.details["failures"]
    }
    assert not gx.success and not ours.passed
    assert our_failed == gx_failed
    named = case.split("(")[0]
    assert any(kind == named for kind, _ in our_failed)


def test_the_suite_as_sql_passes_the_clean_table_and_refuses_what_it_cannot_express(
    publish_world,
):
    with psycopg.connect(publish_world.hub) as conn:
        clean = sql_suite.run(
            conn,
            "storefront_inventory",
            sql.SQL("(select * from publish.storefront_inventory)"),
            {},
        )
    assert clean.passed, clean.summary
    with pytest.raises(sql_suite.UnsupportedExpectation, match="expect_table_row_count"):
        sql_suite._translate({"type": "expect_table_row_count_to_equal", "kwargs": {"value": 1}})
