"""The publish models' GX suites (dagster_project.quality.expectations) on hand-made tables.

One scratch database holds minimal ``staging`` and ``publish`` tables with the columns the
suites read (dbt is not run). A clean copy passes every suite; each test then breaks one thing
(and puts it back) and checks the failing expectation, its unexpected count and the Markdown.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from dagster_project.quality import expectations as quality
from tests.conftest import fresh_database

REPO = Path(__file__).resolve().parents[2]
PUBLISH_MODELS = REPO / "dbt_project" / "models" / "publish"

SCHEMA = """
create schema staging;
create schema publish;
create table staging.stg_shopify__inventory_items (system text, inventory_item_id bigint, sku text);
create table staging.stg_shopify__product_variants (system text, variant_id bigint, sku text);
create table staging.stg_tryton__items (item_id bigint, sku text);
create table publish.storefront_inventory (
    record_key text, system text, channel text, inventory_item_id bigint, location_id bigint,
    sku text, location text, available integer, supply_selling_units integer);
create table publish.storefront_prices (
    system text, variant_id bigint, sku text, channel text, currency text,
    units_per_variant integer, price numeric, list_price numeric);
create table publish.erp_sales_orders (
    order_key text, order_line_key text, line_number integer, sku text, quantity integer,
    unit_price numeric, currency text);
create table publish.warehouse_releases (
    release_key text, line_number integer, sku text, quantity integer);
create table publish.supplier_purchase_orders (
    po_number text, purchase_line_id bigint, sku text, quantity numeric, unit_cost numeric);
create table publish.storefront_fulfillments (
    storefront_system text, storefront_order_id bigint, shipment_id text, quantity integer,
    tracking_number text);
create table publish.order_cancellations (
    cancel_key text, order_key text, step text, target_system text, erp_sale_id bigint);
create table publish.erp_returns (
    return_key text, line_number integer, return_line_key text, sku text, location text,
    order_key text, quantity numeric, unit_price numeric, outcome text);
create table publish.customer_notices (
    order_key text, event text, event_ref text, lines jsonb, email text, hold_reason text);
create table publish.erp_shipment_postings (
    shipment_key text, order_key text, erp_sale_id bigint, sku text, quantity numeric,
    expected_amount numeric, backorder_policy text);
"""


def populate(url: str, rows: int) -> None:
    """Clean rows: ``rows`` per publish table, every key known to staging."""
    n = rows
    with psycopg.connect(url) as conn:
        conn.execute(SCHEMA)
        conn.execute(
            "insert into staging.stg_tryton__items select g, 'SKU-' || g"
            " from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into staging.stg_shopify__inventory_items"
            " select 'shopify_d2c', 1000 + g, 'SKU-' || g from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into staging.stg_shopify__product_variants"
            " select 'shopify_d2c', 2000 + g, 'SKU-' || g from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.storefront_inventory"
            " select 'shopify_d2c:' || (1000 + g) || '@7', 'shopify_d2c', 'D2C', 1000 + g, 7,"
            " 'SKU-' || g, 'DC1', mod(g, 5), mod(g, 5) + 1 from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.storefront_prices"
            " select 'shopify_d2c', 2000 + g, 'SKU-' || g, 'D2C', 'USD', 1, 9.00, 10.00"
            " from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.erp_sales_orders"
            " select 'D2C#' || g, 'D2C#' || g || '/1', 1, 'SKU-' || g, 2, 4.5, 'USD'"
            " from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.warehouse_releases"
            " select 'D2C#' || g || '@DC1', 1, 'SKU-' || g, 1 from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.supplier_purchase_orders"
            " select 'PO' || g, g, 'SKU-' || g, 10, 1.25 from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.storefront_fulfillments"
            " select 'shopify_d2c', g, 'SHP' || g, 1, '1Z' || g from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.order_cancellations"
            " select 'D2C#' || g || '/erp_cancel', 'D2C#' || g, 'erp_cancel', 'tryton', g"
            " from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.erp_returns"
            " select 'wms_dc_east:RMA-' || g, 1, 'wms_dc_east:RMA-' || g || '/1', 'SKU-' || g,"
            " 'DC-EAST', 'D2C#' || g, 1, 4.5, case when mod(g, 2) = 0 then 'restock'"
            " else 'damaged' end from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.customer_notices"
            " select 'D2C#' || g, 'shipped', 'SHP' || g, '[]'::jsonb,"
            " 'customer' || g || '@example.com', null from generate_series(1, %s) g",
            (n,),
        )
        conn.execute(
            "insert into publish.erp_shipment_postings"
            " select 'wms_dc_east:SHP' || g, 'D2C#' || g, g, 'SKU-' || g, 2, 9.00,"
            " case when mod(g, 2) = 0 then 'allow' else 'cancel' end"
            " from generate_series(1, %s) g",
            (n,),
        )


def committed_files() -> dict[str, str]:
    return {
        str(path.relative_to(quality.ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(quality.ROOT.rglob("*"))
        if path.is_file() and "uncommitted" not in path.parts
    }


@pytest.fixture(scope="module")
def hub(pg_cluster) -> Iterator[str]:
    with fresh_database(pg_cluster) as url:
        populate(url, 20)
        yield url


def execute(url: str, statement: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement)


def failure(result: quality.SuiteResult, expectation: str, column: str):
    matches = [f for f in result.failures if f.expectation == expectation and f.column == column]
    assert len(matches) == 1, result.markdown
    return matches[0]


def assert_in_markdown(result: quality.SuiteResult, expectation: str, count: int) -> None:
    assert re.search(rf"\| FAIL \| `{expectation}` \| [^|]* \| {count} \|", result.markdown), (
        result.markdown
    )


def test_clean_tables_pass_every_suite_and_nothing_committed_is_rewritten(hub):
    before = committed_files()
    assert quality.suites() == sorted(
        [
            "customer_notices",
            "erp_returns",
            "erp_sales_orders",
            "order_cancellations",
            "erp_shipment_postings",
            "storefront_fulfillments",
            "storefront_inventory",
            "storefront_prices",
            "supplier_purchase_orders",
            "warehouse_releases",
        ]
    )
    for model in quality.suites():
        result = quality.run_suite(hub, model)
        assert result.success, result.markdown
        assert result.suite == f"publish.{model}"
        assert result.failures == []
        assert result.evaluated >= 4
        assert result.markdown.count("| pass |") == result.evaluated
    assert committed_files() == before


def test_negative_availability_fails(hub):
    execute(
        hub,
        "update publish.storefront_inventory set available = -3 where location_id = 7"
        " and inventory_item_id in (1001, 1002)",
    )
    try:
        result = quality.run_suite(hub, "storefront_inventory")
    finally:
        execute(hub, "update publish.storefront_inventory set available = 0 where available < 0")
    assert not result.success
    found = failure(result, "expect_column_values_to_be_between", "available")
    assert found.unexpected_count == 2
    assert found.sample == [-3, -3]
    assert_in_markdown(result, "expect_column_values_to_be_between", 2)


def test_availability_above_supply_fails(hub):
    execute(
        hub,
        "update publish.storefront_inventory set available = supply_selling_units + 1"
        " where inventory_item_id = 1003",
    )
    try:
        result = quality.run_suite(hub, "storefront_inventory")
    finally:
        execute(
            hub,
            "update publish.storefront_inventory set available = 0 where inventory_item_id = 1003",
        )
    found = failure(
        result,
        "expect_column_pair_values_a_to_be_greater_than_b",
        "supply_selling_units, available",
    )
    assert found.unexpected_count == 1
    assert [f.expectation for f in result.failures] == [found.expectation]


def test_price_100x_list_price_fails(hub):
    execute(hub, "update publish.storefront_prices set price = 1000.00 where variant_id = 2005")
    try:
        result = quality.run_suite(hub, "storefront_prices")
    finally:
        execute(hub, "update publish.storefront_prices set price = 9.00 where variant_id = 2005")
    assert not result.success
    found = failure(result, "unexpected_rows_expectation", "price, list_price")
    assert found.unexpected_count == 1
    assert found.sample[0]["variant_id"] == 2005
    assert "0.1x and 3x" in found.detail
    assert len(result.failures) == 1
    assert_in_markdown(result, "unexpected_rows_expectation", 1)


def test_unknown_sku_and_inventory_item_fail(hub):
    execute(
        hub,
        "update publish.erp_sales_orders set sku = 'NOPE-' || line_number"
        " where order_key in ('D2C#1', 'D2C#2', 'D2C#3')",
    )
    execute(
        hub,
        "update publish.storefront_inventory set inventory_item_id = 99999"
        " where inventory_item_id = 1004",
    )
    try:
        orders = quality.run_suite(hub, "erp_sales_orders")
        inventory = quality.run_suite(hub, "storefront_inventory")
    finally:
        execute(
            hub,
            "update publish.erp_sales_orders set sku = 'SKU-' || substr(order_key, 5)"
            " where sku like 'NOPE-%'",
        )
        execute(
            hub,
            "update publish.storefront_inventory set inventory_item_id = 1004"
            " where inventory_item_id = 99999",
        )
    found = failure(orders, "unexpected_rows_expectation", "sku")
    assert found.unexpected_count == 3
    assert {row["sku"] for row in found.sample} == {"NOPE-1"}
    assert_in_markdown(orders, "unexpected_rows_expectation", 3)
    found = failure(inventory, "unexpected_rows_expectation", "system, inventory_item_id")
    assert found.unexpected_count == 1
    assert found.sample == [{"system": "shopify_d2c", "inventory_item_id": 99999}]
    assert_in_markdown(inventory, "unexpected_rows_expectation", 1)


def test_duplicate_key_fails(hub):
    execute(
        hub,
        "insert into publish.supplier_purchase_orders"
        " select * from publish.supplier_purchase_orders where purchase_line_id = 6",
    )
    try:
        result = quality.run_suite(hub, "supplier_purchase_orders")
    finally:
        execute(
            hub,
            "delete from publish.supplier_purchase_orders where ctid in (select max(ctid)"
            " from publish.supplier_purchase_orders where purchase_line_id = 6)",
        )
    assert not result.success
    # GX counts every row of a duplicated key: the original and its copy
    found = failure(result, "expect_compound_columns_to_be_unique", "po_number, purchase_line_id")
    assert found.unexpected_count == 2
    assert len(result.failures) == 1
    assert_in_markdown(result, "expect_compound_columns_to_be_unique", 2)


def test_missing_suite_names_the_file_to_add(hub):
    with pytest.raises(quality.SuiteMissingError, match=r"expectations/publish/nope\.json"):
        quality.run_suite(hub, "nope")


def _model_columns(model: str) -> set[str]:
    """Column names a publish model declares (yml) or selects (its SQL's output names)."""
    columns: set[str] = set()
    for path in PUBLISH_MODELS.glob("*.yml"):
        for node in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            if node["name"] == model:
                columns |= {c["name"] for c in node.get("columns", [])}
    sql = (PUBLISH_MODELS / f"{model}.sql").read_text()
    final = sql[sql.rfind("final as") :] if "final as" in sql else sql
    columns |= set(re.findall(r"\bas\s+(\w+)", final))
    columns |= set(re.findall(r"\.(\w+)\s*,?\s*$", final, flags=re.MULTILINE))
    columns |= set(re.findall(r"^\s*(\w+),?\s*$", final, flags=re.MULTILINE))
    return columns


def test_every_publish_model_has_a_suite_over_its_columns():
    models = sorted(path.stem for path in PUBLISH_MODELS.glob("*.sql"))
    assert models == quality.suites()
    for model in models:
        suite = json.loads(quality.suite_path(model).read_text())
        assert suite["name"] == f"publish.{model}"
        validation = quality.ROOT / "validation_definitions" / f"publish.{model}.json"
        assert json.loads(validation.read_text())["suite"]["name"] == f"publish.{model}"
        available = _model_columns(model)
        for expectation in suite["expectations"]:
            kwargs = expectation["kwargs"]
            used = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
            used += kwargs.get("column_list", []) + expectation["meta"].get("columns", [])
            for column in filter(None, used):
                assert column in available, f"{model}: suite column {column!r} not in the model"


@pytest.mark.skipif(
    not os.environ.get("DISTROHUB_GX_BENCH"), reason="set DISTROHUB_GX_BENCH=<rows> to time"
)
def test_bench_six_suites(pg_cluster):
    rows = int(os.environ["DISTROHUB_GX_BENCH"])
    with fresh_database(pg_cluster) as url:
        populate(url, rows)
        for attempt in ("cold", "warm"):
            started = time.perf_counter()
            times = {}
            for model in quality.suites():
                t = time.perf_counter()
                assert quality.run_suite(url, model).success
                times[model] = round(time.perf_counter() - t, 2)
            total = time.perf_counter() - started
            print(f"\n{attempt} {rows} rows/table: {total:.2f}s {times}")
