"""WMS transport: release an order's lines to a DC's WMS (``POST /v1/releases``).

Exactly once: ``release_id`` is the hub's ``release_key``; the WMS answers 201
for a new release, 200 for an identical repeat (EXISTED) and 409 when the id
was used for another body (DEAD ``conflict``: a changed release needs a new
key). The body is built deterministically from the payload, so a resend after a
crash is byte-identical and lands as the 200 repeat.

Line refs: ``"<line_number>"`` for a stocked line, ``"<line_number>.<n>"`` for
the n-th component (by SKU) of a kit line. ``publish.storefront_fulfillments``
parses them back that way (``split_part(line_ref, '.', 1)``).
"""

from __future__ import annotations

from typing import Any

from dagster_project.connectors.http import HttpError, RequestBudget
from dagster_project.connectors.rest import RestJsonConnector
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import (
    Message,
    OneByOne,
    Outcome,
    dead,
    delivered,
    from_http_error,
)


class WmsReleases(OneByOne):
    """Releases to one WMS instance, one request each."""

    kind = "wms_releases"

    @classmethod
    def from_config(cls, config: SystemConfig) -> WmsReleases:
        return cls(
            RestJsonConnector(
                config.system,
                config.env(config.url_env, "API URL"),
                config.credential("token"),
                budget=RequestBudget(max_requests=config.request_budget),
                token_env=config.credentials.get("token", "its token variable"),
            )
        )

    def _send_one(self, message: Message) -> Outcome:
        try:
            body = release_body(message.payload)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return dead(
                message,
                "rejected_by_target",
                f"{self.system}: release {message.record_key}: payload is unusable ({exc!r}); "
                "fix publish.warehouse_releases",
            )
        what = f"release {body['release_id']} of order {body['order_ref']}"
        try:
            # safe to resend: the WMS is idempotent by release_id (200 identical repeat)
            response = self.connector.http.post("v1/releases", json=body, idempotent=True)
        except HttpError as exc:
            return from_http_error(message, exc, what=what)
        release = response.json().get("release", {})
        summary = {k: release.get(k) for k in ("release_id", "order_ref", "status", "location")}
        return delivered(message, summary, existed=response.status_code == 200)


def release_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``POST /v1/releases`` body of a ``warehouse_releases`` payload (``{"lines": [...]}``)."""
    lines = payload["lines"]
    head = lines[0]
    out_lines: list[dict[str, Any]] = []
    kit_parts: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        number = int(line["line_number"])
        if line.get("kit_sku"):
            kit_parts.setdefault(number, []).append(line)
        else:
            out_lines.append(
                {"line_ref": str(number), "sku": line["sku"], "quantity": int(line["quantity"])}
            )
    for number, parts in kit_parts.items():
        for n, part in enumerate(sorted(parts, key=lambda p: p["sku"]), start=1):
            out_lines.append(
                {
                    "line_ref": f"{number}.{n}",
                    "sku": part["sku"],
                    "quantity": int(part["quantity"]),
                }
            )
    out_lines.sort(key=lambda ln: [int(x) for x in ln["line_ref"].split(".")])
    body: dict[str, Any] = {
        "release_id": head["release_key"],
        "order_ref": head["order_key"],
        "lines": out_lines,
    }
    if head.get("channel"):
        body["channel"] = head["channel"]
    if head.get("service_level"):
        body["service_level"] = head["service_level"]
    ship_to = {
        k: v
        for k, v in (
            ("country", head.get("shipping_country_code")),
            ("province", head.get("shipping_province_code")),
        )
        if v
    }
    if ship_to:
        body["ship_to"] = ship_to
    return body
