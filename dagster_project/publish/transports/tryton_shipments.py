"""Tryton transport: confirmed shipments posted in the ERP, invoices posted
(``erp_shipment_postings``, kind ``tryton_shipment_postings``).

A message is one source shipment: ``{"lines": [publish.erp_shipment_postings rows]}``,
the header (shipment_key, order_key, carrier, tracking_number, shipped_at, expected_amount,
carries_charges, backorder_policy) repeated on every line, one line per SKU with its shipped
``quantity`` in base units. Messages go to
:func:`~dagster_project.connectors.tryton_fulfillment.post_shipments` in batches of
``batch_size`` (each step one call for the batch); it looks before acting by the shipment key
kept on the Tryton shipment's reference, so a resend, or a rerun after a crash, posts nothing
twice. Outcomes:

* DELIVERED: the shipment was taken to done and/or its invoice posted now;
  EXISTED: both were already so (or an earlier message of this batch did it);
* DEAD ``quantity_exceeds_erp`` / ``sku_not_on_shipment`` / ``unknown_sku`` (nothing written),
  ``invoice_mismatch`` (the invoice left a draft), ``sale_not_in_erp``, ``sale_not_open``,
  ``no_open_shipment``, ``not_invoiced``, ``erp_rejected``;
* RETRY ``target_unavailable``: no answer; the next attempt looks again first.

The response carries the ERP shipment (id, number, state), the backorder or cancelled
shipments and the invoice (id, number, state, total, invoice and due dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation

from dagster_project.connectors.http import RequestBudget
from dagster_project.connectors.tryton import (
    TrytonClient,
    TrytonError,
    TrytonLoginError,
)
from dagster_project.connectors.tryton_fulfillment import (
    BACKORDER,
    CANCEL,
    PostingOutcome,
    PostingStatus,
    ShipmentPosting,
    post_shipments,
)
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import (
    Message,
    Outcome,
    Status,
    dead,
    retry,
)
from dagster_project.publish.transports.tryton import credentials_of

BATCH_SIZE = 50
POLICIES = {"allow": BACKORDER, "cancel": CANCEL}


class TrytonShipmentPostings:
    """Confirmed shipments into one Tryton database, in batches on one session."""

    kind = "tryton_shipment_postings"

    def __init__(self, client: TrytonClient, *, batch_size: int = BATCH_SIZE) -> None:
        self.client = client
        self.system = "tryton"
        self.batch_size = batch_size

    @classmethod
    def from_config(cls, config: SystemConfig) -> TrytonShipmentPostings:
        credentials = credentials_of(config)
        budget = RequestBudget(max_requests=config.request_budget)
        transport = cls(TrytonClient(credentials, budget=budget))
        transport.system = config.system
        return transport

    def close(self) -> None:
        self.client.close()

    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        for start in range(0, len(messages), self.batch_size):
            yield from self._batch(messages[start : start + self.batch_size])

    def _batch(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        postings: dict[int, ShipmentPosting] = {}
        for message in messages:
            posting, problem = self._posting(message)
            if problem is not None:
                yield problem
                continue
            assert posting is not None
            postings[message.id] = posting
        if not postings:
            return
        try:
            results = post_shipments(self.client, postings.values())
        except TrytonError as exc:  # nothing of the batch is known: look again next time
            for message in messages:
                if message.id in postings:
                    yield self._failure(message, exc)
            return
        by_key = {r.key: r for r in results}
        answered: set[str] = set()
        for message in messages:
            if message.id not in postings:
                continue
            key = postings[message.id].key
            yield self._outcome(message, by_key[key], repeat=key in answered)
            answered.add(key)

    def _posting(self, message: Message) -> tuple[ShipmentPosting | None, Outcome | None]:
        lines = message.payload.get("lines") or []
        if not lines:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: shipment {message.record_key}: the message has no lines; "
                "fix publish.erp_shipment_postings",
            )
        head = lines[0]
        policy = str(head.get("backorder_policy") or "allow")
        if policy not in POLICIES:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: shipment {message.record_key}: backorder policy {policy!r} is "
                "neither allow nor cancel; fix settings.backorder of the storefront in "
                "dagster_project/defs/systems/storefronts/defs.yaml",
            )
        try:
            shipped = head.get("shipped_at")
            expected = head.get("expected_amount")
            posting = ShipmentPosting(
                key=str(head.get("shipment_key") or message.record_key),
                sale_reference=str(head["order_key"]),
                lines=tuple(
                    (str(ln["sku"]), Decimal(str(ln["quantity"])))
                    for ln in lines
                    if Decimal(str(ln["quantity"])) > 0
                ),
                carrier=head.get("carrier"),
                tracking_number=head.get("tracking_number"),
                shipped_at=dt.datetime.fromisoformat(str(shipped)).date() if shipped else None,
                expected_total=Decimal(str(expected)) if expected is not None else None,
                remainder=POLICIES[policy],
                with_charges=bool(head.get("carries_charges", True)),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: shipment {message.record_key}: payload is unusable ({exc!r}); "
                "fix publish.erp_shipment_postings",
            )
        if not posting.lines:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: shipment {message.record_key}: no line shipped a positive "
                "quantity; nothing to post (fix publish.erp_shipment_postings)",
            )
        return posting, None

    def _outcome(self, message: Message, result: PostingOutcome, *, repeat: bool) -> Outcome:
        response = result.response()
        if result.status is PostingStatus.FAILED:
            text = f"{result.message} (message {message.record_key})"
            if result.retryable:
                return retry(message, result.reason or "target_unavailable", text, response)
            return dead(message, result.reason or "erp_rejected", text, response)
        if result.status is PostingStatus.POSTED and not repeat:
            return Outcome(message.id, Status.DELIVERED, response=response)
        return Outcome(message.id, Status.EXISTED, response=response)

    def _failure(self, message: Message, exc: TrytonError) -> Outcome:
        text = f"{exc} (shipment {message.record_key})"
        if isinstance(exc, TrytonLoginError):
            return dead(message, "auth_failed", text)
        if exc.retryable:
            return retry(message, "target_unavailable", text)
        return dead(message, "erp_rejected", text)
