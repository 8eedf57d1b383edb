"""Shopify Admin REST: reading streams and pushing changes, as the documented API works.

* Auth: ``X-Shopify-Access-Token``.
* Version: pinned in the URL, ``/admin/api/<version>/``.
* Pagination: cursor-based; the next page's URL comes in the ``Link`` header
  (``rel="next"``, with ``page_info``). Once ``page_info`` is in use Shopify
  accepts only ``limit`` (and ``fields``) beside it, so the next URL is
  followed exactly as given.
* Incremental: ``updated_at_min`` (inclusive) on ``updated_at``.
* Rate limits: a leaky bucket reported in ``X-Shopify-Shop-Api-Call-Limit``
  (``used/size``); when it nears full we pause for it to drain, and a 429's
  ``Retry-After`` is honoured by the shared HTTP client.
* Ids are 64-bit integers: they are kept as Python ints and stored as text keys.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import simplejson

from dagster_project.connectors.base import BadInput, Page, StreamConfig
from dagster_project.connectors.http import HttpClient, RequestBudget, RetryPolicy
from dagster_project.connectors.json_pages import read_list_page

log = logging.getLogger("distrohub.shopify")

API_VERSION = "2025-07"
LEAK_PER_SECOND = 2.0  # Shopify's standard plan drains two calls a second
HEADROOM = 5  # keep this many calls free in the bucket
INVENTORY_ITEM_IDS_PER_CALL = 100


class CallLimitGovernor:
    """Pauses before the leaky bucket overflows, from ``X-Shopify-Shop-Api-Call-Limit``."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self.paused_seconds = 0.0

    def __call__(self, response: httpx.Response) -> None:
        header = response.headers.get("X-Shopify-Shop-Api-Call-Limit")
        if not header or "/" not in header:
            return
        try:
            used, size = (int(x) for x in header.split("/", 1))
        except ValueError:
            return
        over = used - (size - HEADROOM)
        if over > 0:
            pause = over / LEAK_PER_SECOND
            self.paused_seconds += pause
            self._sleep(pause)


class ShopifyConnector:
    """One Shopify store (a storefront channel)."""

    def __init__(
        self,
        system: str,
        base_url: str,
        token: str,
        *,
        api_version: str = API_VERSION,
        budget: RequestBudget | None = None,
        retry: RetryPolicy | None = None,
        token_env: str = "the store's token variable",
    ) -> None:
        self.system = system
        self.api_root = f"{base_url.rstrip('/')}/admin/api/{api_version}/"
        self.governor = CallLimitGovernor()
        self.http = HttpClient(
            system,
            self.api_root,
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
            budget=budget,
            retry=retry,
            on_response=self.governor,
            fixes={
                401: f"the access token was refused: check {token_env}",
                403: "the app lacks an access scope for this resource: grant it in the store admin",
                404: "check the store URL and the pinned API version",
            },
        )

    def close(self) -> None:
        self.http.close()

    # ----------------------------------------------------------------- read
    def pages(self, stream: StreamConfig, cursor_value: Any) -> Iterator[Page]:
        """Pages of ``stream`` changed since ``cursor_value`` (all when None)."""
        path = stream.path or f"{stream.name}.json"
        params: dict[str, Any] = {"limit": min(stream.page_size, 250), **stream.params}
        if stream.filter_param and cursor_value:
            params[stream.filter_param] = cursor_value
        if path == "inventory_levels.json" and "location_ids" not in params:
            params["location_ids"] = ",".join(
                str(i) for i in self._ids("locations.json", "locations")
            )
        if path == "inventory_items.json" and "ids" not in params:
            yield from self._inventory_items(stream)
            return
        key = stream.records_key or path.removesuffix(".json").split("/")[-1]
        yield from self._follow(path, params, key)

    def _follow(self, path: str, params: dict[str, Any] | None, key: str) -> Iterator[Page]:
        url: str | None = path
        while url:
            response = self.http.get(url, params=params)
            params = None  # the next URL carries page_info and limit only
            source = response.request.url.path
            next_link = response.links.get("next", {}).get("url")
            listed = read_list_page(response.text, key)
            if listed is not None:  # records kept as received (connectors/json_pages.py)
                yield Page(records=listed[0], source=source)
            else:
                yield self._exact_page(response, key, source)
            url = next_link

    def _exact_page(self, response: httpx.Response, key: str, source: str) -> Page:
        """A page msgspec does not read (not strict JSON, not a list page): parsed the exact,
        slower way; unreadable, it is quarantined whole with the parser's error."""
        try:
            body = simplejson.loads(response.text, use_decimal=True)
            records = body[key]
            if not isinstance(records, list):
                raise TypeError(f"'{key}' is a {type(records).__name__}, not a list")
        except (ValueError, KeyError, TypeError) as exc:
            return Page(
                records=[],
                source=source,
                bad=[
                    BadInput(
                        f"page:{response.request.url}",
                        response.text[:100_000],
                        f"{self.system} answered {source} with an unreadable page "
                        f"({exc}); the records on it were not loaded",
                    )
                ],
                complete=False,
            )
        return Page(records=records, source=source)

    def _ids(self, path: str, key: str) -> list[int]:
        ids: list[int] = []
        for page in self._follow(path, {"limit": 250}, key):
            ids.extend(r["id"] for r in page.records if isinstance(r, dict) and "id" in r)
        return ids

    def _inventory_items(self, stream: StreamConfig) -> Iterator[Page]:
        """inventory_items.json needs ``ids``: take them from the products' variants."""
        item_ids: list[int] = []
        for page in self._follow(
            "products.json", {"limit": 250, "fields": "id,variants"}, "products"
        ):
            for product in page.records:
                for variant in product.get("variants") or []:
                    if variant.get("inventory_item_id") is not None:
                        item_ids.append(variant["inventory_item_id"])
        for start in range(0, len(item_ids), INVENTORY_ITEM_IDS_PER_CALL):
            chunk = item_ids[start : start + INVENTORY_ITEM_IDS_PER_CALL]
            yield from self._follow(
                "inventory_items.json",
                {"ids": ",".join(str(i) for i in chunk), "limit": INVENTORY_ITEM_IDS_PER_CALL},
                "inventory_items",
            )

    # ----------------------------------------------------------------- push
    def set_inventory_level(self, inventory_item_id: int, location_id: int, available: int) -> dict:
        """``POST inventory_levels/set.json``: the absolute quantity (idempotent by nature)."""
        response = self.http.post(
            "inventory_levels/set.json",
            json={
                "location_id": location_id,
                "inventory_item_id": inventory_item_id,
                "available": available,
            },
            idempotent=True,
        )
        return response.json()["inventory_level"]

    def update_variant_price(
        self, variant_id: int, price: str, compare_at_price: str | None
    ) -> dict:
        """``PUT variants/{id}.json``: the price and the compare-at price (decimal strings;
        ``None`` clears the compare-at price). Both are absolute: a resend changes nothing."""
        variant = {"id": variant_id, "price": price, "compare_at_price": compare_at_price}
        response = self.http.request(
            "PUT", f"variants/{variant_id}.json", json={"variant": variant}
        )
        return response.json()["variant"]
