"""The control API changes one record at a time and the systems show it; the
truth lists the planted discrepancies."""

from __future__ import annotations

import httpx

from sandbox.testing import SandboxHandle

API = "/admin/api/2025-07"


def test_price_edit_shows_in_the_storefront(sb: SandboxHandle) -> None:
    world = sb.runtime.sim.world
    sku = next(it.sku for it in world.items if "D2C" in it.channels and not it.is_kit)
    edit = sb.control.edit_price("D2C", sku, "7.77")
    assert edit["new"] == "7.77"
    headers = {"X-Shopify-Access-Token": sb.shopify_token("D2C")}
    url = sb.shopify_url("D2C") + API + "/products.json"
    found = None
    params: dict[str, str | int] | None = {"limit": 250, "updated_at_min": "2026-03-03T00:00:00Z"}
    next_url: str | None = url
    while next_url and found is None:
        r = httpx.get(next_url, params=params, headers=headers)
        found = next(
            (v for p in r.json()["products"] for v in p["variants"] if v["sku"] == sku), None
        )
        link = r.headers.get("Link", "")
        next_url = link.split(";")[0].strip("<>") if 'rel="next"' in link else None
        params = None
    assert found is not None and found["price"] == "7.77"
    changes = sb.control.truth(["changes"])["changes"]
    assert changes[-1]["kind"] == "price"


def test_stock_adjustment_is_an_event_and_the_truth(sb: SandboxHandle) -> None:
    truth = sb.control.truth(["stock"])["stock"]
    row = next(r for r in truth if r["location"] == "DC-EAST" and r["status"] == "sellable")
    sb.control.adjust_stock("DC-EAST", row["sku"], 5)
    after = sb.control.truth(["stock"])["stock"]
    new = next(
        r
        for r in after
        if (r["sku"], r["location"], r["status"]) == (row["sku"], "DC-EAST", "sellable")
    )
    assert new["quantity"] == row["quantity"] + 5
    headers = {"Authorization": f"Bearer {sb.wms_token('DC-EAST')}"}
    feed = httpx.get(
        sb.wms_url("DC-EAST") + "/v1/events", params={"limit": 1000}, headers=headers
    ).json()
    while feed["has_more"]:
        feed = httpx.get(
            sb.wms_url("DC-EAST") + "/v1/events",
            params={"after": feed["next_cursor"], "limit": 1000},
            headers=headers,
        ).json()
    last = feed["events"][-1]
    assert last["type"] == "stock.adjusted" and last["data"]["sku"] == row["sku"]
    assert last["data"]["quantity_change"] == 5


def test_truth_lists_the_planted_discrepancies(sb: SandboxHandle) -> None:
    truth = sb.control.truth(["discrepancies", "orders", "shipments"])
    kinds = {d["kind"]: d for d in truth["discrepancies"]}
    assert len(kinds) == 6
    keys = {o["key"] for o in truth["orders"]}
    assert kinds["order_missing_in_erp"]["key"] in keys
    unposted = kinds["shipment_unposted"]["key"]
    assert any(s["order_ref"] == unposted for s in truth["shipments"])
    erp_refs = [o.reference for o in sb.runtime.sim.world.erp_sales_orders]
    assert kinds["order_missing_in_erp"]["key"] not in erp_refs
