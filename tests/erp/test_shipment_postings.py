"""Confirmed shipments posted to the real Tryton: workflow to done, backorders, invoices posted.

Every sale is created through :meth:`TrytonClient.create_sales_orders` (as the sales-order
transport does, invoiced on fulfillment), and posted through the transport
``tryton_shipment_postings`` or :func:`post_shipments` itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dagster_project.connectors.http import HttpTransportError
from dagster_project.connectors.tryton import (
    OutcomeStatus,
    SalesOrderLine,
    SalesOrderRequest,
    TrytonClient,
    TrytonUnavailable,
)
from dagster_project.connectors.tryton_fulfillment import (
    PostingStatus,
    ShipmentPosting,
    key_of,
    post_shipments,
)
from dagster_project.publish.transports.base import Message, Status
from dagster_project.publish.transports.tryton import INVOICE_METHOD
from dagster_project.publish.transports.tryton_shipments import TrytonShipmentPostings
from tests.erp.test_tryton_connector import SALES_SKUS
from tests.erp_fixtures import RunningErp, another_erp


# Posting shipments (returns) moves the ERP's stock and adds sales and invoices: this module
# works on its own clone of the template, seeded with the same world, so the session's ERP
# stays as seeded for the tests that read it (test_tryton_connector's stock).
@pytest.fixture(scope="module")
def erp(erp: RunningErp, state_dir: Path) -> Iterator[RunningErp]:
    with another_erp(erp, state_dir, "erp_shipment_postings") as own:
        yield own


@pytest.fixture
def client(erp: RunningErp) -> Iterator[TrytonClient]:
    with TrytonClient(erp.credentials) as c:
        yield c


PRICE_1 = Decimal("10.50")
PRICE_2 = Decimal("3.25")
CHARGES = Decimal("4.75")
_numbers = itertools.count(1)


@pytest.fixture
def ids(client: TrytonClient) -> dict[str, int]:
    products = client.read_all("product.product", [["code", "in", list(SALES_SKUS)]], ["code"])
    parties = client.read_all("party.party", [["code", "in", ["B2B-00001"]]], ["code"])
    return {r["code"]: r["id"] for r in [*products, *parties]}


def _sale(client: TrytonClient, ids: dict[str, int], q1: int = 4, q2: int = 2) -> str:
    """A confirmed sale of SKU-00001 × q1 and SKU-00002 × q2 plus a charges line."""
    reference = f"SHIPTEST#{next(_numbers)}-{id(client) % 10_000}"
    (outcome,) = client.create_sales_orders(
        [
            SalesOrderRequest(
                reference=reference,
                party=ids["B2B-00001"],
                lines=(
                    SalesOrderLine(ids["SKU-00001"], q1, PRICE_1),
                    SalesOrderLine(ids["SKU-00002"], q2, PRICE_2),
                    SalesOrderLine(None, 1, CHARGES, description="Shipping, tax and discounts"),
                ),
                invoice_method=INVOICE_METHOD,
            )
        ]
    )
    assert outcome.status is OutcomeStatus.CREATED, outcome.error
    return reference


def _posting(
    reference: str,
    key: str,
    lines: dict[str, int],
    *,
    first: bool = True,
    remainder: str = "backorder",
    expected: Decimal | None = None,
) -> ShipmentPosting:
    prices = {"SKU-00001": PRICE_1, "SKU-00002": PRICE_2}
    total = sum((prices[s] * q for s, q in lines.items()), Decimal(0)) + (CHARGES if first else 0)
    return ShipmentPosting(
        key=key,
        sale_reference=reference,
        lines=tuple((s, Decimal(q)) for s, q in lines.items()),
        carrier="UPS",
        tracking_number=f"1Z{key[-6:]}",
        expected_total=expected if expected is not None else total,
        remainder=remainder,
        with_charges=first,
    )


def _message(posting: ShipmentPosting, message_id: int) -> Message:
    return Message(
        id=message_id,
        target="erp_shipment_postings",
        system="tryton",
        record_key=posting.key,
        action="upsert",
        idempotency_key=f"erp_shipment_postings:{posting.key}",
        payload={
            "lines": [
                {
                    "shipment_key": posting.key,
                    "order_key": posting.sale_reference,
                    "sku": sku,
                    "quantity": str(qty),
                    "carrier": posting.carrier,
                    "tracking_number": posting.tracking_number,
                    "shipped_at": None,
                    "expected_amount": str(posting.expected_total),
                    "carries_charges": posting.with_charges,
                    "backorder_policy": "cancel" if posting.remainder == "cancel" else "allow",
                }
                for sku, qty in posting.lines
            ]
        },
    )


def _shipments(client: TrytonClient, reference: str) -> list[dict[str, Any]]:
    (sale,) = client.read_all("sale.sale", [["reference", "=", reference]], ["shipments"])
    return client.read_all(
        "stock.shipment.out", [["id", "in", sale["shipments"]]], ["reference", "state", "moves"]
    )


def _quantities(client: TrytonClient, shipment: dict[str, Any]) -> dict[int, float]:
    out: dict[int, float] = {}
    for move in client.read_all(
        "stock.move",
        [
            ["shipment", "=", f"stock.shipment.out,{shipment['id']}"],
            ["to_location.type", "=", "customer"],
        ],
        ["product", "quantity"],
    ):
        out[move["product"]] = out.get(move["product"], 0) + move["quantity"]
    return out


def _invoices(client: TrytonClient, reference: str) -> list[dict[str, Any]]:
    (sale,) = client.read_all("sale.sale", [["reference", "=", reference]], ["invoices"])
    return client.read_all(
        "account.invoice", [["id", "in", sale["invoices"]]], ["state", "total_amount", "number"]
    )


def test_a_full_shipment_is_done_and_its_invoice_posted_with_the_right_total(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    reference = _sale(client, ids)
    posting = _posting(reference, "wms_dc_east:SHP-FULL-1", {"SKU-00001": 4, "SKU-00002": 2})
    (outcome,) = post_shipments(client, [posting])
    assert outcome.status is PostingStatus.POSTED, outcome.message
    assert outcome.shipment_state == "done"
    assert outcome.invoice is not None and outcome.invoice["state"] == "posted"
    assert Decimal(outcome.invoice["total"]) == Decimal("53.25")  # 4×10.50 + 2×3.25 + 4.75
    assert outcome.invoice["number"] and outcome.invoice["due_date"]
    (shipment,) = _shipments(client, reference)
    assert shipment["state"] == "done" and key_of(shipment["reference"]) == posting.key
    assert "1Z" in shipment["reference"]  # the tracking number rides on the reference
    assert outcome.backorders == []


def test_a_partial_shipment_leaves_trytons_backorder_open(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    reference = _sale(client, ids, q1=5, q2=2)
    first = _posting(reference, "tpl_midway:945-PART-1", {"SKU-00001": 3})
    (outcome,) = post_shipments(client, [first])
    assert outcome.status is PostingStatus.POSTED, outcome.message
    assert Decimal(outcome.invoice["total"]) == 3 * PRICE_1 + CHARGES
    shipments = {s["id"]: s for s in _shipments(client, reference)}
    done = [s for s in shipments.values() if s["state"] == "done"]
    open_ = [s for s in shipments.values() if s["state"] == "waiting"]
    assert len(done) == 1 and len(open_) == 1
    assert outcome.backorders == [open_[0]["id"]]
    assert _quantities(client, done[0]) == {ids["SKU-00001"]: 3.0}
    assert _quantities(client, open_[0]) == {ids["SKU-00001"]: 2.0, ids["SKU-00002"]: 2.0}
    # the rest ships later: the backorder is posted, its own invoice without the charges
    rest = _posting(
        reference, "tpl_midway:945-PART-2", {"SKU-00001": 2, "SKU-00002": 2}, first=False
    )
    (second,) = post_shipments(client, [rest])
    assert second.status is PostingStatus.POSTED, second.message
    assert second.shipment_id == open_[0]["id"] and second.backorders == []
    assert sorted(Decimal(i["total_amount"]) for i in _invoices(client, reference)) == sorted(
        [3 * PRICE_1 + CHARGES, 2 * PRICE_1 + 2 * PRICE_2]
    )
    assert {i["state"] for i in _invoices(client, reference)} == {"posted"}


@pytest.mark.parametrize("policy", ["allow", "cancel"])
def test_a_short_pick_becomes_a_backorder_or_is_cancelled_by_policy(
    client: TrytonClient, ids: dict[str, int], policy: str
) -> None:
    reference = _sale(client, ids, q1=4, q2=2)
    remainder = "cancel" if policy == "cancel" else "backorder"
    short = _posting(
        reference,
        f"wms_dc_west:SHORT-{policy}",
        {"SKU-00001": 4, "SKU-00002": 1},
        remainder=remainder,
    )
    transport = TrytonShipmentPostings(client)
    (outcome,) = list(transport.send([_message(short, 1)]))
    assert outcome.status is Status.DELIVERED, outcome.error
    states = sorted(s["state"] for s in _shipments(client, reference))
    if policy == "allow":
        assert states == ["done", "waiting"]
        assert outcome.response["backorder_shipments"]
    else:
        assert states == ["cancelled", "done"]
        assert outcome.response["cancelled_shipments"]
        (sale,) = client.read_all("sale.sale", [["reference", "=", reference]], ["shipment_state"])
        assert sale["shipment_state"] != "exception"  # the cancelled rest is ignored
    assert outcome.response["invoice"]["state"] == "posted"


def test_the_same_message_twice_has_one_effect(client: TrytonClient, ids: dict[str, int]) -> None:
    reference = _sale(client, ids)
    posting = _posting(reference, "wms_dc_east:SHP-TWICE", {"SKU-00001": 4, "SKU-00002": 2})
    transport = TrytonShipmentPostings(client)
    first = list(transport.send([_message(posting, 1), _message(posting, 2)]))
    again = list(transport.send([_message(posting, 3)]))
    assert [o.status for o in first] == [Status.DELIVERED, Status.EXISTED]
    assert [o.status for o in again] == [Status.EXISTED]
    assert again[0].response["invoice"]["number"] == first[0].response["invoice"]["number"]
    assert len(_shipments(client, reference)) == 1
    assert len(_invoices(client, reference)) == 1


class _CutClient(TrytonClient):
    """A real client whose connection drops after ``calls`` model calls: the last one reaches
    Tryton and takes effect, its answer is lost (the hardest case for a rerun)."""

    def __init__(self, *args: Any, calls: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.left = calls

    def execute(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.left -= 1
        result = super().execute(model, method, *args, **kwargs)
        if self.left <= 0:
            raise TrytonUnavailable(
                HttpTransportError(
                    "tryton",
                    "POST",
                    "rpc/",
                    f"connection dropped by the test after model.{model}.{method}",
                    "none: a test",
                    True,
                ),
                method=f"model.{model}.{method}",
            )
        return result


@pytest.mark.parametrize("cut_after", [5, 6, 8, 9, 10, 11, 13, 17])
def test_a_delivery_killed_mid_batch_and_rerun_leaves_every_document_once(
    client: TrytonClient, ids: dict[str, int], erp: Any, cut_after: int
) -> None:
    references = [_sale(client, ids) for _ in range(3)]
    postings = [
        _posting(ref, f"wms_dc_east:CUT{cut_after}-{n}", {"SKU-00001": 4, "SKU-00002": 2})
        for n, ref in enumerate(references)
    ]
    with _CutClient(erp.credentials, calls=cut_after) as cut:
        outcomes = post_shipments(cut, postings)
    assert any(o.retryable for o in outcomes) or all(
        o.status is PostingStatus.POSTED for o in outcomes
    )
    rerun = post_shipments(client, postings)
    assert all(o.status is not PostingStatus.FAILED for o in rerun), [o.message for o in rerun]
    for ref, posting in zip(references, postings, strict=True):
        shipments = _shipments(client, ref)
        assert [s["state"] for s in shipments] == ["done"]
        assert key_of(shipments[0]["reference"]) == posting.key
        invoices = _invoices(client, ref)
        assert [(i["state"], Decimal(i["total_amount"])) for i in invoices] == [
            ("posted", Decimal("53.25"))
        ]


def test_a_delivery_whose_reader_stops_after_the_first_outcome_is_finished_by_a_rerun(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    references = [_sale(client, ids) for _ in range(3)]
    messages = [
        _message(_posting(ref, f"wms_dc_east:STOP-{n}", {"SKU-00001": 4, "SKU-00002": 2}), n)
        for n, ref in enumerate(references)
    ]
    transport = TrytonShipmentPostings(client, batch_size=1)
    stream: Iterator[Any] = iter(transport.send(messages))
    assert next(stream).status is Status.DELIVERED
    del stream  # the delivery dies here
    again = list(TrytonShipmentPostings(client).send(messages))
    assert [o.status for o in again] == [Status.EXISTED, Status.DELIVERED, Status.DELIVERED]
    for ref in references:
        assert [s["state"] for s in _shipments(client, ref)] == ["done"]
        assert [i["state"] for i in _invoices(client, ref)] == ["posted"]


def test_an_invoice_total_mismatch_is_dead_and_the_invoice_stays_a_draft(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    reference = _sale(client, ids)
    posting = _posting(
        reference,
        "wms_dc_east:SHP-MISMATCH",
        {"SKU-00001": 4, "SKU-00002": 2},
        expected=Decimal("53.24"),
    )
    (outcome,) = list(TrytonShipmentPostings(client).send([_message(posting, 1)]))
    assert outcome.status is Status.DEAD
    assert outcome.error_code == "invoice_mismatch"
    assert "53.25" in outcome.error and "53.24" in outcome.error
    assert [i["state"] for i in _invoices(client, reference)] == ["draft"]


def test_more_than_the_erp_expects_is_dead_with_both_figures_and_nothing_written(
    client: TrytonClient, ids: dict[str, int]
) -> None:
    reference = _sale(client, ids, q1=2)
    posting = _posting(reference, "wms_dc_east:SHP-OVER", {"SKU-00001": 3})
    (outcome,) = list(TrytonShipmentPostings(client).send([_message(posting, 1)]))
    assert outcome.status is Status.DEAD and outcome.error_code == "quantity_exceeds_erp"
    assert "shipped 3" in outcome.error and "expects 2" in outcome.error
    (shipment,) = _shipments(client, reference)
    assert shipment["state"] == "waiting" and not shipment["reference"]
