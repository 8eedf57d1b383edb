"""Customer returns into Tryton: a return sale, its return shipment, a posted credit note.

Tryton 8.2's own way to take goods back is a sale with negative quantities (what the
``sale.return_sale`` wizard makes: a copy of the sale, ``origin`` the sale, quantities
negated). Processing such a sale creates a customer return shipment
(``stock.shipment.out.return``); invoiced on fulfillment, the received goods make its
invoice, a credit note. :func:`process_returns` drives that workflow for many returns at
once, each identified by its return key kept as the return sale's ``reference``:

1. look up the return sales by reference; create the missing ones in one call (party,
   addresses, payment term and currency from the original sale, found by the order key
   as its reference; ``invoice_method`` fulfillment; ``origin`` the original sale), then
   quote and confirm the lists;
2. ``sale.process`` the confirmed sales that have no return shipment yet (confirm queues
   it; a crash before the queued task ran leaves it undone);
3. ``receive`` the return shipments in ``draft`` (the incoming moves are done, the
   inventory moves are created, and the sale is processed: the credit note is drafted);
4. once the warehouse inspected the return: the damaged units' inventory moves go to the
   warehouse's waste location (a Lost and Found location listed in the warehouse's
   ``waste_locations``, which Tryton's return shipment accepts natively), the others stay
   bound for storage; one ``write`` per shipment (atomic), then ``do`` the list;
5. the credit note: its total must be the returned lines' value to the cent (else the
   return fails with both figures and the note stays a draft); its ``reference`` is set
   to the return key, then ``account.invoice.post`` the list.

Every step starts from what Tryton holds, so sending a return again, or again after a
crash at any point, carries on from where it stopped: never a second return sale, return
shipment or credit note. A create without an answer is looked up again by reference, not
sent again. A batch Tryton rejects is retried one return at a time, so one bad return does
not hold back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from dagster_project.connectors.tryton import (
    TrytonClient,
    TrytonConcurrencyError,
    TrytonError,
    TrytonUnavailable,
    TrytonUserError,
    TrytonUserWarning,
)

log = logging.getLogger("distrohub.tryton")

RESTOCK = "restock"
DAMAGED = "damaged"
CENT = Decimal("0.01")
#: invoice states in which a credit note counts as issued
POSTED = ("posted", "paid")


@dataclass(frozen=True)
class ReturnLine:
    """A returned SKU: units and the price per unit it was sold at (the order's line)."""

    sku: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def value(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, ROUND_HALF_EVEN)


@dataclass(frozen=True)
class ReturnRequest:
    """One customer return: ``reference`` is its return key (``<system>:<rma>``).

    ``order_reference`` is the original sale's reference (the order key); ``warehouse``
    the code of the ERP warehouse that received it. ``dispositions`` is None until the
    warehouse inspected the return, then (sku, units, ``restock`` | ``damaged``) triples.
    """

    reference: str
    order_reference: str
    warehouse: str
    lines: tuple[ReturnLine, ...]
    dispositions: tuple[tuple[str, Decimal, str], ...] | None = None

    @property
    def inspected(self) -> bool:
        return self.dispositions is not None

    @property
    def credit_total(self) -> Decimal:
        """The credit note's expected total (negative: money back to the customer)."""
        return -sum((line.value for line in self.lines), Decimal(0))

    def damaged(self) -> dict[str, Decimal]:
        units: dict[str, Decimal] = {}
        for sku, quantity, disposition in self.dispositions or ():
            if disposition == DAMAGED:
                units[sku] = units.get(sku, Decimal(0)) + quantity
        return units


class ReturnStatus(StrEnum):
    CREATED = "created"  # the return sale was created now
    ADVANCED = "advanced"  # it existed, and was taken further now
    EXISTED = "existed"  # nothing left to do
    FAILED = "failed"


class ReturnProblem(TrytonError):
    """A return the ERP cannot take as it is; ``code`` says why (the DLQ reason)."""

    def __init__(self, code: str, message: str, *, reference: str, fix: str) -> None:
        self.code = code
        super().__init__(message, reference=reference, fix=fix)

    def __str__(self) -> str:
        return f"tryton (return {self.reference!r}): {self.message.rstrip('. ')}. Fix: {self.fix}"


class CreditNoteMismatch(ReturnProblem):
    """The drafted credit note's total is not the returned lines' value; it is not posted."""

    def __init__(self, reference: str, expected: Decimal, actual: Decimal, number: Any) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            "credit_mismatch",
            f"the credit note (invoice id {number}) totals {actual}, the returned lines are "
            f"worth {expected}; it was left in draft, not posted",
            reference=reference,
            fix="compare the return sale's lines in Tryton with the storefront order's prices "
            "(publish.erp_returns), correct the draft credit note or the return sale, then "
            "replay the message",
        )


@dataclass
class ReturnOutcome:
    """What became of one return, and where it stands in Tryton."""

    reference: str
    status: ReturnStatus
    sale_id: int | None = None
    sale_number: str | None = None
    shipment_id: int | None = None
    shipment_state: str | None = None
    credit_note_id: int | None = None
    credit_note_number: str | None = None
    credit_note_total: Decimal | None = None
    credit_note_state: str | None = None
    expected_total: Decimal | None = None
    error: TrytonError | None = None

    @property
    def ok(self) -> bool:
        return self.status is not ReturnStatus.FAILED


def process_returns(client: TrytonClient, returns: Iterable[ReturnRequest]) -> list[ReturnOutcome]:
    """Take these returns as far as they go in Tryton (see the module's docstring).

    One outcome per distinct reference, in input order. Raises only what a first read
    raises (the ERP unreachable before anything was sent); every later failure is an
    outcome.
    """
    unique: dict[str, ReturnRequest] = {}
    for request in returns:
        unique.setdefault(request.reference, request)
    if not unique:
        return []
    return _ReturnsBatch(client, list(unique.values())).run()


@dataclass
class _State:
    sale: dict[str, Any] | None = None
    shipment: dict[str, Any] | None = None
    invoices: list[dict[str, Any]] = field(default_factory=list)


class _ReturnsBatch:
    def __init__(self, client: TrytonClient, requests: list[ReturnRequest]) -> None:
        self.client = client
        self.requests = {r.reference: r for r in requests}
        self.failed: dict[str, TrytonError] = {}
        self.created: set[str] = set()
        self.advanced: set[str] = set()
        self.state = {ref: _State() for ref in self.requests}
        self.products: dict[str, tuple[int, int]] = {}
        self.warehouses: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ the run
    def run(self) -> list[ReturnOutcome]:
        self._load_codes()
        self._read_sales()
        missing = [
            r for ref, r in self.requests.items() if self.state[ref].sale is None and self._ok(ref)
        ]
        if missing:
            self._create(missing)
            self._read_sales()
        self._advance_sales("draft", "quote")
        self._advance_sales("quotation", "confirm")
        unprocessed = [
            ref
            for ref, st in self._live()
            if st.sale["state"] in ("confirmed", "processing") and not st.sale["shipment_returns"]
        ]
        if unprocessed:
            self._call_each(
                "sale.sale", "process", {r: self.state[r].sale["id"] for r in unprocessed}
            )
            self._read_sales()
        self._read_shipments()
        drafts = {
            ref: st.shipment["id"] for ref, st in self._live() if _state(st.shipment) == "draft"
        }
        if drafts:
            self._call_each("stock.shipment.out.return", "receive", drafts)
            self._read_shipments()
        inspected = {
            ref: st.shipment
            for ref, st in self._live()
            if _state(st.shipment) == "received" and self.requests[ref].inspected
        }
        if inspected:
            self._put_away(inspected)
            self._call_each(
                "stock.shipment.out.return", "do", {r: s["id"] for r, s in inspected.items()}
            )
            self._read_shipments()
        self._read_invoices()
        uninvoiced = [
            ref
            for ref, st in self._live()
            if _state(st.shipment) == "done" and not _live_invoices(st.invoices)
        ]
        if uninvoiced:  # the receipt's queued processing did not run (a crash): run it now
            self._call_each(
                "sale.sale", "process", {r: self.state[r].sale["id"] for r in uninvoiced}
            )
            self._read_invoices()
        self._post_credit_notes()
        return self._outcomes()

    def _ok(self, ref: str) -> bool:
        return ref not in self.failed

    def _live(self) -> list[tuple[str, _State]]:
        """The returns with a return sale and no failure so far."""
        return [
            (ref, st) for ref, st in self.state.items() if st.sale is not None and self._ok(ref)
        ]

    def _fail(self, ref: str, exc: TrytonError) -> None:
        if ref not in self.failed:  # the first failure is the cause
            self.failed[ref] = exc if isinstance(exc, ReturnProblem) else exc.for_reference(ref)

    # ------------------------------------------------------------------ reads
    def _load_codes(self) -> None:
        skus = sorted(
            {ln.sku for r in self.requests.values() for ln in r.lines}
            | {d[0] for r in self.requests.values() for d in r.dispositions or ()}
        )
        for row in self.client.read_all(
            "product.product",
            [["code", "in", skus]],
            ["code", "default_uom"],
            context={"active_test": False},
        ):
            self.products[row["code"]] = (row["id"], row["default_uom"])
        codes = sorted({r.warehouse for r in self.requests.values()})
        for row in self.client.read_all(
            "stock.location",
            [["type", "=", "warehouse"], ["code", "in", codes]],
            ["code", "waste_locations", "input_location", "storage_location"],
        ):
            self.warehouses[row["code"]] = row
        for ref, request in self.requests.items():
            unknown = sorted(
                ({ln.sku for ln in request.lines} | {d[0] for d in request.dispositions or ()})
                - set(self.products)
            )
            if unknown:
                self._fail(
                    ref,
                    ReturnProblem(
                        "unknown_sku",
                        f"SKU(s) {', '.join(unknown)} are not products in the ERP",
                        reference=ref,
                        fix="create the products (code = SKU) in Tryton or fix the return's "
                        "lines at the warehouse",
                    ),
                )
            elif request.warehouse not in self.warehouses:
                self._fail(
                    ref,
                    ReturnProblem(
                        "unknown_warehouse",
                        f"no ERP warehouse has the code {request.warehouse!r}",
                        reference=ref,
                        fix="give the receiving warehouse that code in Tryton (Stock > "
                        "Locations) or fix the location mapping",
                    ),
                )
            elif request.damaged() and not self.warehouses[request.warehouse]["waste_locations"]:
                self._fail(
                    ref,
                    ReturnProblem(
                        "no_waste_location",
                        f"{sum(request.damaged().values())} damaged unit(s) need a waste "
                        f"location, and warehouse {request.warehouse!r} has none",
                        reference=ref,
                        fix=f"in Tryton add a Lost and Found location to warehouse "
                        f"{request.warehouse}'s Waste Locations, then replay the message",
                    ),
                )

    def _read_sales(self) -> None:
        rows = self.client.read_all(
            "sale.sale",
            [["reference", "in", list(self.requests)]],
            ["reference", "state", "number", "shipment_returns", "invoices"],
        )
        found: dict[str, dict[str, Any]] = {}
        for row in rows:  # ordered by id: the oldest live one, else the oldest
            kept = found.get(row["reference"])
            if kept is None or (kept["state"] == "cancelled" and row["state"] != "cancelled"):
                found[row["reference"]] = row
        for ref, row in found.items():
            self.state[ref].sale = row
            if row["state"] == "cancelled":  # someone cancelled it in the ERP: not ours to redo
                self._fail(
                    ref,
                    ReturnProblem(
                        "return_cancelled_in_erp",
                        f"the return sale {row.get('number') or row['id']} with this reference "
                        "was cancelled in the ERP",
                        reference=ref,
                        fix="if the return must be credited, reset the return sale to draft in "
                        "Tryton and replay the message; otherwise discard the dead letter",
                    ),
                )

    def _read_shipments(self) -> None:
        self._read_sales()
        wanted = {
            st.sale["shipment_returns"][0]: ref
            for ref, st in self.state.items()
            if st.sale is not None and st.sale["shipment_returns"]
        }
        if not wanted:
            return
        for row in self.client.read_all(
            "stock.shipment.out.return",
            [["id", "in", sorted(wanted)]],
            ["state", "number", "incoming_moves", "inventory_moves", "warehouse"],
        ):
            self.state[wanted[row["id"]]].shipment = row

    def _read_invoices(self) -> None:
        self._read_sales()
        wanted = {
            invoice: ref
            for ref, st in self.state.items()
            if st.sale is not None
            for invoice in st.sale["invoices"]
        }
        for st in self.state.values():
            st.invoices = []
        if not wanted:
            return
        for row in self.client.read_all(
            "account.invoice",
            [["id", "in", sorted(wanted)]],
            ["number", "state", "total_amount", "reference", "type"],
        ):
            self.state[wanted[row["id"]]].invoices.append(row)

    # ------------------------------------------------------------------ create
    def _create(self, requests: list[ReturnRequest]) -> None:
        originals: dict[str, dict[str, Any]] = {}
        for row in self.client.read_all(
            "sale.sale",
            [["reference", "in", sorted({r.order_reference for r in requests})]],
            [
                "reference",
                "party",
                "invoice_address",
                "shipment_address",
                "payment_term",
                "currency",
                "state",
            ],
        ):
            if row["state"] != "cancelled":
                originals.setdefault(row["reference"], row)
        values: dict[str, dict[str, Any]] = {}
        for request in requests:
            original = originals.get(request.order_reference)
            if original is None:
                self._fail(
                    request.reference,
                    ReturnProblem(
                        "sale_not_in_erp",
                        f"order {request.order_reference!r} has no (uncancelled) sale in the "
                        "ERP to take the return against",
                        reference=request.reference,
                        fix="publish the order to the ERP first (target erp_sales_orders, its "
                        "DLQ), then replay this message",
                    ),
                )
                continue
            values[request.reference] = self._values(request, original)
        if not values:
            return
        try:
            self.client.execute("sale.sale", "create", list(values.values()), idempotent=False)
            self.created.update(values)
        except (TrytonUserError, TrytonUserWarning) as exc:
            if len(values) == 1:
                self._fail(next(iter(values)), exc)
                return
            log.info("tryton: %d return sales rejected together (%s); one by one", len(values), exc)
            for ref, sale in values.items():
                try:
                    self.client.execute("sale.sale", "create", [sale], idempotent=False)
                    self.created.add(ref)
                except (TrytonUserError, TrytonUserWarning) as one:
                    self._fail(ref, one)
                except TrytonUnavailable as one:
                    self._after_unknown_outcome([ref], one)
        except TrytonUnavailable as exc:
            self._after_unknown_outcome(list(values), exc)

    def _after_unknown_outcome(self, refs: list[str], exc: TrytonUnavailable) -> None:
        """A create got no answer: what is in Tryton now decides; nothing is sent again."""
        try:
            found = {
                row["reference"]
                for row in self.client.read_all(
                    "sale.sale", [["reference", "in", refs]], ["reference"]
                )
            }
        except TrytonError:
            found = set()
        for ref in refs:
            if ref in found:
                self.created.add(ref)
            else:
                self._fail(ref, exc)

    def _values(self, request: ReturnRequest, original: Mapping[str, Any]) -> dict[str, Any]:
        lines = []
        for line in request.lines:
            product, unit = self.products[line.sku]
            lines.append(
                {
                    "type": "line",
                    "product": product,
                    "unit": unit,
                    "quantity": -float(line.quantity),
                    "unit_price": line.unit_price,
                }
            )
        values: dict[str, Any] = {
            "reference": request.reference,
            "origin": f"sale.sale,{original['id']}",
            "description": f"Return {request.reference} of order {request.order_reference}",
            "party": original["party"],
            "invoice_address": original["invoice_address"],
            "shipment_address": original["shipment_address"],
            "payment_term": original["payment_term"],
            "currency": original["currency"],
            "warehouse": self.warehouses[request.warehouse]["id"],
            "invoice_method": "fulfillment",
            "shipment_method": "order",
            "lines": [["create", lines]],
        }
        return values

    # ------------------------------------------------------------------ workflow
    def _advance_sales(self, from_state: str, action: str) -> None:
        todo = {ref: st.sale["id"] for ref, st in self._live() if st.sale["state"] == from_state}
        if todo:
            self._call_each("sale.sale", action, todo)
            self._read_sales()

    def _call_each(self, model: str, method: str, ids: Mapping[str, int]) -> None:
        """``model.method(ids)`` in one call; on a refusal, one return at a time.

        These are workflow transitions and ``process``: Tryton skips records already past
        the state, so sending one again after no answer is harmless.
        """
        todo = {ref: rid for ref, rid in ids.items() if self._ok(ref)}
        if not todo:
            return
        try:
            self.client.execute(model, method, list(todo.values()))
            self.advanced.update(todo)
            return
        except TrytonUnavailable as exc:
            for ref in todo:
                self._fail(ref, exc)
            return
        except (TrytonUserError, TrytonUserWarning, TrytonConcurrencyError) as exc:
            if len(todo) == 1:
                self._fail(next(iter(todo)), exc)
                return
            log.info(
                "tryton: %s.%s of %d returns refused (%s); one by one",
                model,
                method,
                len(todo),
                exc,
            )
        for ref, rid in todo.items():
            try:
                self.client.execute(model, method, [rid])
                self.advanced.add(ref)
            except TrytonError as exc:
                self._fail(ref, exc)

    def _put_away(self, shipments: Mapping[str, dict[str, Any]]) -> None:
        """Damaged units' inventory moves to the warehouse's waste location, in one write
        per shipment (a move split when a SKU has both outcomes); restocked units stay
        bound for storage."""
        move_ids = sorted({m for s in shipments.values() for m in s["inventory_moves"]})
        moves = (
            {
                row["id"]: row
                for row in self.client.read_all(
                    "stock.move",
                    [["id", "in", move_ids]],
                    [
                        "product",
                        "quantity",
                        "unit",
                        "to_location",
                        "from_location",
                        "state",
                        "origin",
                        "company",
                        "planned_date",
                    ],
                )
            }
            if move_ids
            else {}
        )
        writes: list[Any] = []
        changing: dict[str, int] = {}
        for ref, shipment in shipments.items():
            request = self.requests[ref]
            warehouse = self.warehouses[request.warehouse]
            waste = set(warehouse["waste_locations"])
            actions = _waste_actions(
                [moves[m] for m in shipment["inventory_moves"] if m in moves],
                {self.products[sku][0]: qty for sku, qty in request.damaged().items()},
                waste,
                warehouse["waste_locations"][0] if waste else None,
            )
            if actions:
                writes.extend([[shipment["id"]], {"inventory_moves": actions}])
                changing[ref] = shipment["id"]
        if not writes:
            return
        try:
            self.client.execute("stock.shipment.out.return", "write", *writes)
            return
        except TrytonUnavailable as exc:
            for ref in changing:
                self._fail(ref, exc)
            return
        except (TrytonUserError, TrytonUserWarning, TrytonConcurrencyError) as exc:
            if len(changing) == 1:
                self._fail(next(iter(changing)), exc)
                return
        for index, ref in enumerate(changing):
            try:
                self.client.execute(
                    "stock.shipment.out.return", "write", *writes[2 * index : 2 * index + 2]
                )
            except TrytonError as exc:
                self._fail(ref, exc)

    def _post_credit_notes(self) -> None:
        to_post: dict[str, list[int]] = {}
        references: list[Any] = []
        for ref, st in self._live():
            request = self.requests[ref]
            notes = _live_invoices(st.invoices)
            if _state(st.shipment) != "done" or not notes:
                continue
            drafts = [n for n in notes if n["state"] not in POSTED]
            if not drafts:  # posted already (checked before it was)
                continue
            total = sum((n["total_amount"] for n in notes), Decimal(0))
            if total != request.credit_total:
                self._fail(
                    ref,
                    CreditNoteMismatch(ref, request.credit_total, total, drafts[0]["id"]),
                )
                continue
            to_post[ref] = [n["id"] for n in drafts]
            stale = [n["id"] for n in drafts if n.get("reference") != ref]
            if stale:
                references.extend([stale, {"reference": ref}])
        if not to_post:
            return
        if references:
            try:
                self.client.execute("account.invoice", "write", *references)
            except TrytonError as exc:
                for ref in to_post:
                    self._fail(ref, exc)
                return
        todo = {ref: notes for ref, notes in to_post.items() if self._ok(ref)}
        if not todo:
            return
        try:
            self.client.execute(
                "account.invoice", "post", [i for notes in todo.values() for i in notes]
            )
            self.advanced.update(todo)
        except TrytonUnavailable as exc:
            for ref in todo:
                self._fail(ref, exc)
        except (TrytonUserError, TrytonUserWarning, TrytonConcurrencyError) as exc:
            if len(todo) == 1:
                self._fail(next(iter(todo)), exc)
            else:
                for ref, notes in todo.items():
                    try:
                        self.client.execute("account.invoice", "post", notes)
                        self.advanced.add(ref)
                    except TrytonError as one:
                        self._fail(ref, one)
        self._read_invoices()

    # ------------------------------------------------------------------ outcomes
    def _outcomes(self) -> list[ReturnOutcome]:
        outcomes = []
        for ref, request in self.requests.items():
            st = self.state[ref]
            notes = _live_invoices(st.invoices)
            if ref in self.failed:
                status = ReturnStatus.FAILED
            elif ref in self.created:
                status = ReturnStatus.CREATED
            elif ref in self.advanced:
                status = ReturnStatus.ADVANCED
            else:
                status = ReturnStatus.EXISTED
            outcomes.append(
                ReturnOutcome(
                    reference=ref,
                    status=status,
                    sale_id=st.sale["id"] if st.sale else None,
                    sale_number=st.sale.get("number") if st.sale else None,
                    shipment_id=st.shipment["id"] if st.shipment else None,
                    shipment_state=_state(st.shipment),
                    credit_note_id=notes[0]["id"] if notes else None,
                    credit_note_number=notes[0].get("number") if notes else None,
                    credit_note_total=(
                        sum((n["total_amount"] for n in notes), Decimal(0)) if notes else None
                    ),
                    credit_note_state=notes[0]["state"] if notes else None,
                    expected_total=request.credit_total,
                    error=self.failed.get(ref),
                )
            )
        return outcomes


def _state(record: Mapping[str, Any] | None) -> str | None:
    return record["state"] if record else None


def _live_invoices(invoices: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        (i for i in invoices if i["state"] != "cancelled" and i.get("type") == "out"),
        key=lambda i: i["id"],
    )


def _waste_actions(
    moves: list[dict[str, Any]], damaged: Mapping[int, Decimal], waste: set[int], to: int | None
) -> list[Any]:
    """The ``inventory_moves`` actions putting ``damaged`` units per product to waste.

    Counts what already goes to waste (a write that was done before a crash), so running it
    again asks for nothing more. A move is split when only part of it is damaged.
    """
    actions: list[Any] = []
    for product, units in damaged.items():
        mine = [m for m in moves if m["product"] == product and m["state"] == "draft"]
        wanted = float(units) - sum(m["quantity"] for m in mine if m["to_location"] in waste)
        for move in mine:
            if wanted <= 0:
                break
            if move["to_location"] in waste:
                continue
            if move["quantity"] <= wanted:
                actions.append(["write", [move["id"]], {"to_location": to}])
                wanted -= move["quantity"]
                continue
            actions.append(["write", [move["id"]], {"quantity": move["quantity"] - wanted}])
            actions.append(
                [
                    "create",
                    [
                        {
                            "product": product,
                            "unit": move["unit"],
                            "quantity": wanted,
                            "from_location": move["from_location"],
                            "to_location": to,
                            "company": move["company"],
                            "planned_date": move["planned_date"],
                            "origin": move["origin"],
                        }
                    ],
                ]
            )
            wanted = 0
    return actions
