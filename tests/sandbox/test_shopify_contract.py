"""The storefront keeps Shopify's REST contract: auth, versions, cursor
pagination with Link/page_info, filters, limits, pushes kept as received."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from sandbox.testing import SandboxHandle, running_sandbox

API = "/admin/api/2025-07"


def client(sb: SandboxHandle, channel: str) -> httpx.Client:
    return httpx.Client(
        base_url=sb.shopify_url(channel) + API,
        headers={"X-Shopify-Access-Token": sb.shopify_token(channel)},
        timeout=10,
    )


def next_link(r: httpx.Response) -> str | None:
    m = re.search(r'<([^>]+)>; rel="next"', r.headers.get("Link", ""))
    return m.group(1) if m else None


def test_auth_version_and_headers(sb: SandboxHandle) -> None:
    r = httpx.get(
        sb.shopify_url("B2B") + API + "/shop.json", headers={"X-Shopify-Access-Token": "wrong"}
    )
    assert r.status_code == 401 and "Invalid API key" in r.json()["errors"]
    with client(sb, "B2B") as c:
        r = c.get("/shop.json")
        assert r.status_code == 200
        assert re.fullmatch(r"\d+/40", r.headers["X-Shopify-Shop-Api-Call-Limit"])
        assert r.headers["X-Shopify-API-Version"] == "2025-07"
        other = c.get(sb.shopify_url("B2B") + "/admin/api/2023-01/shop.json")
        assert other.status_code == 404 and "2025-07" in other.json()["errors"]
        assert c.get("/orders.json", params={"limit": 251}).status_code == 400


def test_link_pagination_walks_every_order_once_both_ways(sb: SandboxHandle) -> None:
    with client(sb, "D2C") as c:
        r = c.get(
            "/orders.json",
            params={"status": "any", "limit": 7, "order": "id asc", "fields": "id,name"},
        )
        ids = [o["id"] for o in r.json()["orders"]]
        assert set(r.json()["orders"][0]) == {"id", "name"}
        first_page = list(ids)
        pages = [r]
        while (url := next_link(r)) is not None:
            assert "page_info=" in url and "status" not in url
            r = c.get(url)
            assert r.status_code == 200
            ids += [o["id"] for o in r.json()["orders"]]
            pages.append(r)
            assert len(pages) < 500
        assert ids == sorted(ids) and len(ids) == len(set(ids))
        truth = sorted(
            o["id"] for o in sb.control.truth(["orders"])["orders"] if o["channel"] == "D2C"
        )
        assert ids == truth
        assert c.get("/orders/count.json", params={"status": "any"}).json()["count"] == len(ids)
        # the second page links back to the first
        prev = re.search(r'<([^>]+)>; rel="previous"', pages[1].headers["Link"]).group(1)
        assert [o["id"] for o in c.get(prev).json()["orders"]] == first_page
        # page_info carries the filters: nothing else may be passed with it
        bad = c.get(next_link(pages[0]) + "&status=open")
        assert bad.status_code == 400


def test_updated_at_min_sees_a_changed_order(sb: SandboxHandle) -> None:
    with client(sb, "B2B") as c:
        now = sb.control.status()["now"]
        before = c.get("/orders.json", params={"status": "any", "updated_at_min": now}).json()[
            "orders"
        ]
        oldest = c.get(
            "/orders.json", params={"status": "any", "order": "id asc", "limit": 1}
        ).json()["orders"][0]
        change = sb.control.change_order("B2B", oldest["order_number"], "tag")
        after = c.get(
            "/orders.json",
            params={"status": "any", "updated_at_min": now, "order": "updated_at asc"},
        ).json()["orders"]
        assert oldest["id"] in {o["id"] for o in after} - {o["id"] for o in before}
        touched = next(o for o in after if o["id"] == oldest["id"])
        assert "touched" in touched["tags"]
        assert datetime.fromisoformat(touched["updated_at"]) >= datetime.fromisoformat(
            change["updated_at"]
        )
        stamp = [datetime.fromisoformat(o["updated_at"]).astimezone(UTC) for o in after]
        assert stamp == sorted(stamp)


def test_status_filters_follow_shopify(sb: SandboxHandle) -> None:
    with client(sb, "D2C") as c:
        default = c.get("/orders/count.json").json()["count"]
        open_ = c.get("/orders/count.json", params={"status": "open"}).json()["count"]
        any_ = c.get("/orders/count.json", params={"status": "any"}).json()["count"]
        closed = c.get("/orders/count.json", params={"status": "closed"}).json()["count"]
        assert default == open_ and open_ + closed <= any_ and closed > 0


def test_variant_price_update_and_fulfillment_are_received(sb: SandboxHandle) -> None:
    with client(sb, "B2B") as c:
        product = c.get("/products.json", params={"limit": 1}).json()["products"][0]
        vid = product["variants"][0]["id"]
        r = c.put(f"/variants/{vid}.json", json={"variant": {"id": vid, "price": "12.34"}})
        assert r.status_code == 200 and r.json()["variant"]["price"] == "12.34"
        assert c.put(f"/variants/{vid}.json", json={"variant": {"price": "abc"}}).status_code == 422
        order = c.get("/orders.json", params={"status": "open", "limit": 1}).json()["orders"][0]
        fo = c.get(f"/orders/{order['id']}/fulfillment_orders.json").json()["fulfillment_orders"][0]
        li = fo["line_items"][0]
        r = c.post(
            "/fulfillments.json",
            json={
                "fulfillment": {
                    "line_items_by_fulfillment_order": [
                        {
                            "fulfillment_order_id": fo["id"],
                            "fulfillment_order_line_items": [
                                {"id": li["id"], "quantity": li["fulfillable_quantity"]}
                            ],
                        }
                    ],
                    "tracking_info": {"number": "TRACK-1", "company": "UPS"},
                    "notify_customer": False,
                }
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["fulfillment"]["tracking_numbers"] == ["TRACK-1"]
        too_many = c.post(
            "/fulfillments.json",
            json={
                "fulfillment": {
                    "line_items_by_fulfillment_order": [
                        {
                            "fulfillment_order_id": fo["id"],
                            "fulfillment_order_line_items": [{"id": li["id"], "quantity": 999}],
                        }
                    ]
                }
            },
        )
        assert too_many.status_code == 422
        listed = c.get(f"/orders/{order['id']}/fulfillments.json").json()["fulfillments"]
        assert any(f["tracking_number"] == "TRACK-1" for f in listed)
    got = sb.control.received()["shopify"]["B2B"]
    assert got["variant_price_updates"][-1]["price"] == "12.34"
    assert got["fulfillments"][-1]["tracking"]["number"] == "TRACK-1"


def test_leaky_bucket_answers_429_with_retry_after() -> None:
    with running_sandbox(seed=4, skus=20, days=0, api_plan="standard") as small:
        with client(small, "D2C") as c:
            codes = [c.get("/shop.json") for _ in range(45)]
        limited = [r for r in codes if r.status_code == 429]
        assert limited, "45 calls at once overflow a 40-call bucket"
        assert float(limited[0].headers["Retry-After"]) > 0
        assert limited[0].headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"


@pytest.mark.parametrize("channel", ["B2B", "D2C", "MARKETPLACE"])
def test_each_store_serves_its_own_catalogue_and_locations(sb: SandboxHandle, channel: str) -> None:
    world = sb.runtime.sim.world
    drop_ship = sorted(
        {it.drop_ship_supplier for it in world.items if channel in it.channels} - {None}
    )
    assert drop_ship, "every store lists drop-ship items in this world"
    with client(sb, channel) as c:
        locs = c.get("/locations.json").json()["locations"]
        # the own locations, then one per drop-ship supplier whose items the store lists
        assert [loc["name"] for loc in locs] == [
            "East Distribution Centre",
            "West Distribution Centre",
            "Central 3PL (Midway Fulfilment)",
            *(f"DROPSHIP-{code}" for code in drop_ship),
        ]
        assert c.get("/locations/count.json").json()["count"] == len(locs)
        n = c.get("/products/count.json").json()["count"]
        assert n > 0
        listed = {it.sku for it in world.items if channel in it.channels}
        skus = set()
        url = "/products.json?limit=50"
        while url:
            r = c.get(url)
            skus |= {v["sku"] for p in r.json()["products"] for v in p["variants"]}
            url = next_link(r)
        assert skus == listed


def test_a_drop_ship_item_is_tracked_at_its_suppliers_location_only(sb: SandboxHandle) -> None:
    """Each drop-ship item is tracked, with one inventory level: at the store location of its
    supplier (DROPSHIP-<code>), which stocks nothing else; what a client sets there is what
    the store shows."""
    world = sb.runtime.sim.world
    drop_ship = {it.sku: it.drop_ship_supplier for it in world.items if it.is_drop_ship}
    with client(sb, "B2B") as c:
        locs = {loc["id"]: loc["name"] for loc in c.get("/locations.json").json()["locations"]}
        levels: dict[int, list[dict]] = {}
        url = "/inventory_levels.json?limit=250&location_ids=" + ",".join(map(str, locs))
        while url:
            r = c.get(url)
            for level in r.json()["inventory_levels"]:
                levels.setdefault(level["inventory_item_id"], []).append(level)
            url = next_link(r)
        items = {}
        ids = sorted(levels)
        for start in range(0, len(ids), 100):
            chunk = ",".join(map(str, ids[start : start + 100]))
            for item in c.get(f"/inventory_items.json?ids={chunk}").json()["inventory_items"]:
                items[item["sku"]] = item
        assert set(drop_ship) <= set(items) and all(items[s]["tracked"] for s in drop_ship)
        at = {
            sku: sorted(locs[lv["location_id"]] for lv in levels[item["id"]])
            for sku, item in items.items()
        }
        assert {sku: at[sku] for sku in drop_ship} == {
            sku: [f"DROPSHIP-{code}"] for sku, code in drop_ship.items()
        }
        assert not [s for s in at if s not in drop_ship and any("DROPSHIP" in n for n in at[s])]
        sku = min(drop_ship)
        where = next(i for i, n in locs.items() if n == f"DROPSHIP-{drop_ship[sku]}")
        body = {"location_id": where, "inventory_item_id": items[sku]["id"], "available": 17}
        assert c.post("/inventory_levels/set.json", json=body).status_code == 200
        shown = c.get(f"/locations/{where}/inventory_levels.json?limit=250").json()
        assert {lv["inventory_item_id"]: lv["available"] for lv in shown["inventory_levels"]}[
            items[sku]["id"]
        ] == 17
    last = sb.control.received()["shopify"]["B2B"]["inventory_level_sets"][-1]
    assert (last["sku"], last["location"], last["available"]) == (
        sku,
        f"DROPSHIP-{drop_ship[sku]}",
        17,
    )
