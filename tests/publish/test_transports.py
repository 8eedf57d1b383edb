"""The transports against the real sandbox systems and the real Tryton ERP.

Each kind: a delivery lands in the target (asserted on the sandbox's received
state, its truth or Tryton's sales); the same message twice has one effect;
an invalid message is DEAD with the right code and the target's answer, and
nothing lands. Ids and orders come from the sandbox's own world, read through
its APIs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from dagster_project.connectors.tryton import TrytonClient
from dagster_project.hub.migrate import apply_migrations
from dagster_project.publish.transports import (
    Message,
    Outcome,
    Status,
    TransportConfigError,
    open_transport,
)
from dagster_project.publish.transports.wms import release_body
from dagster_project.publish.transports.x12_files import edi_settings, file_name
from sandbox.testing import running_sandbox
from tests.erp_fixtures import RunningErp
from tests.ingest.test_sandbox_ingest import environment

SEED = 11
_ids = iter(range(1, 1_000_000))


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with running_sandbox(seed=SEED, skus=50, days=2) as handle:
        with environment(handle.env):
            yield handle


def message(
    target: str, system: str, record_key: str, payload: dict[str, Any], key: str | None = None
) -> Message:
    return Message(
        id=next(_ids),
        target=target,
        system=system,
        record_key=record_key,
        action="upsert",
        payload=payload,
        idempotency_key=key or f"{target}:{record_key}:{uuid.uuid4().hex[:8]}",
        attempts=0,
    )


def send(kind: str, system: str, *messages: Message, **kw: Any) -> list[Outcome]:
    transport = open_transport(kind, system, **kw)
    try:
        return list(transport.send(list(messages)))
    finally:
        transport.close()


def shopify(sb: Any, channel: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{sb.shopify_url(channel)}/admin/api/2025-07/",
        headers={"X-Shopify-Access-Token": sb.shopify_token(channel)},
    )


# ------------------------------------------------------------------ shopify
def test_inventory_level_lands_once_and_unknown_item_is_dead(sb: Any) -> None:
    with shopify(sb, "D2C") as api:
        product = api.get("products.json", params={"limit": 1}).json()["products"][0]
        item = product["variants"][0]["inventory_item_id"]
        location = api.get("locations.json").json()["locations"][0]["id"]
    payload = {"inventory_item_id": item, "location_id": location, "available": 37}
    key = f"shopify_d2c:{item}@{location}"
    first = message("storefront_inventory", "shopify_d2c", key, payload)
    outcomes = send("shopify_inventory_levels", "shopify_d2c", first, first)
    assert [o.status for o in outcomes] == [Status.DELIVERED, Status.DELIVERED]
    assert outcomes[0].response["available"] == 37
    sets = sb.control.received()["shopify"]["D2C"]["inventory_level_sets"]
    assert len(sets) == 2 and all(s["available"] == 37 for s in [s.get("body", s) for s in sets])

    bad = message(
        "storefront_inventory",
        "shopify_d2c",
        "bad",
        {"inventory_item_id": item + 10**6, "location_id": location, "available": 5},
    )
    (outcome,) = send("shopify_inventory_levels", "shopify_d2c", bad)
    assert outcome.status is Status.DEAD and outcome.error_code == "unknown_sku"
    assert outcome.response and "shopify_d2c" in outcome.error
    assert sb.env["DISTROHUB_SHOPIFY_D2C_TOKEN"] not in (outcome.error + str(outcome.response))
    assert len(sb.control.received()["shopify"]["D2C"]["inventory_level_sets"]) == 2


def test_variant_price_is_an_absolute_set_and_unknown_variant_is_dead(sb: Any) -> None:
    with shopify(sb, "MARKETPLACE") as api:
        product = api.get("products.json", params={"limit": 1}).json()["products"][0]
        variant = product["variants"][0]["id"]
        payload = {"variant_id": variant, "price": Decimal("12.3"), "compare_at_price": "15.00"}
        msg = message("storefront_prices", "shopify_marketplace", f"x:{variant}", payload)
        outcomes = send("shopify_variant_prices", "shopify_marketplace", msg, msg)
        assert [o.status for o in outcomes] == [Status.DELIVERED, Status.DELIVERED]
        now = api.get(f"variants/{variant}.json").json()["variant"]
        assert (now["price"], now["compare_at_price"]) == ("12.30", "15.00")
        # a None compare-at price clears it
        cleared = message(
            "storefront_prices",
            "shopify_marketplace",
            f"x:{variant}",
            {**payload, "compare_at_price": None},
        )
        (outcome,) = send("shopify_variant_prices", "shopify_marketplace", cleared)
        assert outcome.status is Status.DELIVERED
        assert api.get(f"variants/{variant}.json").json()["variant"]["compare_at_price"] is None
    updates = sb.control.received()["shopify"]["MARKETPLACE"]["variant_price_updates"]
    bad = message(
        "storefront_prices", "shopify_marketplace", "bad", {**payload, "variant_id": variant + 7**9}
    )
    (outcome,) = send("shopify_variant_prices", "shopify_marketplace", bad)
    assert outcome.status is Status.DEAD and outcome.error_code == "unknown_sku"
    assert sb.control.received()["shopify"]["MARKETPLACE"]["variant_price_updates"] == updates


def test_fulfillment_lands_once_then_nothing_is_left(sb: Any) -> None:
    with shopify(sb, "D2C") as api:
        orders = api.get(
            "orders.json",
            params={"status": "open", "fulfillment_status": "unfulfilled", "limit": 50},
        ).json()["orders"]
        order = next(o for o in orders if o["line_items"] and not o.get("cancelled_at"))
        lines = [{"id": li["id"], "quantity": li["quantity"]} for li in order["line_items"]]
        payload = {
            "storefront_order_id": order["id"],
            "shipment_id": "SHP-T1",
            "tracking_number": f"1ZTEST{uuid.uuid4().hex[:10].upper()}",
            "carrier": "UPS",
            "line_items": lines,
        }
        msg = message("storefront_fulfillments", "shopify_d2c", f"d2c:{order['id']}", payload)
        first, again = send("shopify_fulfillments", "shopify_d2c", msg, msg)
        assert first.status is Status.DELIVERED, first.error
        assert again.status is Status.EXISTED
        assert again.response["id"] == first.response["id"]
        found = api.get(f"orders/{order['id']}/fulfillments.json").json()["fulfillments"]
        assert [f["tracking_number"] for f in found] == [payload["tracking_number"]]
    assert len(sb.control.received()["shopify"]["D2C"]["fulfillments"]) == 1

    other = message(
        "storefront_fulfillments",
        "shopify_d2c",
        "other",
        {**payload, "tracking_number": "1ZOTHER", "shipment_id": "SHP-T2"},
    )
    unknown_line = message(
        "storefront_fulfillments",
        "shopify_d2c",
        "bad-line",
        {**payload, "tracking_number": "1ZBAD", "line_items": [{"id": 42, "quantity": 1}]},
    )
    nothing, bad = send("shopify_fulfillments", "shopify_d2c", other, unknown_line)
    assert nothing.status is Status.DEAD and nothing.error_code == "nothing_to_fulfil"
    assert bad.status is Status.DEAD and bad.error_code == "rejected_by_target"
    assert len(sb.control.received()["shopify"]["D2C"]["fulfillments"]) == 1


# ---------------------------------------------------------------------- WMS
def _stocked_skus(sb: Any, location: str, count: int) -> list[str]:
    with httpx.Client(
        base_url=sb.wms_url(location),
        headers={"Authorization": f"Bearer {sb.env['DISTROHUB_WMS_DC_EAST_TOKEN']}"},
    ) as api:
        rows = api.get("/v1/stock", params={"status": "sellable", "limit": 1000}).json()["data"]
    return sorted({r["sku"] for r in rows})[:count]


def _release_lines(order_key: str, location: str, skus: list[str]) -> list[dict[str, Any]]:
    head = {
        "release_key": f"{order_key}@{location}",
        "order_key": order_key,
        "channel": "D2C",
        "service_level": "GROUND",
        "shipping_country_code": "US",
        "shipping_province_code": "NY",
    }
    # line 1 stocked; line 2 a kit of the other SKUs (listed in reverse to test the order)
    lines = [{**head, "line_number": 1, "sku": skus[0], "kit_sku": None, "quantity": 2}]
    for sku in reversed(skus[1:]):
        lines.append({**head, "line_number": 2, "sku": sku, "kit_sku": "KIT-X", "quantity": 1})
    return lines


def test_wms_release_lands_once_conflicts_and_rejections(sb: Any) -> None:
    skus = _stocked_skus(sb, "DC-EAST", 3)
    order_key = f"D2C#T{uuid.uuid4().hex[:6]}"
    lines = _release_lines(order_key, "DC-EAST", skus)
    body = release_body({"lines": lines})
    assert [ln["line_ref"] for ln in body["lines"]] == ["1", "2.1", "2.2"]
    assert [ln["sku"] for ln in body["lines"]] == skus
    msg = message("warehouse_releases", "wms_dc_east", lines[0]["release_key"], {"lines": lines})
    first, again = send("wms_releases", "wms_dc_east", msg, msg)
    assert (first.status, again.status) == (Status.DELIVERED, Status.EXISTED), first.error
    received = sb.control.received()["wms"]["DC-EAST"]["releases"]
    mine = [r for r in received if r.get("order_ref") == order_key]
    assert len({r.get("release_id") for r in mine}) == 1
    truth = sb.control.truth(["releases"])["releases"]
    assert order_key in str(truth)

    changed = [{**ln, "quantity": ln["quantity"] + 1} for ln in lines]
    conflict = message("warehouse_releases", "wms_dc_east", "c", {"lines": changed})
    unknown = [{**lines[0], "release_key": f"{order_key}-2@DC-EAST", "sku": "NO-SUCH-SKU"}]
    rejected = message("warehouse_releases", "wms_dc_east", "u", {"lines": unknown})
    c, r = send("wms_releases", "wms_dc_east", conflict, rejected)
    assert c.status is Status.DEAD and c.error_code == "conflict" and c.response
    assert r.status is Status.DEAD and r.error_code == "rejected_by_target"
    assert "NO-SUCH-SKU" in str(r.response)
    assert f"{order_key}-2@DC-EAST" not in str(sb.control.received()["wms"])


# ----------------------------------------------------------------------- X12
@pytest.fixture(scope="module")
def hub(pg_cluster: Any) -> Iterator[str]:
    from tests.conftest import fresh_database

    with fresh_database(pg_cluster) as url:
        apply_migrations(url)
        yield url


def test_edi_settings_are_declared_and_validated() -> None:
    from dagster_project.ingest.registry import declared_systems

    systems = declared_systems()
    for name in ("tpl_midway", "supplier_acme", "supplier_boreal", "supplier_cascade"):
        edi = edi_settings(name, systems[name][0].settings)
        assert (edi.own_isa.qualifier, edi.own_isa.id) == ("ZZ", "DISTROHUB")
    with pytest.raises(TransportConfigError, match=r"supplier_x: .*settings\.edi\.line_break"):
        edi_settings(
            "supplier_x",
            {"edi": {**systems["supplier_acme"][0].settings["edi"], "line_break": "\t"}},
        )


def _940_lines(order_key: str, skus: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "release_key": f"{order_key}@3PL",
            "order_key": order_key,
            "service_level": "GROUND",
            "shipping_country_code": "US",
            "shipping_province_code": "IL",
            "line_number": n,
            "sku": sku,
            "kit_sku": None,
            "quantity": 1,
        }
        for n, sku in enumerate(skus, start=1)
    ]


def test_940_lands_once_in_the_3pl_outbox(sb: Any, hub: str) -> None:
    skus = sorted(
        i.sku
        for i in sb.runtime.sim.world.items
        if not i.kit_components and not i.drop_ship_supplier
    )[:2]
    order_key = f"D2C#T{uuid.uuid4().hex[:6]}"
    lines = _940_lines(order_key, skus)
    msg = message("warehouse_releases", "tpl_midway", f"{order_key}@3PL", {"lines": lines})
    (first,) = send("x12_940", "tpl_midway", msg, hub_url=hub)
    assert first.status is Status.DELIVERED, first.error
    outbox = Path(sb.env["DISTROHUB_3PL_OUTBOX_DIR"])
    name = first.response["file"]
    path = outbox / name if (outbox / name).exists() else outbox / "archive" / name
    text = path.read_bytes().decode()
    assert text.startswith("ISA*00*") and "ZZ*MIDWAY3PL" in text and "\r\n" in text
    assert f"W05*N*{order_key}~" in text and f"W01*1*EA**SK*{skus[0]}~" in text
    files = sb.control.received()["3pl"]["files"]  # the sandbox reads (and archives) it
    (entry,) = [f for f in files if f["file"] == first.response["file"]]
    assert entry["status"] == "accepted"
    assert entry["orders"] == [{"number": order_key, "status": "accepted"}] or (
        entry["orders"][0]["number"] == order_key
        and entry["orders"][0]["status"] not in ("rejected", "duplicate")
    )
    (again,) = send("x12_940", "tpl_midway", msg, hub_url=hub)
    assert again.status is Status.EXISTED and again.response["found_in"] == "archive"
    assert len([f for f in sb.control.received()["3pl"]["files"] if order_key in str(f)]) == 1

    before = sorted(p.name for p in outbox.rglob("*"))
    bad = message(
        "warehouse_releases",
        "tpl_midway",
        "bad",
        {"lines": [{**lines[0], "sku": "SKU*1"}]},  # the 3PL's element separator
    )
    no_sku = message(
        "warehouse_releases", "tpl_midway", "bad2", {"lines": [{**lines[0], "sku": None}]}
    )
    outcomes = send("x12_940", "tpl_midway", bad, no_sku, hub_url=hub)
    assert [(o.status, o.error_code) for o in outcomes] == [(Status.DEAD, "rejected_by_target")] * 2
    assert sorted(p.name for p in outbox.rglob("*")) == before


def test_850_lands_once_per_supplier_format(sb: Any, hub: str) -> None:
    world = sb.runtime.sim.world
    for supplier in ("ACME", "BOREAL"):
        system = f"supplier_{supplier.lower()}"
        items = [i for i in world.items if i.supplier == supplier and not i.kit_components][:2]
        po_number = f"PO-T{uuid.uuid4().hex[:6].upper()}"
        lines = [
            {
                "po_number": po_number,
                "supplier_code": supplier,
                "supplier_system": system,
                "ship_to_location": "DC-EAST",
                "line_sequence": n,
                "sku": item.sku,
                "supplier_part": item.supplier_part,
                "quantity": 12.0,
                "unit_cost": Decimal(str(item.cost_price)),
                "currency": "USD",
                "purchase_date": "2026-03-02",
                "delivery_date": "2026-03-09",
            }
            for n, item in enumerate(items, start=1)
        ]
        msg = message("supplier_purchase_orders", system, po_number, {"lines": lines})
        first, again = send("x12_850", system, msg, msg, hub_url=hub)
        assert first.status is Status.DELIVERED, first.error
        assert again.status is Status.EXISTED
        entries = [
            f for f in sb.control.received()["suppliers"][supplier]["files"] if po_number in str(f)
        ]
        assert len(entries) == 1 and entries[0]["status"] == "accepted", entries
        truth = sb.control.truth(["purchase_orders"])["purchase_orders"]
        assert po_number in str(truth)

    missing_dir = message(
        "supplier_purchase_orders", "supplier_cascade", "x", {"lines": lines}, key="k"
    )
    with environment({"DISTROHUB_SUPPLIER_CASCADE_OUTBOX_DIR": "/nonexistent/outbox"}):
        (outcome,) = send("x12_850", "supplier_cascade", missing_dir, hub_url=hub)
    assert outcome.status is Status.DEAD and outcome.error_code == "outbox_unwritable"
    assert file_name("850", "a/b c") != file_name("850", "a_b_c")


# -------------------------------------------------------------------- Tryton
def _erp_env(erp: RunningErp) -> dict[str, str]:
    return {
        "DISTROHUB_TRYTON_URL": erp.credentials.url,
        "DISTROHUB_TRYTON_USER": erp.credentials.user,
        "DISTROHUB_TRYTON_PASSWORD": erp.credentials.password,
    }


def _order_lines(order_key: str, party: str, currency: str, skus: list[str]) -> list[dict]:
    return [
        {
            "order_key": order_key,
            "line_number": n,
            "channel": "B2B",
            "party_code": party,
            "currency": currency,
            "sku": sku,
            "quantity": 6,
            "unit": "EA",
            "unit_price": Decimal("4.2500"),
            "customer_po_number": "PO-123",
            "order_created_at": "2026-03-02T10:00:00-05:00",
        }
        for n, sku in enumerate(skus, start=1)
    ]


def test_sales_orders_land_once_in_tryton_in_their_currency(
    erp: RunningErp, seed_report: dict, client: TrytonClient, world: Any
) -> None:
    cad = next(c for c in world.customers if c.currency == "CAD")
    usd = next(c for c in world.customers if c.currency == "USD")
    skus = [i.sku for i in world.items if not i.kit_components][:2]
    tag = uuid.uuid4().hex[:6]
    orders = {
        f"PUBTEST#{tag}-1": _order_lines(f"PUBTEST#{tag}-1", cad.code, "CAD", skus),
        f"PUBTEST#{tag}-2": _order_lines(f"PUBTEST#{tag}-2", usd.code, "USD", skus[:1]),
    }
    msgs = [message("erp_sales_orders", "tryton", k, {"lines": v}) for k, v in orders.items()]
    bad_party = message(
        "erp_sales_orders",
        "tryton",
        f"PUBTEST#{tag}-3",
        {"lines": _order_lines(f"PUBTEST#{tag}-3", "NO-SUCH-PARTY", "USD", skus)},
    )
    bad_sku = message(
        "erp_sales_orders",
        "tryton",
        f"PUBTEST#{tag}-4",
        {"lines": _order_lines(f"PUBTEST#{tag}-4", usd.code, "USD", ["NO-SUCH-SKU"])},
    )
    with environment(_erp_env(erp)):
        outcomes = send("tryton_sales_orders", "tryton", *msgs, bad_party, bad_sku)
        again = send("tryton_sales_orders", "tryton", *msgs)
    by_id = {o.message_id: o for o in outcomes}
    assert [by_id[m.id].status for m in msgs] == [Status.DELIVERED] * 2, outcomes
    assert by_id[bad_party.id].status is Status.DEAD
    assert by_id[bad_party.id].error_code == "unknown_customer"
    assert by_id[bad_sku.id].status is Status.DEAD
    assert by_id[bad_sku.id].error_code == "unknown_sku"
    assert [o.status for o in again] == [Status.EXISTED] * 2
    assert [o.response["sale_id"] for o in again] == [by_id[m.id].response["sale_id"] for m in msgs]

    refs = [*orders, bad_party.record_key, bad_sku.record_key]
    found = client.find_sales(refs)
    assert set(found) == set(orders)
    sales = client.read_all(
        "sale.sale", [["reference", "in", refs]], ["reference", "currency.code", "state"]
    )
    assert len(sales) == 2
    currencies = {s["reference"]: s["currency."]["code"] for s in sales}
    assert currencies == {f"PUBTEST#{tag}-1": "CAD", f"PUBTEST#{tag}-2": "USD"}


def test_sales_orders_in_concurrent_batches_land_once_each(
    erp: RunningErp, seed_report: dict, client: TrytonClient, world: Any
) -> None:
    """Batches sent at once (the ERP's declared concurrent_requests) on sessions of their own:
    every reference one sale, a reference's second message in the same batch as its first
    (EXISTED, never a second sale), and a resend of the lot creates nothing."""
    from dagster_project.publish.transports.tryton import TrytonSalesOrders

    code = next(c.code for c in world.customers if c.currency == "USD")
    skus = [i.sku for i in world.items if not i.kit_components][:2]
    tag = uuid.uuid4().hex[:6]
    refs = [f"PUBCONC#{tag}-{n}" for n in range(7)]
    msgs = [
        message("erp_sales_orders", "tryton", ref, {"lines": _order_lines(ref, code, "USD", skus)})
        for ref in refs
    ]
    twin = message("erp_sales_orders", "tryton", refs[0], msgs[0].payload)  # a newer message
    with environment(_erp_env(erp)):
        transport = open_transport("tryton_sales_orders", "tryton")
        assert isinstance(transport, TrytonSalesOrders) and transport.concurrency > 1
        transport.batch_size = 2  # several batches from one call, in the ERP at once
        try:
            outcomes = list(transport.send([*msgs, twin]))
            again = list(transport.send(msgs))
            sessions = 1 + len(transport._opened)  # noqa: SLF001 - how many ran at once
        finally:
            transport.close()
    by_id = {o.message_id: o for o in outcomes}
    assert sorted(by_id) == sorted(m.id for m in [*msgs, twin])
    assert [by_id[m.id].status for m in msgs] == [Status.DELIVERED] * len(msgs)
    assert by_id[twin.id].status is Status.EXISTED
    assert by_id[twin.id].response["sale_id"] == by_id[msgs[0].id].response["sale_id"]
    assert {o.status for o in again} == {Status.EXISTED}
    assert sessions > 1
    sales = client.read_all("sale.sale", [["reference", "in", refs]], ["reference", "state"])
    assert sorted(s["reference"] for s in sales) == sorted(refs)  # once each
    assert {s["state"] for s in sales} == {"processing"}
