"""`dbt build` through Dagster on a landed 50-SKU sandbox world: every staging and core
model and every dbt test green, and the staging and core figures equal the sandbox truth."""

from __future__ import annotations

import time

import dagster as dg
import psycopg
import pytest

from dagster_project.definitions import defs
from dagster_project.hub.migrate import apply_migrations
from sandbox.testing import running_sandbox
from tests.erp_fixtures import SEED, SKUS
from tests.ingest.test_sandbox_ingest import environment, erp_env

CORE_MODELS = {
    "item",
    "location",
    "channel",
    "customer",
    "price_rule",
    "inventory_position",
    "order",
    "order_line",
    "shipment",
    "invoice",
    "return",
    "supplier_commitment",
}


def run(definitions: dg.Definitions, hub: str, env: dict[str, str], keys: list[dg.AssetKey]):
    job = definitions.resolve_implicit_global_asset_job_def()
    with environment({**env, "DISTROHUB_DATABASE_URL": hub}), dg.instance_for_test() as inst:
        return job.execute_in_process(instance=inst, asset_selection=keys, raise_on_error=False)


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    return scratch_db


def test_dbt_build_is_green_on_the_sandbox_world(hub, erp, seed_report) -> None:
    definitions = defs()
    keys = definitions.resolve_all_asset_keys()
    raw = [k for k in keys if k.path[0] == "raw"]
    staging = [k for k in keys if k.path[0] == "staging"]
    core = [k for k in keys if k.path[0] == "core"]
    with running_sandbox(seed=SEED, skus=SKUS, days=2) as sb:
        landed = run(definitions, hub, {**sb.env, **erp_env(erp)}, raw)
        assert landed.success
        truth = sb.control.truth(["orders", "stock"])
        started = time.monotonic()
        built = run(definitions, hub, {**sb.env, **erp_env(erp)}, staging + core)
        seconds = time.monotonic() - started
    failed = [e.step_key for e in built.all_events if e.is_step_failure]
    assert built.success, failed
    materialized = {e.materialization.asset_key for e in built.get_asset_materialization_events()}
    assert materialized == set(staging) | set(core)
    assert {k.path[1] for k in core} >= CORE_MODELS
    checks = built.get_asset_check_evaluations()
    assert {c.asset_key for c in checks} >= set(core)
    assert len(checks) > 300 and all(c.passed for c in checks), [
        c.check_name for c in checks if not c.passed
    ]
    print(f"dbt build through Dagster: {seconds:.1f} s")

    with psycopg.connect(hub) as conn:

        def one(query: str):
            return conn.execute(query).fetchone()[0]

        assert one("select count(*) from staging.stg_shopify__orders") == len(truth["orders"])
        lines = sum(line["quantity"] for o in truth["orders"] for line in o["lines"])
        assert one("select sum(quantity) from staging.stg_shopify__order_lines") == lines
        for location in ("DC-EAST", "DC-WEST"):
            expected = sum(s["quantity"] for s in truth["stock"] if s["location"] == location)
            got = one(
                "select coalesce(sum(quantity), 0) from staging.stg_wms__stock "  # noqa: S608
                f"where location = '{location}'"
            )
            assert got == expected, location
        assert one("select count(*) from staging.stg_tryton__items") == one(
            "select count(distinct sku) from staging.stg_shopify__inventory_items"
        )

        # core: one order per storefront order, keyed as the ERP reference, with its customer
        orders = dict(conn.execute('select order_key, customer_key from core."order"').fetchall())
        assert orders == {o["key"]: o["customer"] for o in truth["orders"]}
        assert one("select sum(quantity) from core.order_line") == lines
        # core: sellable (and every other status) on-hand per DC equals the true stock
        for location in ("DC-EAST", "DC-WEST"):
            expected = {}
            for s in truth["stock"]:
                if s["location"] == location:
                    expected[s["status"]] = expected.get(s["status"], 0) + s["quantity"]
            got = dict(
                conn.execute(
                    "select status, sum(on_hand) from core.inventory_position "
                    "where location = %s and on_hand > 0 group by status",
                    (location,),
                ).fetchall()
            )
            assert got == expected, location
        assert one("select count(*) from core.location where erp_warehouse_id is not null") == 3
