"""`dbt build` through Dagster on a landed 50-SKU sandbox world: every staging, core, marts and
publish model and every dbt test green, and the staging and core figures equal the sandbox truth."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.models.conftest import DBT_LAYERS, LandedWorld, run

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
MARTS = {
    "sellable_inventory",
    "customer_prices",
    "customer_price_groups",
    "order_routing",
    "recon_orders",
    "recon_shipments",
    "recon_shipments_by_warehouse",
    "recon_inventory",
    "recon_prices",
    "recon_availability",
    "recon_supplier",
    "recon_returns",
    "ops_sync_health",
    "ops_exceptions",
}
PUBLISH = {
    "storefront_inventory",
    "storefront_prices",
    "storefront_fulfillments",
    "erp_sales_orders",
    "warehouse_releases",
    "supplier_purchase_orders",
}


def test_dbt_build_is_green_on_the_sandbox_world(clean_world: LandedWorld) -> None:
    built = clean_world.built
    failed = [e.step_key for e in built.all_events if e.is_step_failure]
    assert built.success, failed
    materialized = {e.materialization.asset_key for e in built.get_asset_materialization_events()}
    dbt_keys = set(clean_world.keys(*DBT_LAYERS))
    assert materialized == dbt_keys
    names = {layer: {k.path[1] for k in dbt_keys if k.path[0] == layer} for layer in DBT_LAYERS}
    assert names["core"] >= CORE_MODELS
    assert names["marts"] >= MARTS
    assert names["publish"] >= PUBLISH
    checks = built.get_asset_check_evaluations()
    assert {c.asset_key for c in checks} >= {k for k in dbt_keys if k.path[0] != "staging"} - {
        k for k in dbt_keys if k.path[1].startswith("int_") or k.path[1] == "shipping_zones"
    }
    # Every check passes but the reconciliation SLAs of orders and shipments: the clean world's
    # pipeline is stalled as landed (no delivery runs, nothing posts shipments), and a
    # reconciliation judges each record by its own age, so those views rightly breach
    # (tests/models/test_reconciliation.py checks what they list).
    stalled = {("marts/recon_orders", "sla"), ("marts/recon_shipments_by_warehouse", "sla")}
    failing = {(c.asset_key.to_user_string(), c.check_name) for c in checks if not c.passed}
    assert len(checks) > 300 and failing <= stalled, failing
    print(f"dbt build through Dagster: {clean_world.build_seconds:.1f} s, {len(checks)} checks")

    truth = clean_world.sandbox.control.truth(["orders", "stock"])
    with psycopg.connect(clean_world.hub) as conn:

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


def test_the_analyst_reads_the_built_core_and_marts_and_nothing_else(
    clean_world: LandedWorld, pg_cluster
) -> None:
    from dagster_project.hub import settings

    analyst = settings.with_database(pg_cluster.analyst_url, make_url(clean_world.hub).database)
    with psycopg.connect(analyst, autocommit=True) as conn:
        for table in (
            'core."order"',
            "core.inventory_position",
            "marts.sellable_inventory",
            "marts.customer_prices",
            "marts.order_routing",
        ):
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] > 0, table  # noqa: S608
        for table in (
            "publish.storefront_inventory",
            "staging.stg_shopify__orders",
            "raw.tryton__items",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {table} limit 1")  # noqa: S608


def test_core_order_is_incremental(clean_world: LandedWorld) -> None:
    """A changed storefront order, re-landed, is the only row a rebuild of core.order touches."""
    with psycopg.connect(clean_world.hub, autocommit=True) as conn:
        (before,) = conn.execute('select max(built_at) from core."order"').fetchone()
        order = conn.execute(
            """select order_key, order_number, updated_at from core."order"
               where channel = 'D2C' and not is_cancelled order by order_number limit 1"""
        ).fetchone()
        clean_world.sandbox.control.change_order("D2C", order[1], "note")
        landed = run(
            clean_world.definitions,
            clean_world.hub,
            clean_world.env,
            [dg.AssetKey(["raw", "shopify_d2c__orders"])],
        )
        assert landed.success
        clean_world.rebuild("core/order")
        rebuilt = conn.execute(
            'select order_key, updated_at from core."order" where built_at > %s', (before,)
        ).fetchall()
        assert [key for key, _ in rebuilt] == [order[0]]
        assert rebuilt[0][1] > order[2]
        assert conn.execute('select count(*) from core."order"').fetchone()[0] == len(
            clean_world.sandbox.control.truth(["orders"])["orders"]
        )
