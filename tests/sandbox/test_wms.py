"""The WMS API: bin stock by status matches the truth, the event feed pages by
cursor, releases are idempotent and get allocated, picked and shipped."""

from __future__ import annotations

from collections import Counter

import httpx

from sandbox.testing import SandboxHandle


def wms(sb: SandboxHandle, loc: str = "DC-EAST") -> httpx.Client:
    return httpx.Client(
        base_url=sb.wms_url(loc),
        headers={"Authorization": f"Bearer {sb.wms_token(loc)}"},
        timeout=10,
    )


def all_pages(c: httpx.Client, path: str, **params) -> list[dict]:
    rows, cursor = [], None
    for _ in range(1000):
        r = c.get(path, params={**params, **({"cursor": cursor} if cursor else {}), "limit": 37})
        assert r.status_code == 200, r.text
        rows += r.json()["data"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("too many pages")


def test_auth_and_errors(sb: SandboxHandle) -> None:
    r = httpx.get(sb.wms_url("DC-EAST") + "/v1/stock", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    with wms(sb) as c:
        assert (
            c.get("/v1/stock", params={"status": "lost"}).json()["error"]["code"]
            == "invalid_parameter"
        )
        assert c.get("/v1/nowhere").status_code == 404


def test_stock_and_commitments_match_the_truth(sb: SandboxHandle) -> None:
    for loc in ("DC-EAST", "DC-WEST"):
        with wms(sb, loc) as c:
            stock = all_pages(c, "/v1/stock")
            allocations = all_pages(c, "/v1/allocations")
        truth = sb.control.truth(["stock", "committed"])
        expected = {
            (r["sku"], r["status"]): r["quantity"] for r in truth["stock"] if r["location"] == loc
        }
        assert {(r["sku"], r["status"]): r["quantity"] for r in stock} == expected
        assert {r["status"] for r in stock} <= {"sellable", "damaged", "qc", "returns_inspection"}
        committed = Counter()
        for a in allocations:
            assert a["state"] in ("allocated", "picking")
            committed[a["sku"]] += a["quantity"]
        assert dict(committed) == {
            r["sku"]: r["committed"] for r in truth["committed"] if r["location"] == loc
        }


def test_event_feed_pages_by_cursor(sb: SandboxHandle) -> None:
    with wms(sb) as c:
        events, after = [], "0"
        for _ in range(1000):
            body = c.get("/v1/events", params={"after": after, "limit": 50}).json()
            events += body["events"]
            after = body["next_cursor"]
            if not body["has_more"]:
                break
        assert events and len({e["id"] for e in events}) == len(events)
        types = {e["type"] for e in events}
        assert {
            "allocation.created",
            "pick.created",
            "pick.completed",
            "shipment.confirmed",
        } <= types
        again = c.get("/v1/events", params={"after": after}).json()
        assert again["events"] == [] and again["next_cursor"] == after


def test_release_is_idempotent_and_flows_to_a_shipment(sb: SandboxHandle) -> None:
    with wms(sb, "DC-WEST") as c:
        stock = [r for r in all_pages(c, "/v1/stock", status="sellable") if r["quantity"] >= 5]
        sku = stock[0]["sku"]
        body = {
            "release_id": "REL-TEST-1",
            "order_ref": "D2C#9999",
            "channel": "D2C",
            "ship_to": {
                "name": "Test Person",
                "line1": "1 Test St",
                "city": "Reno",
                "region": "NV",
                "postal_code": "89501",
                "country": "US",
            },
            "lines": [{"line_ref": "1", "sku": sku, "quantity": 2}],
        }
        first = c.post("/v1/releases", json=body)
        assert first.status_code == 201, first.text
        assert c.post("/v1/releases", json=body).status_code == 200
        clash = c.post(
            "/v1/releases", json={**body, "lines": [{"line_ref": "1", "sku": sku, "quantity": 3}]}
        )
        assert clash.status_code == 409 and clash.json()["error"]["code"] == "release_conflict"
        bad = c.post(
            "/v1/releases",
            json={
                "release_id": "REL-BAD",
                "order_ref": "x",
                "lines": [
                    {"line_ref": "1", "sku": "NOPE", "quantity": 1},
                    {"line_ref": "2", "sku": sku, "quantity": 0},
                ],
            },
        )
        assert bad.status_code == 422
        assert len(bad.json()["error"]["details"]) == 2
        assert c.get("/v1/releases/REL-BAD").status_code == 404
        sb.control.advance(hours=8)
        rel = c.get("/v1/releases/REL-TEST-1").json()["release"]
        assert rel["status"] in ("shipped", "short_shipped"), rel
        shipment = next(s for s in all_pages(c, "/v1/shipments") if s["release_id"] == "REL-TEST-1")
        assert shipment["tracking_number"] and shipment["order_ref"] == "D2C#9999"
    received = sb.control.received()["wms"]["DC-WEST"]["releases"]
    assert [r["release_id"] for r in received].count("REL-TEST-1") == 1


def test_receipts_returns_and_short_picks_are_listed(sb: SandboxHandle) -> None:
    seen = Counter()
    for loc in ("DC-EAST", "DC-WEST"):
        with wms(sb, loc) as c:
            seen["receipts"] += len(all_pages(c, "/v1/receipts"))
            seen["short"] += len(all_pages(c, "/v1/short-picks"))
            seen["picks"] += len(all_pages(c, "/v1/picks", state="all"))
    assert seen["receipts"] and seen["picks"]
    truth = sb.control.truth(["receipts"])["receipts"]
    assert seen["receipts"] == len([r for r in truth if r["location"] != "3PL"])
