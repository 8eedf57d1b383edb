"""Shopify transports: inventory levels, variant prices and fulfillments, one store each.

All calls go through the store's :class:`ShopifyConnector` (the shared HTTP
client: retries, ``Retry-After``, the call-limit governor). Exactly once:

* inventory levels and prices are absolute sets: sending one again has the
  same effect, so a resend after a crash is harmless;
* a fulfillment is looked for before it is created: a fulfillment on the order
  with the same tracking number (or, without one, the same line items) means
  an earlier attempt landed, and the outcome is EXISTED.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dagster_project.connectors.http import HttpError, HttpStatusError
from dagster_project.ingest.readers import SystemConfig, shopify_connector
from dagster_project.publish.transports.base import (
    Message,
    OneByOne,
    Outcome,
    body_of,
    dead,
    delivered,
    from_http_error,
)

_CENT = Decimal("0.01")


def open_shopify(kind: str, config: SystemConfig) -> ShopifyTransport:
    """The Shopify transport of ``kind`` for the store declared as ``config``."""
    connector = shopify_connector(config)
    cls = {
        "shopify_inventory_levels": InventoryLevels,
        "shopify_variant_prices": VariantPrices,
        "shopify_fulfillments": Fulfillments,
    }[kind]
    return cls(connector)


class ShopifyTransport(OneByOne):
    """Base: one store's connector; messages one by one (Shopify REST has no batch call)."""

    def _bad_payload(self, message: Message, exc: Exception) -> Outcome:
        return dead(
            message,
            "rejected_by_target",
            f"{self.system}: record {message.record_key}: payload is unusable ({exc}); "
            "fix the publish model",
        )


class InventoryLevels(ShopifyTransport):
    """``POST inventory_levels/set.json``: the absolute available quantity."""

    kind = "shopify_inventory_levels"

    def _send_one(self, message: Message) -> Outcome:
        p = message.payload
        try:
            item, location, available = (
                int(p["inventory_item_id"]),
                int(p["location_id"]),
                int(p["available"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            return self._bad_payload(message, exc)
        what = f"inventory item {item} at location {location} (record {message.record_key})"
        try:
            level = self.connector.set_inventory_level(item, location, available)
        except HttpError as exc:
            return from_http_error(
                message,
                exc,
                what=what,
                not_found=(
                    "unknown_sku",
                    "the store has no such inventory item or location; re-sync the store's "
                    "inventory items and rebuild publish.storefront_inventory",
                ),
            )
        return delivered(message, level)


class VariantPrices(ShopifyTransport):
    """``PUT variants/{id}.json`` with price and compare-at price (None clears it)."""

    kind = "shopify_variant_prices"

    def _send_one(self, message: Message) -> Outcome:
        p = message.payload
        try:
            variant_id = int(p["variant_id"])
            price = money(p["price"])
            compare = None if p.get("compare_at_price") is None else money(p["compare_at_price"])
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            return self._bad_payload(message, exc)
        what = f"variant {variant_id} (record {message.record_key})"
        try:
            variant = self.connector.update_variant_price(variant_id, price, compare)
        except HttpError as exc:
            return from_http_error(
                message,
                exc,
                what=what,
                not_found=(
                    "unknown_sku",
                    "the store has no such variant; re-sync its products and rebuild "
                    "publish.storefront_prices",
                ),
            )
        return delivered(
            message,
            {k: variant.get(k) for k in ("id", "sku", "price", "compare_at_price", "updated_at")},
        )


class Fulfillments(ShopifyTransport):
    """Fulfil order lines with tracking, once per shipment (found by tracking number first)."""

    kind = "shopify_fulfillments"

    def _send_one(self, message: Message) -> Outcome:
        p = message.payload
        try:
            order_id = int(p["storefront_order_id"])
            wanted = {int(li["id"]): int(li["quantity"]) for li in p["line_items"]}
        except (KeyError, TypeError, ValueError) as exc:
            return self._bad_payload(message, exc)
        tracking = p.get("tracking_number") or None
        what = f"order {order_id} shipment {p.get('shipment_id')} (record {message.record_key})"
        try:
            existing = self._existing(order_id, tracking, wanted)
            if existing is not None:
                return delivered(message, _summary(existing), existed=True)
            groups, problem = self._groups(order_id, wanted)
            if problem is not None:
                code, text, answer = problem
                return dead(message, code, f"{self.system}: {what}: {text}", answer)
            body: dict[str, Any] = {
                "fulfillment": {
                    "line_items_by_fulfillment_order": groups,
                    "notify_customer": False,
                }
            }
            if tracking:
                info = {"number": tracking}
                if p.get("carrier"):
                    info["company"] = str(p["carrier"])
                body["fulfillment"]["tracking_info"] = info
            # not idempotent: on a timeout the client does not resend; the next attempt
            # finds the fulfillment by its tracking number before creating one
            response = self.connector.http.post("fulfillments.json", json=body, idempotent=False)
        except HttpStatusError as exc:
            if exc.status == 422 and "nothing left" in (exc.body or ""):
                return dead(
                    message,
                    "nothing_to_fulfil",
                    f"{self.system}: {what}: nothing is left to fulfil on the order; "
                    "it was fulfilled another way: no action needed",
                    body_of(exc),
                )
            if exc.status == 404:
                return dead(
                    message,
                    "rejected_by_target",
                    f"{self.system}: {what}: the store has no such order; check the "
                    "storefront_order_id of publish.storefront_fulfillments",
                    body_of(exc),
                )
            return from_http_error(message, exc, what=what)
        except HttpError as exc:
            return from_http_error(message, exc, what=what)
        return delivered(message, _summary(response.json().get("fulfillment", {})))

    def _existing(
        self, order_id: int, tracking: str | None, wanted: dict[int, int]
    ) -> dict[str, Any] | None:
        """A fulfillment already on the order for this shipment, if any."""
        response = self.connector.http.get(f"orders/{order_id}/fulfillments.json")
        for f in response.json().get("fulfillments", []):
            if f.get("status") in ("cancelled", "error", "failure"):
                continue
            numbers = set(f.get("tracking_numbers") or []) | {f.get("tracking_number")}
            if tracking is not None:
                if tracking in numbers:
                    return f
            elif {int(li["id"]): int(li["quantity"]) for li in f.get("line_items", [])} == wanted:
                return f
        return None

    def _groups(
        self, order_id: int, wanted: dict[int, int]
    ) -> tuple[list[dict[str, Any]], tuple[str, str, Any] | None]:
        """``line_items_by_fulfillment_order`` for the wanted order lines, or a problem.

        A quantity above what is still fulfillable is cut to it (the line was partly
        fulfilled another way); lines with nothing left are left out.
        """
        response = self.connector.http.get(f"orders/{order_id}/fulfillment_orders.json")
        fulfillment_orders = response.json().get("fulfillment_orders", [])
        where: dict[int, tuple[int, int, int]] = {}
        for fo in fulfillment_orders:
            if fo.get("status") not in ("open", "in_progress", "scheduled"):
                continue
            for li in fo.get("line_items", []):
                where[int(li["line_item_id"])] = (
                    int(fo["id"]),
                    int(li["id"]),
                    int(li.get("fulfillable_quantity") or 0),
                )
        known = {
            int(li["line_item_id"]) for fo in fulfillment_orders for li in fo.get("line_items", [])
        }
        unknown = sorted(set(wanted) - known)
        if unknown:
            return [], (
                "rejected_by_target",
                f"line item(s) {unknown} are not on the order; fix the line_items of "
                "publish.storefront_fulfillments",
                {"fulfillment_orders": [fo.get("id") for fo in fulfillment_orders]},
            )
        groups: dict[int, list[dict[str, int]]] = {}
        for line_id, quantity in wanted.items():
            if line_id not in where:
                continue
            fo_id, fol_id, fulfillable = where[line_id]
            take = min(quantity, fulfillable)
            if take > 0:
                groups.setdefault(fo_id, []).append({"id": fol_id, "quantity": take})
        if not groups:
            return [], (
                "nothing_to_fulfil",
                "nothing is left to fulfil on these lines; they were fulfilled another way: "
                "no action needed",
                {"fulfillable": {str(k): v[2] for k, v in where.items() if k in wanted}},
            )
        return [
            {"fulfillment_order_id": fo_id, "fulfillment_order_line_items": items}
            for fo_id, items in groups.items()
        ], None


def money(value: Any) -> str:
    """A price as Shopify takes it: a decimal string in cents (half-up)."""
    return str(Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP))


def _summary(fulfillment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": fulfillment.get("id"),
        "order_id": fulfillment.get("order_id"),
        "status": fulfillment.get("status"),
        "tracking_number": fulfillment.get("tracking_number"),
        "line_items": [
            {"id": li.get("id"), "quantity": li.get("quantity")}
            for li in fulfillment.get("line_items", [])
        ],
    }
