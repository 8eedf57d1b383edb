"""Tryton transport for cancellations: the ERP sale of a cancelled storefront order is
cancelled (``order_cancellations`` rows of step ``erp_cancel``; kind ``tryton_sale_cancels``).

A message is one row of ``publish.order_cancellations``: ``order_key`` is the sale's
reference. :func:`dagster_project.connectors.tryton_cancel.cancel_sales` looks before acting
and takes Tryton's own path (a quotation cancelled; a processing sale's customer shipment
cancelled and its moves ignored through the shipment exception wizard).

Outcomes: cancelled now → DELIVERED; already cancelled → EXISTED; a shipment of the sale has
left → DEAD ``already_shipped`` (the order becomes a return); no sale with that reference →
DEAD ``sale_not_found``; Tryton's refusal → DEAD ``erp_rejected``; no answer → RETRY.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dagster_project.connectors.http import RequestBudget
from dagster_project.connectors.tryton import (
    TrytonClient,
    TrytonError,
    TrytonLoginError,
)
from dagster_project.connectors.tryton_cancel import CancelStatus, SaleCancelOutcome, cancel_sales
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import Message, Outcome, dead, delivered, retry
from dagster_project.publish.transports.tryton import credentials_of


class TrytonSaleCancels:
    """Cancellations of ERP sales in one Tryton database."""

    kind = "tryton_sale_cancels"

    def __init__(self, client: TrytonClient, system: str = "tryton") -> None:
        self.client = client
        self.system = system

    @classmethod
    def from_config(cls, config: SystemConfig) -> TrytonSaleCancels:
        credentials = credentials_of(config)
        client = TrytonClient(credentials, budget=RequestBudget(max_requests=config.request_budget))
        return cls(client, config.system)

    def close(self) -> None:
        self.client.close()

    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        refs = {m.id: str(m.payload.get("order_key") or "") for m in messages}
        for message in messages:
            if not refs[message.id]:
                yield dead(
                    message,
                    "rejected_by_target",
                    f"{self.system}: cancellation {message.record_key}: the message has no "
                    "order_key; fix publish.order_cancellations",
                )
        wanted = [m for m in messages if refs[m.id]]
        if not wanted:
            return
        try:
            results = cancel_sales(self.client, [refs[m.id] for m in wanted])
        except TrytonError as exc:
            for message in wanted:
                yield self._failure(message, exc)
            return
        by_ref = {r.reference: r for r in results}
        answered: set[str] = set()
        for message in wanted:
            ref = refs[message.id]
            yield self._outcome(message, by_ref[ref], repeat=ref in answered)
            answered.add(ref)

    def _outcome(self, message: Message, result: SaleCancelOutcome, *, repeat: bool) -> Outcome:
        what = f"{self.system}: sale of order {result.reference}"
        response = result.response()
        if result.status is CancelStatus.CANCELLED:
            return delivered(message, response, existed=repeat)
        if result.status is CancelStatus.EXISTED:
            return delivered(message, response, existed=True)
        if result.status is CancelStatus.SHIPPED:
            return dead(
                message,
                "already_shipped",
                f"{what} ({result.number}) has a customer shipment that left "
                f"({', '.join(result.shipments)}); it cannot be cancelled: the order becomes a "
                "return (a return authorization and a credit note), then discard this message "
                "(`distrohub dlq discard`)",
                response,
            )
        if result.status is CancelStatus.NOT_FOUND:
            return dead(
                message,
                "sale_not_found",
                f"{what}: no sale has reference {result.reference!r}; if intake never created "
                "it there is nothing to cancel (discard this message), else fix the sale's "
                "reference in Tryton and retry (`distrohub dlq retry`)",
            )
        assert result.error is not None
        return self._failure(message, result.error, response)

    def _failure(self, message: Message, exc: TrytonError, response: object = None) -> Outcome:
        text = f"{exc} (cancellation {message.record_key})"
        if isinstance(exc, TrytonLoginError):
            return dead(message, "auth_failed", text, response)
        if exc.retryable:
            return retry(message, "target_unavailable", text, response)
        return dead(message, "erp_rejected", text, {"response": response, "tryton": exc.message})
