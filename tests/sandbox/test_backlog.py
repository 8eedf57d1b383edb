"""A benchmark's store: exactly N orders placed as a backlog, served from JSON rendered once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from sandbox.cli import sandbox as sandbox_cli
from sandbox.testing import SandboxHandle, running_sandbox
from sandbox.worldgen import generate_world

API = "/admin/api/2025-07"
ARGS = {"seed": 3, "skus": 40, "orders_per_day": 0, "days": 0, "backlog_orders": 420}


def _pages(sb: SandboxHandle, channel: str = "D2C") -> Iterator[bytes]:
    headers = {"X-Shopify-Access-Token": sb.shopify_token(channel)}
    url: str | None = f"{sb.shopify_url(channel)}{API}/orders.json"
    params: dict | None = {"limit": 250, "status": "any", "order": "updated_at asc"}
    with httpx.Client(headers=headers, timeout=30) as client:
        while url:
            response = client.get(url, params=params)
            response.raise_for_status()
            params = None
            yield response.content
            url = response.links.get("next", {}).get("url")


@pytest.fixture(scope="module")
def rendered() -> Iterator[SandboxHandle]:
    with running_sandbox(**ARGS, prerender_orders=True) as sb:
        yield sb


def test_the_store_holds_exactly_the_backlog_with_known_skus(rendered: SandboxHandle) -> None:
    headers = {"X-Shopify-Access-Token": rendered.shopify_token("D2C")}
    count = httpx.get(
        f"{rendered.shopify_url('D2C')}{API}/orders/count.json",
        params={"status": "any"},
        headers=headers,
    ).json()["count"]
    assert count == ARGS["backlog_orders"]
    skus = {item.sku for item in generate_world(3, 40, 0, 0).items}
    orders = [o for page in _pages(rendered) for o in json.loads(page)["orders"]]
    assert len({o["id"] for o in orders}) == ARGS["backlog_orders"]
    assert all(li["sku"] in skus for o in orders for li in o["line_items"])
    assert all(o["line_items"] for o in orders)
    times = [o["created_at"] for o in orders]
    assert min(times) < max(times)  # spread over the 30 days before the epoch
    other = httpx.get(
        f"{rendered.shopify_url('B2B')}{API}/orders/count.json",
        params={"status": "any"},
        headers={"X-Shopify-Access-Token": rendered.shopify_token("B2B")},
    ).json()["count"]
    assert other == 0


def test_pages_rendered_once_are_the_bytes_rendered_per_request(rendered) -> None:
    with running_sandbox(**ARGS) as live:  # same world, rendering every request
        assert list(_pages(rendered)) == list(_pages(live))


def test_a_changed_order_is_rendered_again(rendered: SandboxHandle) -> None:
    rendered.control.change_order("D2C", 1001, "tag")
    orders = {o["order_number"]: o for p in _pages(rendered) for o in json.loads(p)["orders"]}
    assert "touched-" in orders[1001]["tags"]
    assert orders[1001]["updated_at"] > orders[1001]["created_at"]


def test_a_backlog_needs_an_empty_store() -> None:
    with pytest.raises(RuntimeError, match="orders_per_day 0"):
        with running_sandbox(seed=3, skus=40, orders_per_day=20, days=0, backlog_orders=10):
            pass
    result = CliRunner().invoke(
        sandbox_cli, ["up", "--orders-per-day", "20", "--backlog-orders", "10"]
    )
    assert result.exit_code != 0 and "--orders-per-day 0" in result.output
