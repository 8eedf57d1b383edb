"""Publishing storefront orders to the ERP as sales orders: batched, idempotent, honest."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from dagster_project.connectors.http import RequestBudget
from dagster_project.connectors.tryton import (
    OutcomeStatus,
    SalesOrderLine,
    SalesOrderRequest,
    TrytonClient,
    TrytonUserError,
)
from tests.erp.test_tryton_connector import SALES_SKUS
from tests.erp_fixtures import RunningErp


@pytest.fixture
def ids(client: TrytonClient) -> dict[str, int]:
    products = client.read_all("product.product", [["code", "in", list(SALES_SKUS)]], ["code"])
    parties = client.read_all(
        "party.party", [["code", "in", ["B2B-00001", "D2C-000001"]]], ["code"]
    )
    return {r["code"]: r["id"] for r in [*products, *parties]}


def _order(
    ids: dict[str, int], reference: str, sku: str = "SKU-00001", quantity: int = 2
) -> SalesOrderRequest:
    return SalesOrderRequest(
        reference=reference,
        party=ids["B2B-00001"],
        lines=(
            SalesOrderLine(ids[sku], quantity, Decimal("10.50")),
            SalesOrderLine(ids["SKU-00002"], 1, Decimal("3.25")),
        ),
    )


def _count(client: TrytonClient, reference: str) -> int:
    return len(client.read_all("sale.sale", [["reference", "=", reference]], ["id"]))


def test_creating_the_same_order_twice_leaves_one_sale(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    order = _order(ids, "D2C#5001")
    (first,) = client.create_sales_orders([order])
    assert first.status is OutcomeStatus.CREATED, first.error
    assert first.state == "processing" and first.number
    again = client.create_sales_orders([order, order])
    assert [o.status for o in again] == [OutcomeStatus.EXISTED]
    assert again[0].sale_id == first.sale_id
    assert _count(client, "D2C#5001") == 1
    (sale,) = client.read_all("sale.sale", [["id", "=", first.sale_id]], ["total_amount"])
    assert sale["total_amount"] == Decimal("24.25")


def test_a_rejected_order_reports_trytons_reason_and_is_not_retried(
    client: TrytonClient, erp: RunningErp, ids: dict[str, int]
) -> None:
    bad_product = ids["SKU-00005"]
    (template,) = client.read_all("product.product", [["id", "=", bad_product]], ["template"])
    client.execute("product.template", "write", [template["template"]], {"salable": False})
    orders = [
        _order(ids, "B2B#7001"),
        _order(ids, "B2B#7002", sku="SKU-00005"),
        _order(ids, "B2B#7003"),
    ]
    budget = RequestBudget()
    with TrytonClient(erp.credentials, budget=budget) as publisher:
        outcomes = publisher.create_sales_orders(orders)
        first_run = budget.used
        by_ref = {o.reference: o for o in outcomes}
        assert by_ref["B2B#7001"].status is OutcomeStatus.CREATED
        assert by_ref["B2B#7003"].status is OutcomeStatus.CREATED
        rejected = by_ref["B2B#7002"]
        assert rejected.status is OutcomeStatus.FAILED and not rejected.retryable
        assert isinstance(rejected.error, TrytonUserError)
        assert rejected.error.reference == "B2B#7002"
        assert "Product" in rejected.error.tryton_message  # Tryton's own words
        print(f"\nrejected: {rejected.error}")
        assert "B2B#7002" in str(rejected.error) and "Fix:" in str(rejected.error)
        # a batch of three, one rejected: bounded calls, no retry loop
        assert first_run <= 15
        # sent again unchanged: the same refusal, nothing created, few calls
        (again,) = publisher.create_sales_orders([orders[1]])
        assert again.status is OutcomeStatus.FAILED and not again.retryable
        assert budget.used - first_run <= 6
    assert _count(client, "B2B#7002") == 0
    assert _count(client, "B2B#7001") == 1 and _count(client, "B2B#7003") == 1


def test_a_hundred_orders_in_a_few_calls(
    client: TrytonClient, erp: RunningErp, ids: dict[str, int]
) -> None:
    orders = [_order(ids, f"D2C#{9000 + n}", quantity=1 + n % 3) for n in range(100)]
    budget = RequestBudget()
    with TrytonClient(erp.credentials, budget=budget) as publisher:
        started = time.monotonic()
        outcomes = publisher.create_sales_orders(orders)
        seconds = time.monotonic() - started
    assert all(o.status is OutcomeStatus.CREATED for o in outcomes), [
        str(o.error) for o in outcomes if o.error
    ][:3]
    assert {o.state for o in outcomes} == {"processing"}
    assert budget.used <= 10
    print(
        f"\n100 sales orders created, quoted, confirmed in {seconds:.1f} s, {budget.used} requests"
    )


def test_stock_is_read_incrementally_from_stock_moves(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    import datetime as dt

    pages = list(client.read_stream("stock"))
    cursor = pages[-1].cursor
    assert cursor is not None
    (outcome,) = client.create_sales_orders([_order(ids, "D2C#5100", quantity=4)])
    assert outcome.ok, outcome.error
    changed = [
        r
        for p in client.read_stream("stock", since=cursor, lookback=dt.timedelta(0))
        for r in p.records
    ]
    assert {r["product_code"] for r in changed} == {"SKU-00001", "SKU-00002"}
    assert {r["warehouse_code"] for r in changed} == {"DC-EAST", "DC-WEST", "3PL"}
