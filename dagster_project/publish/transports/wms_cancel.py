"""WMS transport for cancellations: cancel a release at a DC's WMS
(``POST /v1/releases/{release_id}/cancel``; kind ``wms_release_cancels``).

A message is one ``publish.order_cancellations`` row of step ``warehouse_cancel``; its
``release_key`` is the release id the hub sent (``warehouse_releases``). The WMS cancels a
release not yet picked and answers 200 (``already_cancelled`` true for a repeat: EXISTED,
so a resend after a crash has one effect). It answers 409 ``already_picked`` or
``already_shipped`` once a pick completed or the goods left: DEAD with that code (the order
ships anyway and becomes a return); 404: DEAD ``release_not_found``.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from dagster_project.connectors.http import HttpError, HttpStatusError, RequestBudget
from dagster_project.connectors.rest import RestJsonConnector
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import (
    Message,
    OneByOne,
    Outcome,
    body_of,
    dead,
    delivered,
    from_http_error,
)

#: the WMS's 409 codes a cancel can meet, and what the operator does
TOO_LATE = {
    "already_picked": "the release was picked before the cancel arrived",
    "already_shipped": "the release shipped before the cancel arrived",
}


class WmsReleaseCancels(OneByOne):
    """Release cancels to one WMS instance, one request each."""

    kind = "wms_release_cancels"

    @classmethod
    def from_config(cls, config: SystemConfig) -> WmsReleaseCancels:
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
        release_id = message.payload.get("release_key")
        order_key = message.payload.get("order_key")
        if not release_id:
            return dead(
                message,
                "rejected_by_target",
                f"{self.system}: cancellation {message.record_key}: the message has no "
                "release_key; fix publish.order_cancellations",
            )
        what = f"cancel of release {release_id} (order {order_key})"
        try:
            # safe to resend: a cancelled release answers 200 already_cancelled
            response = self.connector.http.post(
                f"v1/releases/{quote(str(release_id), safe='')}/cancel", json={}, idempotent=True
            )
        except HttpStatusError as exc:
            code = _error_code(exc)
            if exc.status == 409 and code in TOO_LATE:
                return dead(
                    message,
                    code,
                    f"{self.system}: {what}: {TOO_LATE[code]}; it cannot be stopped. The order "
                    "ships and becomes a return (a return authorization and a credit note); "
                    "the ERP sale stays until then. Discard this message (`distrohub dlq "
                    "discard`) once the return is raised",
                    body_of(exc),
                )
            return from_http_error(
                message,
                exc,
                what=what,
                not_found=(
                    "release_not_found",
                    f"the WMS has no release {release_id!r}: check that warehouse_releases "
                    "delivered it (ops.outbox) to this system, then retry",
                ),
            )
        except HttpError as exc:
            return from_http_error(message, exc, what=what)
        answer = response.json()
        release = answer.get("release", {})
        summary = {k: release.get(k) for k in ("release_id", "order_ref", "status", "location")}
        return delivered(message, summary, existed=bool(answer.get("already_cancelled")))


def _error_code(exc: HttpStatusError) -> str | None:
    try:
        return json.loads(exc.body)["error"]["code"]
    except (TypeError, ValueError, KeyError):
        return None
