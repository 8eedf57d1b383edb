"""Customer returns into Tryton as return sales, received returns and posted credit notes.

One message per return (publish.erp_returns: the record key is the return key
``<system>:<rma>``, one line per returned SKU with its order price and, once the warehouse
inspected it, its outcome ``restock`` or ``damaged``). The ERP calls are in
:mod:`dagster_project.connectors.tryton_returns` (:func:`process_returns`), which looks up
the return sale by its reference (= the return key) before anything is created and carries
on from the state Tryton holds: a resend is EXISTED, never a second return or credit note.

A return received but not yet inspected is received in Tryton (its credit note drafted);
the message sent once it is inspected books the units (restocked: storage; damaged: the
warehouse's waste location), takes the return shipment to done and posts the credit note
after checking its total against the returned lines' value to the cent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from dagster_project.connectors.http import RequestBudget
from dagster_project.connectors.tryton import (
    TrytonClient,
    TrytonError,
    TrytonLoginError,
    TrytonUserError,
    TrytonUserWarning,
)
from dagster_project.connectors.tryton_returns import (
    DAMAGED,
    RESTOCK,
    ReturnLine,
    ReturnOutcome,
    ReturnProblem,
    ReturnRequest,
    ReturnStatus,
    process_returns,
)
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import Message, Outcome, Status, dead, retry
from dagster_project.publish.transports.tryton import credentials_of

BATCH_SIZE = 50


class TrytonReturns:
    """Returns into one Tryton database, ``batch_size`` returns per round of calls."""

    kind = "tryton_returns"

    def __init__(self, client: TrytonClient, *, batch_size: int = BATCH_SIZE) -> None:
        self.client = client
        self.system = "tryton"
        self.batch_size = batch_size

    @classmethod
    def from_config(cls, config: SystemConfig) -> TrytonReturns:
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
        pending: list[tuple[Message, str]] = []
        requests: dict[str, ReturnRequest] = {}
        for message in messages:
            request, problem = self._request(message)
            if problem is not None:
                yield problem
                continue
            assert request is not None
            requests.setdefault(request.reference, request)
            pending.append((message, request.reference))
        if not pending:
            return
        try:
            results = process_returns(self.client, list(requests.values()))
        except TrytonError as exc:
            for message, _ in pending:
                yield self._failure(message, exc)
            return
        by_ref = {r.reference: r for r in results}
        answered: set[str] = set()
        for message, reference in pending:
            yield self._outcome(message, by_ref[reference], repeat=reference in answered)
            answered.add(reference)

    def _request(self, message: Message) -> tuple[ReturnRequest | None, Outcome | None]:
        lines = message.payload.get("lines") or []
        if not lines:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: return {message.record_key}: the message has no lines; "
                "fix publish.erp_returns",
            )
        head = lines[0]
        try:
            returned = tuple(
                ReturnLine(
                    sku=str(ln["sku"]),
                    quantity=Decimal(str(ln["quantity"])),
                    unit_price=Decimal(str(ln["unit_price"])),
                )
                for ln in lines
            )
            outcomes = [ln.get("outcome") for ln in lines]
            if any(o not in (None, RESTOCK, DAMAGED) for o in outcomes) or (
                any(outcomes) and not all(outcomes)
            ):
                raise ValueError(f"outcomes {outcomes} are not all restock or damaged")
            dispositions = (
                tuple(
                    (ln.sku, ln.quantity, str(o)) for ln, o in zip(returned, outcomes, strict=True)
                )
                if all(outcomes)
                else None
            )
            request = ReturnRequest(
                reference=str(head.get("return_key") or message.record_key),
                order_reference=str(head["order_key"]),
                warehouse=str(head["location"]),
                lines=returned,
                dispositions=dispositions,
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: return {message.record_key}: payload is unusable ({exc}); "
                "fix publish.erp_returns",
            )
        return request, None

    def _outcome(self, message: Message, result: ReturnOutcome, *, repeat: bool) -> Outcome:
        response: dict[str, Any] = {
            "reference": result.reference,
            "sale_id": result.sale_id,
            "sale_number": result.sale_number,
            "shipment_id": result.shipment_id,
            "shipment_state": result.shipment_state,
            "credit_note_id": result.credit_note_id,
            "credit_note_number": result.credit_note_number,
            "credit_note_total": _text(result.credit_note_total),
            "credit_note_state": result.credit_note_state,
            "expected_total": _text(result.expected_total),
        }
        if result.status is ReturnStatus.FAILED:
            assert result.error is not None
            return self._failure(message, result.error, response)
        if result.status is ReturnStatus.EXISTED or repeat:
            return Outcome(message.id, Status.EXISTED, response=response)
        return Outcome(message.id, Status.DELIVERED, response=response)

    def _failure(self, message: Message, exc: TrytonError, response: Any = None) -> Outcome:
        text = f"{exc} (message {message.record_key})"
        if isinstance(exc, ReturnProblem):
            return dead(message, exc.code, text, response)
        if isinstance(exc, TrytonLoginError):
            return dead(message, "auth_failed", text, response)
        if isinstance(exc, TrytonUserError | TrytonUserWarning):
            return dead(message, "erp_rejected", text, {**(response or {}), "tryton": exc.message})
        if exc.retryable:
            return retry(message, "target_unavailable", text, response)
        return dead(message, "erp_rejected", text, response)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
