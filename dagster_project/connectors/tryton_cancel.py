"""Cancel ERP sales in Tryton 8.2 the way Tryton itself does, found by ``reference``.

Tryton cancels a sale (``sale.sale.cancel``) only from ``draft`` or ``quotation`` (its
``cancel`` button and workflow transitions); a ``confirmed`` sale goes back to ``draft``
first (``sale.sale.draft``). A sale being processed (``processing``: its customer shipment
``stock.shipment.out`` waiting) is never cancelled as such. Tryton's own path, as a user
would take it: cancel the sale's customer shipments that have not left
(``stock.shipment.out.cancel``, allowed up to ``packed``; it cancels their moves), which
puts the sale's shipment state in ``exception``; then the wizard
``sale.handle.shipment.exception`` marks the cancelled moves *ignored* (not recreated) and
processes the sale, which ends with nothing left to ship (``shipment_state`` ``none``).

Look before acting, keyed by the reference: a sale already ``cancelled``, or processed with
every shipment cancelled and no move left in exception, is :attr:`CancelStatus.EXISTED`
(nothing is sent); a sale with a shipment ``done`` (or ``shipped``) has left the warehouse
and is :attr:`CancelStatus.SHIPPED` (a return, not a cancel); no sale is
:attr:`CancelStatus.NOT_FOUND`. Every step is a Tryton transition that skips records already
past it, so a call repeated after a crash carries on where the first stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dagster_project.connectors.tryton import TrytonClient, TrytonError

#: customer shipment states from which Tryton's stock.shipment.out.cancel still applies
OPEN_SHIPMENT_STATES = ("draft", "waiting", "assigned", "picked", "packed")
#: customer shipment states meaning the goods have left
GONE_SHIPMENT_STATES = ("shipped", "done")
EXCEPTION_WIZARD = "sale.handle.shipment.exception"


class CancelStatus(StrEnum):
    CANCELLED = "cancelled"  # cancelled (or its shipments cancelled and ignored) by this call
    EXISTED = "existed"  # already cancelled
    SHIPPED = "shipped"  # a shipment has left: cannot be cancelled, a return
    NOT_FOUND = "not_found"  # no sale with this reference
    FAILED = "failed"


@dataclass(frozen=True)
class SaleCancelOutcome:
    reference: str
    status: CancelStatus
    sale_id: int | None = None
    number: str | None = None
    state: str | None = None
    shipments: tuple[str, ...] = ()  # "<id>:<state>" of its customer shipments, as found
    error: TrytonError | None = None

    def response(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "sale_id": self.sale_id,
            "number": self.number,
            "state": self.state,
            "shipments": list(self.shipments),
        }


def cancel_sales(client: TrytonClient, references: Sequence[str]) -> list[SaleCancelOutcome]:
    """Cancel the sale of each reference (one outcome per distinct reference, in order).

    Raises :class:`TrytonError` only when the first read fails (nothing was changed); a
    failure after that is the reference's outcome (``FAILED`` with the error)."""
    refs = list(dict.fromkeys(references))
    sales = _sales(client, refs)
    return [_cancel_one(client, ref, sales.get(ref)) for ref in refs]


def _sales(client: TrytonClient, refs: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if not refs:
        return found
    rows = client.read_all(
        "sale.sale",
        [["reference", "in", refs]],
        ["reference", "state", "number", "shipment_state", "shipments"],
    )
    for row in rows:  # by id: a reference's oldest sale is the one intake made
        found.setdefault(row["reference"], row)
    return found


def _cancel_one(
    client: TrytonClient, reference: str, sale: dict[str, Any] | None
) -> SaleCancelOutcome:
    if sale is None:
        return SaleCancelOutcome(reference, CancelStatus.NOT_FOUND)
    sid = sale["id"]
    try:
        shipments = _shipments(client, sale.get("shipments") or [])
        seen = tuple(f"{s['id']}:{s['state']}" for s in shipments)

        def outcome(status: CancelStatus) -> SaleCancelOutcome:
            row = client.read_all("sale.sale", [["id", "=", sid]], ["state", "number"])[0]
            return SaleCancelOutcome(reference, status, sid, row.get("number"), row["state"], seen)

        state = sale["state"]
        if state == "cancelled":
            return SaleCancelOutcome(
                reference, CancelStatus.EXISTED, sid, sale.get("number"), state, seen
            )
        if any(s["state"] in GONE_SHIPMENT_STATES for s in shipments):
            return SaleCancelOutcome(
                reference, CancelStatus.SHIPPED, sid, sale.get("number"), state, seen
            )
        if state in ("draft", "quotation", "confirmed"):
            if state == "confirmed":  # not processed yet: Tryton's way back is draft
                client.execute("sale.sale", "draft", [sid])
            client.execute("sale.sale", "cancel", [sid])
            return outcome(CancelStatus.CANCELLED)
        open_ids = [s["id"] for s in shipments if s["state"] in OPEN_SHIPMENT_STATES]
        if not open_ids and sale.get("shipment_state") != "exception":
            # processed before with every shipment cancelled and its moves ignored
            return SaleCancelOutcome(
                reference, CancelStatus.EXISTED, sid, sale.get("number"), state, seen
            )
        if open_ids:
            client.execute("stock.shipment.out", "cancel", open_ids)
        _ignore_cancelled_moves(client, sid)
        return outcome(CancelStatus.CANCELLED)
    except TrytonError as exc:
        return SaleCancelOutcome(
            reference,
            CancelStatus.FAILED,
            sid,
            sale.get("number"),
            sale.get("state"),
            error=exc.for_reference(reference),
        )


def _shipments(client: TrytonClient, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return client.read_all("stock.shipment.out", [["id", "in", list(ids)]], ["state"])


def _ignore_cancelled_moves(client: TrytonClient, sale_id: int) -> None:
    """Run ``sale.handle.shipment.exception`` on the sale: every cancelled move it offers is
    ignored (none recreated), and the wizard processes the sale."""
    context = {"active_model": "sale.sale", "active_id": sale_id, "active_ids": [sale_id]}
    ctx = {**client.context, **context}
    session, start, _end = client.call(f"wizard.{EXCEPTION_WIZARD}.create", ctx)
    try:
        view = client.call(f"wizard.{EXCEPTION_WIZARD}.execute", session, {}, start, ctx)
        moves = list((view.get("view") or {}).get("defaults", {}).get("domain_moves") or [])
        if moves:
            data = {start: {"domain_moves": moves, "ignore_moves": moves, "recreate_moves": []}}
            client.call(
                f"wizard.{EXCEPTION_WIZARD}.execute", session, data, "handle", ctx, idempotent=False
            )
    finally:
        client.call(f"wizard.{EXCEPTION_WIZARD}.delete", session, ctx)
