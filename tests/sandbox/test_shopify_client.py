"""The official ShopifyAPI client (PyPI `ShopifyAPI`, nobody here wrote it),
pointed at a sandbox storefront, pages through every order and sets a level."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import shopify

from sandbox.testing import SandboxHandle, running_sandbox


@pytest.fixture
def session(sb: SandboxHandle):
    """Point the client at http://127.0.0.1:PORT: Session keeps the host up to
    the first dot and appends ``myshopify_domain``, so "127" + "0.0.1" gives
    back 127.0.0.1; ``protocol`` and ``port`` are class settings."""
    parts = urlsplit(sb.shopify_url("D2C"))
    saved = (shopify.Session.protocol, shopify.Session.myshopify_domain, shopify.Session.port)
    shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=parts.port)
    s = shopify.Session(parts.hostname, "2025-07", sb.shopify_token("D2C"))
    assert s.site == f"http://127.0.0.1:{parts.port}/admin/api/2025-07"
    shopify.ShopifyResource.activate_session(s)
    try:
        yield s
    finally:
        shopify.ShopifyResource.clear_session()
        shopify.Session.protocol, shopify.Session.myshopify_domain, shopify.Session.port = saved


def test_pages_through_all_orders(sb: SandboxHandle, session) -> None:
    seen: list[int] = []
    page = shopify.Order.find(status="any", limit=25)
    pages = 1
    seen += [o.id for o in page]
    while page.has_next_page():
        page = page.next_page()
        pages += 1
        seen += [o.id for o in page]
        assert pages < 1000
    truth = [o for o in sb.control.truth(["orders"])["orders"] if o["channel"] == "D2C"]
    assert pages > 2
    assert len(seen) == len(set(seen)) == len(truth)
    assert set(seen) == {o["id"] for o in truth}
    assert all(i > 2**53 for i in seen)
    # default is created_at desc
    assert seen == sorted(seen, reverse=True)


def test_sets_an_inventory_level_and_it_is_received(sb: SandboxHandle, session) -> None:
    location = shopify.Location.find()[0]
    level = shopify.InventoryLevel.find(location_ids=location.id, limit=5)[0]
    result = shopify.InventoryLevel.set(location.id, level.inventory_item_id, 321)
    assert result.available == 321
    again = shopify.InventoryLevel.find(
        inventory_item_ids=level.inventory_item_id, location_ids=location.id
    )
    assert again[0].available == 321
    sets = sb.control.received()["shopify"]["D2C"]["inventory_level_sets"]
    last = sets[-1]
    assert last["available"] == 321 and last["location"] == "DC-EAST"
    assert last["body"]["inventory_item_id"] == level.inventory_item_id
    assert shopify.Limits.credit_limit() >= 40


def test_the_client_sees_429_when_the_bucket_is_full() -> None:
    with running_sandbox(seed=2, skus=20, days=0, api_plan="standard") as small:
        parts = urlsplit(small.shopify_url("B2B"))
        shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=parts.port)
        try:
            shopify.ShopifyResource.activate_session(
                shopify.Session("127.0.0.1", "2025-07", small.shopify_token("B2B"))
            )
            from pyactiveresource.connection import ClientError

            with pytest.raises(ClientError) as info:
                for _ in range(60):
                    shopify.Shop.current()
            assert info.value.response.code == 429
            assert float(info.value.response.headers["Retry-After"]) > 0
        finally:
            shopify.ShopifyResource.clear_session()
            shopify.Session.setup(protocol="https", myshopify_domain="myshopify.com", port=None)
