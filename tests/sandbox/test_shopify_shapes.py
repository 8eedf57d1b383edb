"""Sandbox Shopify payloads have the keys and value types of the real public ones
(``shopify/`` of the real payloads, tests/realdata.py).

References per resource: the ShopifyAPI client's fixtures (older API
versions) and, where one exists, Shopify's documented 2026-04 webhook example
(current shape). Our payload's keys must be among the references' keys
(or in EXTRA, each documented below); a reference key we lack must be in
REMOVED (fields Shopify retired from the REST resource); where both sides have
a non-null value, the JSON types must match one the references use.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.testing import SandboxHandle

API = "/admin/api/2025-07"

#: Fixture keys the current REST API no longer returns (retired fields).
REMOVED: dict[str, set[str]] = {
    # order: gateway/processing_method/payment_details/total_price_usd/checkout_id/source were
    # removed from the Order resource (payment data moved to transactions)
    "order": {
        "gateway",
        "processing_method",
        "payment_details",
        "total_price_usd",
        "checkout_id",
        "source",
    },
    "order.line_items[]": set(),
    # the order's embedded customer is the short form (no marketing/stat fields) since 2024
    "order.customer": {
        "accepts_marketing",
        "accepts_marketing_updated_at",
        "marketing_opt_in_level",
        "orders_count",
        "total_spent",
        "last_order_id",
        "last_order_name",
        "tags",
    },
    "order.client_details": {
        "accept_language",
        "browser_height",
        "browser_ip",
        "browser_width",
        "session_hash",
        "user_agent",
    },
    # replaced by email_marketing_consent (not part of the sandbox)
    "customer": {"accepts_marketing"},
    # products/update webhook-only fields (not part of the REST Product resource)
    "product": {"media", "variant_gids", "has_variants_that_requires_components", "category"},
    "product.images[]": {"position", "created_at", "product_id", "updated_at", "src", "id"},
    # receipt content depends on the payment gateway; manual fulfillments carry {}
    "fulfillment.receipt": {"testcase", "authorization"},
    "order.fulfillments[].receipt": {"testcase", "authorization"},
}

#: Keys we send that neither reference shows, with the reason.
EXTRA: dict[str, set[str]] = {
    # documented REST product fields (the webhook example has products/update's extra keys instead)
    "product.options[]": {"id", "product_id", "position", "values"},
    # payment terms of B2B orders (documented PaymentTerms object; the example has null)
    "order.payment_terms": {
        "id",
        "payment_terms_name",
        "payment_terms_type",
        "due_in_days",
        "created_at",
        "updated_at",
        "payment_schedules",
    },
    "order.payment_terms.payment_schedules[]": {
        "amount",
        "currency",
        "issued_at",
        "due_at",
        "completed_at",
    },
    "order.discount_applications[]": {
        "target_type",
        "type",
        "value",
        "value_type",
        "allocation_method",
        "target_selection",
        "title",
    },
    "order.line_items[].discount_allocations[]": {
        "amount",
        "amount_set",
        "discount_application_index",
    },
    "order.line_items[].tax_lines[]": {"price", "rate", "title", "price_set", "channel_liable"},
    "order.tax_lines[]": {"price_set", "channel_liable"},
    "variant": {
        "admin_graphql_api_id",
        "barcode",
        "image_id",
        "inventory_item_id",
        "old_inventory_quantity",
        "product_id",
    },
    "product": {"image"},
    # the fixture's addresses omit customer_id; default_address (both references) carries it
    "customer.addresses[]": {"customer_id"},
    # per-line tax of a fulfilled line (the references' fulfillments are untaxed: tax_lines [])
    "order.fulfillments[].line_items[].tax_lines[]": {
        "price",
        "rate",
        "title",
        "price_set",
        "channel_liable",
    },
    "fulfillment.line_items[].tax_lines[]": {
        "price",
        "rate",
        "title",
        "price_set",
        "channel_liable",
    },
}


def _type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return type(v).__name__


def shapes(objs: list[Any], path: str, out: dict[str, dict[str, set[str]]] | None = None) -> dict:
    """path -> key -> set of JSON types seen (None for null)."""
    out = out if out is not None else defaultdict(lambda: defaultdict(set))
    for obj in objs:
        if not isinstance(obj, dict):
            continue
        out[path]  # register the path even when empty
        for k, v in obj.items():
            out[path][k].add(_type(v))
            if isinstance(v, dict):
                shapes([v], f"{path}.{k}", out)
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                shapes(v, f"{path}.{k}[]", out)
    return out


def compare(ours: dict, refs: dict, root: str) -> list[str]:
    problems = []
    for path, keys in ours.items():
        if not path.startswith(root) or path not in refs:
            if (
                path.startswith(root)
                and path not in refs
                and path not in EXTRA
                and not any(path.startswith(p) for p in EXTRA)
            ):
                # a nested object the references never show with content: only allowed if documented
                problems.append(f"{path}: not in the references (document it in EXTRA)")
            continue
        ref = refs[path]
        extra = set(keys) - set(ref) - EXTRA.get(path, set())
        if extra:
            problems.append(f"{path}: keys not in the references: {sorted(extra)}")
        missing = set(ref) - set(keys) - REMOVED.get(path, set())
        if missing:
            problems.append(f"{path}: reference keys missing: {sorted(missing)}")
        for k in set(keys) & set(ref):
            ours_t = keys[k] - {"NoneType"}
            ref_t = ref[k] - {"NoneType"}
            if ours_t and ref_t and not ours_t <= ref_t:
                problems.append(
                    f"{path}.{k}: types {sorted(ours_t)} but references use {sorted(ref_t)}"
                )
    return problems


def load(realdata: Path, rel: str) -> Any:
    return json.loads((realdata / "shopify" / rel).read_text())


def get(sb: SandboxHandle, channel: str, path: str, **params: Any) -> dict:
    r = httpx.get(
        sb.shopify_url(channel) + API + path,
        params=params,
        headers={"X-Shopify-Access-Token": sb.shopify_token(channel)},
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def fulfilled(sb: SandboxHandle) -> None:
    """Make sure some orders carry fulfillments, discounts and payment terms."""
    orders = get(sb, "D2C", "/orders.json", status="open", limit=5)["orders"]
    order = orders[-1]
    fo = get(sb, "D2C", f"/orders/{order['id']}/fulfillment_orders.json")["fulfillment_orders"][0]
    r = httpx.post(
        sb.shopify_url("D2C") + API + "/fulfillments.json",
        headers={"X-Shopify-Access-Token": sb.shopify_token("D2C")},
        json={
            "fulfillment": {
                "line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]}],
                "tracking_info": {
                    "number": "1Z999",
                    "company": "UPS",
                    "url": "https://ups.example/1Z999",
                },
            }
        },
    )
    assert r.status_code == 201, r.text


def test_orders_match_the_real_shape(sb: SandboxHandle, realdata: Path, fulfilled: None) -> None:
    ours_list = []
    for ch in ("B2B", "D2C", "MARKETPLACE"):
        ours_list += get(sb, ch, "/orders.json", status="any", limit=250)["orders"]
    refs = shapes([load(realdata, "python_api/order.json")["order"]], "order")
    shapes(load(realdata, "python_api/orders.json")["orders"], "order", refs)
    shapes(
        [load(realdata, "webhook_examples/2026-04_orders_create.json")["response"]], "order", refs
    )
    shapes(
        [load(realdata, "webhook_examples/2026-04_fulfillments_create.json")["response"]],
        "order.fulfillments[]",
        refs,
    )
    ours = shapes(ours_list, "order")
    assert not compare(ours, refs, "order"), "\n".join(compare(ours, refs, "order"))


def test_products_and_variants_match(sb: SandboxHandle, realdata: Path) -> None:
    ours = shapes(get(sb, "D2C", "/products.json", limit=50)["products"], "product")
    refs = shapes([load(realdata, "python_api/product.json")["product"]], "product")
    shapes(load(realdata, "python_api/products.json"), "product", refs)
    shapes(
        [load(realdata, "webhook_examples/2026-04_products_update.json")["response"]],
        "product",
        refs,
    )
    assert not compare(ours, refs, "product"), "\n".join(compare(ours, refs, "product"))
    vid = get(sb, "D2C", "/products.json", limit=1)["products"][0]["variants"][0]["id"]
    ours_v = shapes([get(sb, "D2C", f"/variants/{vid}.json")["variant"]], "variant")
    refs_v = shapes([load(realdata, "python_api/variant.json")["variant"]], "variant")
    shapes(load(realdata, "python_api/variants.json")["variants"], "variant", refs_v)
    assert not compare(ours_v, refs_v, "variant"), "\n".join(compare(ours_v, refs_v, "variant"))


def test_inventory_items_levels_and_locations_match(sb: SandboxHandle, realdata: Path) -> None:
    locs = get(sb, "D2C", "/locations.json")["locations"]
    refs = shapes(load(realdata, "python_api/locations.json")["locations"], "location")
    shapes(
        [load(realdata, "webhook_examples/2026-04_locations_update.json")["response"]],
        "location",
        refs,
    )
    assert not compare(shapes(locs, "location"), refs, "location")
    levels = get(
        sb,
        "D2C",
        "/inventory_levels.json",
        location_ids=",".join(str(x["id"]) for x in locs),
        limit=20,
    )["inventory_levels"]
    refs = shapes(load(realdata, "python_api/inventory_levels.json")["inventory_levels"], "level")
    shapes(
        [load(realdata, "webhook_examples/2024-04_inventory_levels_update.json")["response"]],
        "level",
        refs,
    )
    assert not compare(shapes(levels, "level"), refs, "level"), compare(
        shapes(levels, "level"), refs, "level"
    )
    ids = ",".join(str(x["inventory_item_id"]) for x in levels[:5])
    items = get(sb, "D2C", "/inventory_items.json", ids=ids)["inventory_items"]
    assert len(items) == len({x["inventory_item_id"] for x in levels[:5]})
    refs = shapes(load(realdata, "python_api/inventory_items.json")["inventory_items"], "item")
    shapes(
        [load(realdata, "webhook_examples/2026-04_inventory_items_update.json")["response"]],
        "item",
        refs,
    )
    REMOVED.setdefault("item", {"weight_value", "weight_unit"})
    assert not compare(shapes(items, "item"), refs, "item"), compare(
        shapes(items, "item"), refs, "item"
    )


def test_customers_and_fulfillments_match(
    sb: SandboxHandle, realdata: Path, fulfilled: None
) -> None:
    custs = get(sb, "B2B", "/customers.json", limit=20)["customers"]
    refs = shapes([load(realdata, "python_api/customer.json")["customer"]], "customer")
    shapes(
        [load(realdata, "webhook_examples/2026-04_customers_create.json")["response"]],
        "customer",
        refs,
    )
    problems = compare(shapes(custs, "customer"), refs, "customer")
    assert not problems, "\n".join(problems)
    orders = get(sb, "D2C", "/orders.json", status="any", fulfillment_status="shipped", limit=20)[
        "orders"
    ]
    fulfillments = [f for o in orders for f in o["fulfillments"]]
    assert fulfillments
    refs = shapes([load(realdata, "python_api/fulfillment.json")["fulfillment"]], "fulfillment")
    shapes(
        [load(realdata, "webhook_examples/2026-04_fulfillments_create.json")["response"]],
        "fulfillment",
        refs,
    )
    problems = compare(shapes(fulfillments, "fulfillment"), refs, "fulfillment")
    assert not problems, "\n".join(problems)


def test_ids_are_int64_and_money_is_text(sb: SandboxHandle) -> None:
    order = get(sb, "MARKETPLACE", "/orders.json", status="any", limit=1)["orders"][0]
    assert isinstance(order["id"], int) and 2**53 < order["id"] < 2**63
    assert all(isinstance(li["id"], int) and li["id"] > 2**53 for li in order["line_items"])
    assert isinstance(order["total_price"], str) and order["total_price"].count(".") == 1
    assert order["total_price_set"]["shop_money"]["currency_code"] == "CAD"
    assert order["created_at"].endswith("+00:00")
    d2c = get(sb, "D2C", "/orders.json", status="any", limit=1)["orders"][0]
    assert d2c["created_at"].endswith("-05:00")


def test_carrier_events_match_easypost(sb: SandboxHandle, realdata: Path) -> None:
    r = httpx.get(
        sb.urls["carrier"] + "/v2/events",
        params={"page_size": 50},
        auth=(sb.credentials["carrier"]["api_key"], ""),
    )
    assert r.status_code == 200
    events = r.json()["events"]
    assert events
    ez = realdata / "carrier" / "easypost"
    refs = shapes([json.loads((ez / "event-body_tracker.updated_fedex.json").read_text())], "event")
    shapes([json.loads((ez / "tracking-webhook_ups_delivered.json").read_text())], "event", refs)
    problems = compare(shapes(events, "event"), refs, "event")
    assert not problems, "\n".join(problems)
