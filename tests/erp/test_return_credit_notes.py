"""Customer returns become return sales, received return shipments and posted credit notes in
the real Tryton: the right total, both inspection outcomes, exactly once (resent, or rerun
after the delivery was killed mid-batch), and a total that does not add up is not posted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dagster_project.connectors.tryton import (
    ENV_PASSWORD,
    ENV_URL,
    ENV_USER,
    SalesOrderLine,
    SalesOrderRequest,
    TrytonClient,
)
from dagster_project.publish.transports import open_transport
from dagster_project.publish.transports.base import Message, Status
from dagster_project.publish.transports.tryton_returns import TrytonReturns
from tests.erp_fixtures import RunningErp, another_erp
from tests.waiting import wait_until


# Posting shipments (returns) moves the ERP's stock and adds sales and invoices: this module
# works on its own clone of the template, seeded with the same world, so the session's ERP
# stays as seeded for the tests that read it (test_tryton_connector's stock).
@pytest.fixture(scope="module")
def erp(erp: RunningErp, state_dir: Path) -> Iterator[RunningErp]:
    with another_erp(erp, state_dir, "erp_return_credit_notes") as own:
        yield own


@pytest.fixture
def client(erp: RunningErp) -> Iterator[TrytonClient]:
    with TrytonClient(erp.credentials) as c:
        yield c


WAREHOUSE = "DC-EAST"
PARTY = "D2C-000001"
SKUS = ("SKU-00001", "SKU-00002")
PRICES = {"SKU-00001": Decimal("12.34"), "SKU-00002": Decimal("7.05")}


@pytest.fixture
def ids(client: TrytonClient) -> dict[str, int]:
    rows = client.read_all("product.product", [["code", "in", list(SKUS)]], ["code"])
    rows += client.read_all("party.party", [["code", "=", PARTY]], ["code"])
    return {r["code"]: r["id"] for r in rows}


@pytest.fixture
def waste(client: TrytonClient) -> int:
    """The receiving warehouse's waste location: its Lost and Found, as Tryton allows."""
    (wh,) = client.read_all(
        "stock.location",
        [["type", "=", "warehouse"], ["code", "=", WAREHOUSE]],
        ["lost_found_location", "waste_locations"],
    )
    if wh["lost_found_location"] not in wh["waste_locations"]:
        client.execute(
            "stock.location",
            "write",
            [wh["id"]],
            {"waste_locations": [["add", [wh["lost_found_location"]]]]},
        )
    return wh["lost_found_location"]


@pytest.fixture
def transport(
    erp: RunningErp, client: TrytonClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TrytonReturns]:
    """The transport as a delivery opens it: the declared system, its variables."""
    monkeypatch.setenv(ENV_URL, erp.credentials.url)
    monkeypatch.setenv(ENV_USER, erp.credentials.user)
    monkeypatch.setenv(ENV_PASSWORD, erp.credentials.password)
    t = open_transport("tryton_returns", "tryton")
    assert isinstance(t, TrytonReturns)
    yield t
    t.close()


def _shipped_orders(client: TrytonClient, ids: dict[str, int], *order_keys: str) -> None:
    """Storefront orders as ERP sales (the intake's own call), shipped in Tryton."""
    created = client.create_sales_orders(
        [
            SalesOrderRequest(
                reference=key,
                party=ids[PARTY],
                lines=tuple(SalesOrderLine(ids[sku], 3, PRICES[sku]) for sku in SKUS),
            )
            for key in order_keys
        ]
    )
    assert all(c.ok for c in created), [c.error for c in created]
    sales = client.read_all(
        "sale.sale", [["id", "in", [c.sale_id for c in created]]], ["reference", "shipments"]
    )
    assert all(s["shipments"] for s in sales), f"a sale without customer shipment: {sales}"
    shipments = [
        s["id"]
        for s in client.read_all(
            "stock.shipment.out",
            [["id", "in", [i for s in sales for i in s["shipments"]]]],
            ["state"],
        )
        if s["state"] != "done"
    ]
    for step in ("assign_force", "pick", "pack", "do"):
        if shipments:
            client.execute("stock.shipment.out", step, shipments)


def _line(rma: str, order_key: str, n: int, sku: str, qty: int, outcome: str | None) -> dict:
    return {
        "return_key": f"wms_dc_east:{rma}",
        "rma": rma,
        "return_system": "wms_dc_east",
        "location": WAREHOUSE,
        "order_key": order_key,
        "line_number": n,
        "sku": sku,
        "quantity": qty,
        "unit_price": str(PRICES[sku]),
        "outcome": outcome,
    }


def _message(mid: int, lines: list[dict]) -> Message:
    key = lines[0]["return_key"]
    return Message(
        mid, "erp_returns", "tryton", key, "upsert", {"lines": lines}, f"erp_returns:{key}"
    )


def _documents(client: TrytonClient, key: str) -> dict[str, Any]:
    sales = client.read_all(
        "sale.sale", [["reference", "=", key]], ["state", "shipment_returns", "invoices"]
    )
    shipments = [s for sale in sales for s in sale["shipment_returns"]]
    invoices = client.read_all(
        "account.invoice",
        [["id", "in", [i for sale in sales for i in sale["invoices"]]]],
        ["number", "state", "total_amount", "reference"],
    )
    return {"sales": sales, "shipments": shipments, "invoices": invoices}


def _moves_to(client: TrytonClient, shipment: int, location: int) -> float:
    (row,) = client.read_all(
        "stock.shipment.out.return", [["id", "=", shipment]], ["state", "inventory_moves"]
    )
    moves = client.read_all(
        "stock.move", [["id", "in", row["inventory_moves"]]], ["to_location", "quantity", "state"]
    )
    assert {m["state"] for m in moves} == {"done"}
    return sum(m["quantity"] for m in moves if m["to_location"] == location)


def test_a_received_then_inspected_return_becomes_one_posted_credit_note(
    client: TrytonClient, ids: dict[str, int], waste: int, transport: TrytonReturns
) -> None:
    _shipped_orders(client, ids, "D2C#R-1")
    received = [
        _line("RMA-R1", "D2C#R-1", 1, "SKU-00001", 2, None),
        _line("RMA-R1", "D2C#R-1", 2, "SKU-00002", 1, None),
    ]
    (first,) = transport.send([_message(1, received)])
    assert first.status is Status.DELIVERED, first.error
    assert first.response["shipment_state"] == "received"
    assert first.response["credit_note_state"] in (None, "draft")
    # inspected a day later: SKU-00001 back to sellable, SKU-00002 damaged
    inspected = [
        _line("RMA-R1", "D2C#R-1", 1, "SKU-00001", 2, "restock"),
        _line("RMA-R1", "D2C#R-1", 2, "SKU-00002", 1, "damaged"),
    ]
    (done,) = transport.send([_message(2, inspected)])
    assert done.status is Status.DELIVERED, done.error
    expected = -(2 * PRICES["SKU-00001"] + PRICES["SKU-00002"])  # -31.73
    assert done.response["credit_note_state"] == "posted"
    assert Decimal(done.response["credit_note_total"]) == expected
    assert done.response["credit_note_number"]
    docs = _documents(client, "wms_dc_east:RMA-R1")
    assert len(docs["sales"]) == 1 and len(docs["shipments"]) == 1
    (note,) = docs["invoices"]
    assert note["state"] == "posted" and note["total_amount"] == expected
    assert note["reference"] == "wms_dc_east:RMA-R1"
    # the damaged unit went to the warehouse's waste location, the others to storage
    assert _moves_to(client, docs["shipments"][0], waste) == 1.0
    # the same message again: nothing new in Tryton
    (again,) = transport.send([_message(3, inspected)])
    assert again.status is Status.EXISTED, again.error
    assert again.response["credit_note_number"] == done.response["credit_note_number"]
    assert _documents(client, "wms_dc_east:RMA-R1") == docs


def test_sent_twice_in_one_batch_makes_one_return_and_one_credit_note(
    client: TrytonClient, ids: dict[str, int], waste: int, transport: TrytonReturns
) -> None:
    _shipped_orders(client, ids, "D2C#R-2")
    lines = [_line("RMA-R2", "D2C#R-2", 1, "SKU-00001", 3, "damaged")]
    outcomes = list(transport.send([_message(1, lines), _message(2, lines)]))
    assert [o.status for o in outcomes] == [Status.DELIVERED, Status.EXISTED], outcomes
    docs = _documents(client, "wms_dc_east:RMA-R2")
    assert len(docs["sales"]) == 1 and len(docs["shipments"]) == 1
    (note,) = docs["invoices"]
    assert note["state"] == "posted" and note["total_amount"] == -3 * PRICES["SKU-00001"]
    assert _moves_to(client, docs["shipments"][0], waste) == 3.0


def test_a_credit_note_that_does_not_add_up_is_dead_and_not_posted(
    client: TrytonClient, ids: dict[str, int], waste: int, transport: TrytonReturns
) -> None:
    _shipped_orders(client, ids, "D2C#R-3")
    lines = [_line("RMA-R3", "D2C#R-3", 1, "SKU-00002", 2, None)]
    (received,) = transport.send([_message(1, lines)])
    assert received.status is Status.DELIVERED, received.error
    # someone changes the return sale's price in the ERP before inspection
    (sale,) = client.read_all("sale.sale", [["reference", "=", "wms_dc_east:RMA-R3"]], ["lines"])
    (invoice_line,) = client.read_all(
        "account.invoice.line", [["origin", "=", f"sale.line,{sale['lines'][0]}"]], ["id"]
    )
    client.execute(
        "account.invoice.line", "write", [invoice_line["id"]], {"unit_price": Decimal("7.00")}
    )
    inspected = [_line("RMA-R3", "D2C#R-3", 1, "SKU-00002", 2, "restock")]
    (outcome,) = transport.send([_message(2, inspected)])
    assert outcome.status is Status.DEAD
    assert outcome.error_code == "credit_mismatch"
    assert "-14.00" in outcome.error and "-14.10" in outcome.error, outcome.error
    assert "RMA-R3" in outcome.error and "Fix:" in outcome.error
    (note,) = _documents(client, "wms_dc_east:RMA-R3")["invoices"]
    assert note["state"] == "draft" and not note["number"]


def test_a_return_for_an_order_not_in_the_erp_is_dead_with_the_fix(
    client: TrytonClient, waste: int, transport: TrytonReturns
) -> None:
    lines = [_line("RMA-R4", "D2C#R-NOPE", 1, "SKU-00001", 1, None)]
    (outcome,) = transport.send([_message(1, lines)])
    assert outcome.status is Status.DEAD and outcome.error_code == "sale_not_in_erp"
    assert "erp_sales_orders" in outcome.error
    assert _documents(client, "wms_dc_east:RMA-R4")["sales"] == []


def test_a_return_sale_cancelled_in_the_erp_is_not_made_again(
    client: TrytonClient, ids: dict[str, int], waste: int, transport: TrytonReturns
) -> None:
    _shipped_orders(client, ids, "D2C#R-5")
    key = "wms_dc_east:RMA-R5"
    (quoted,) = client.create_sales_orders(
        [SalesOrderRequest(key, ids[PARTY], (SalesOrderLine(ids["SKU-00001"], -1, Decimal(1)),))],
        confirm=False,
    )
    client.execute("sale.sale", "cancel", [quoted.sale_id])
    lines = [_line("RMA-R5", "D2C#R-5", 1, "SKU-00001", 1, "restock")]
    (outcome,) = transport.send([_message(1, lines)])
    assert outcome.status is Status.DEAD and outcome.error_code == "return_cancelled_in_erp"
    assert key in outcome.error and "Fix:" in outcome.error
    assert [s["state"] for s in _documents(client, key)["sales"]] == ["cancelled"]


# a delivery in its own process, killed mid-batch -------------------------------------
_DELIVER = """
import json, sys
from dagster_project.connectors.tryton import TrytonClient, TrytonCredentials
from dagster_project.publish.transports.base import Message
from dagster_project.publish.transports.tryton_returns import TrytonReturns
url, user, password = sys.argv[1:4]
messages = [Message(**m) for m in json.load(sys.stdin)]
transport = TrytonReturns(TrytonClient(TrytonCredentials(url, user, password)), batch_size=4)
for outcome in transport.send(messages):
    print(outcome.status, flush=True)
"""


def test_killed_mid_batch_and_rerun_leaves_every_document_exactly_once(
    erp: RunningErp,
    client: TrytonClient,
    ids: dict[str, int],
    waste: int,
    transport: TrytonReturns,
) -> None:
    _shipped_orders(client, ids, *[f"D2C#R-K{n}" for n in range(12)])
    messages = [
        _message(
            n + 1,
            [
                _line(
                    f"RMA-K{n}",
                    f"D2C#R-K{n}",
                    1,
                    "SKU-00001",
                    1,
                    "damaged" if n % 3 == 0 else "restock",
                )
            ],
        )
        for n in range(12)
    ]
    keys = [m.record_key for m in messages]
    env = {k: v for k, v in os.environ.items() if k not in (ENV_URL, ENV_USER, ENV_PASSWORD)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _DELIVER,
            erp.credentials.url,
            erp.credentials.user,
            erp.credentials.password,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps([m.__dict__ for m in messages]))
    proc.stdin.close()

    def some_but_not_all_posted() -> bool:
        posted = client.read_all(
            "account.invoice", [["reference", "in", keys], ["state", "=", "posted"]], ["id"]
        )
        return 0 < len(posted) < len(keys)

    wait_until(
        "the first credit notes of the delivery to be posted, not yet all",
        some_but_not_all_posted,
        timeout=120,
        interval=0.02,
    )
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed in the middle, not finished
    posted = client.read_all(
        "account.invoice", [["reference", "in", keys], ["state", "=", "posted"]], ["id"]
    )
    assert len(posted) < len(keys), "the delivery finished before it was killed"
    # the rerun finishes the lot, and nothing exists twice
    outcomes = list(transport.send(messages))
    assert {o.status for o in outcomes} <= {Status.DELIVERED, Status.EXISTED}, outcomes
    for key in keys:
        docs = _documents(client, key)
        assert len(docs["sales"]) == 1, key
        assert len(docs["shipments"]) == 1, key
        (note,) = docs["invoices"]
        assert note["state"] == "posted" and note["total_amount"] == -PRICES["SKU-00001"], key
