"""The Tryton connector against a real trytond seeded with the 50-SKU world."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from dagster_project.connectors.tryton import (
    TrytonClient,
    TrytonCredentials,
    TrytonLoginError,
    TrytonStream,
    decode,
    encode,
)
from dagster_project.ingest.registry import declared_systems
from sandbox.world import World
from tests.erp_fixtures import RunningErp

# the sales-order tests sell these; the stock test leaves their forecast alone
SALES_SKUS = ("SKU-00001", "SKU-00002", "SKU-00005")
# the ERP's streams as declared (defs/kinds/tryton.yaml), but stock, which is read by code
STREAMS = {
    s.name: TrytonStream.from_declaration(s) for s in declared_systems()["tryton"][1] if s.query
}


def _all(client: TrytonClient, stream: str, **kw: Any) -> tuple[list[dict], Any]:
    pages = list(client.read_stream(STREAMS.get(stream, stream), **kw))
    return [r for p in pages for r in p.records], (pages[-1].cursor if pages else None)


def test_login_and_context(client: TrytonClient, erp: RunningErp) -> None:
    context = client.login()
    (company,) = client.read_all("company.company", [], ["currency.code"])
    assert context["company"] == company["id"]
    assert context["language"] == "en"
    assert company["currency."]["code"] == "USD"
    wrong = TrytonCredentials(erp.credentials.url, erp.credentials.user, "not-the-password")
    with TrytonClient(wrong) as bad, pytest.raises(TrytonLoginError) as info:
        bad.login()
    assert "DISTROHUB_TRYTON_PASSWORD" in str(info.value)
    assert "not-the-password" not in str(info.value)


def test_an_expired_session_is_renewed_once(client: TrytonClient) -> None:
    client.login()
    client._session = "Session " + "bm90OmE6c2Vzc2lvbg=="  # not a session of this server
    assert client.read_all("company.company", [], ["id"])


def test_stock_per_warehouse_matches_what_was_seeded(
    client: TrytonClient, world: World, seed_report: dict
) -> None:
    assert seed_report["created"]["inventories"] >= 3
    rows, _ = _all(client, "stock")
    got = {(r["product_code"], r["warehouse_code"]): r for r in rows}
    book = {(b.sku, b.location): b.quantity for b in world.erp_stock}
    planned: dict[tuple[str, str], int] = defaultdict(int)  # incoming - outgoing, not done
    for po in world.open_purchase_orders:
        for line in po.lines:
            planned[(line.sku, po.location)] += line.quantity
    for so in world.erp_sales_orders:
        if so.state != "cancelled" and so.shipment_state != "done":
            for ln in so.lines:
                item = world.item(ln.sku)
                if not item.is_kit:
                    pack = item.case_pack if ln.unit == "CS" and item.case_pack > 1 else 1
                    planned[(ln.sku, so.warehouse)] -= ln.quantity * pack
    assert {r["warehouse_code"] for r in rows} == {"DC-EAST", "DC-WEST", "3PL"}
    for key, row in got.items():
        assert row["quantity"] == book.get(key, 0), key
        if key[0] not in SALES_SKUS:
            assert row["forecast_quantity"] == book.get(key, 0) + planned.get(key, 0), key
    assert set(book) <= set(got)


def test_every_stream_reads(client: TrytonClient, world: World) -> None:
    counts = {name: len(_all(client, name)[0]) for name in STREAMS}
    assert counts["items"] == len(world.items)
    assert counts["warehouses"] == 3
    assert counts["purchases"] == len(world.open_purchase_orders)
    assert counts["parties"] >= len(world.customers) + len(world.suppliers)
    assert counts["price_lists"] >= len(world.price_lists)


def test_a_changed_item_is_picked_up_incrementally(client: TrytonClient, world: World) -> None:
    items, cursor = _all(client, "items")
    assert cursor is not None
    by_code = {r["code"]: r for r in items}
    changed = by_code["SKU-00010"]
    client.execute(
        "product.template", "write", [changed["template"]], {"list_price": Decimal("199.95")}
    )
    first, cursor2 = _all(client, "items", since=cursor, lookback=dt.timedelta(0))
    assert "SKU-00010" in {r["code"] for r in first}
    assert cursor2 > cursor
    # from the new cursor on, only what changed after it
    again, _ = _all(client, "items", since=cursor2, lookback=dt.timedelta(0))
    assert [r["code"] for r in again] == ["SKU-00010"]
    assert again[0]["list_price_used"] == Decimal("199.95")
    # a cost price lives in its own table: still seen through the watched path
    # (on an item without stock moves: Tryton refuses a plain write otherwise)
    kit = next(it.sku for it in world.items if it.is_kit)
    other = by_code[kit]
    client.execute("product.product", "write", [other["id"]], {"cost_price": Decimal("12.3456")})
    later, _ = _all(client, "items", since=cursor2, lookback=dt.timedelta(0))
    assert {"SKU-00010", kit} <= {r["code"] for r in later}
    assert {r["code"]: r["cost_price"] for r in later}[kit] == Decimal("12.3456")


def test_typed_values_decode_exactly(client: TrytonClient, world: World) -> None:
    items, _ = _all(client, "items")
    item = world.item("SKU-00003")
    (row,) = [r for r in items if r["code"] == item.sku]
    assert row["list_price_used"] == item.list_price and isinstance(row["cost_price"], Decimal)
    assert row["cost_price"] == item.cost_price
    assert row["create_date"].tzinfo is dt.UTC
    purchases, _ = _all(client, "purchases")
    po = world.open_purchase_orders[0]
    (match,) = [p for p in purchases if p["reference"] == po.number]
    assert match["purchase_date"] == po.order_date.date()
    assert match["total_amount"] == po.total
    values = {
        "d": Decimal("0.10"),
        "t": dt.datetime(2026, 3, 2, 12, 30, 5, 123456, tzinfo=dt.UTC),
        "day": dt.date(2026, 3, 2),
        "dur": dt.timedelta(days=2, seconds=5),
        "raw": b"\x00\xffbytes",
        "when": dt.time(23, 59, 58, 7),
    }
    assert decode(encode(values)) == values
    # a non-UTC aware datetime is sent as UTC
    paris = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert decode(encode(paris)) == dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
