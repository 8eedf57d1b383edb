"""Tryton over JSON-RPC: confirmed shipments posted to the ERP, and their invoices posted.

A :class:`ShipmentPosting` is one shipment a warehouse (WMS ship confirm, 3PL 945) or a
drop-ship supplier (856) confirmed for an order whose sale is in Tryton. :func:`post_shipments`
takes many at once through :class:`~dagster_project.connectors.tryton.TrytonClient`, batched
(one call per step for the whole batch: many records in one call are far cheaper than one
at a time, docs/performance.md), and always looks before acting:

1. **Find.** The sales by ``reference`` (= the order key), their ``stock.shipment.out``
   documents and moves, in three reads. The source shipment's key is kept on the Tryton
   shipment's ``reference`` (``stock.shipment.out`` has no tracking field in 8.2: the
   reference reads ``<key> | <carrier> <tracking>``). A shipment carrying the key is this
   posting: ``done`` → nothing is posted again (its invoice is finished if it is not yet);
   any other state → the workflow is carried on from there (an earlier attempt stopped).
2. **Check.** Otherwise the sale's oldest waiting shipment without a key is taken. Our own
   check first: every SKU shipped must be on it and no more than it expects; else the posting
   fails (``quantity_exceeds_erp``/``sku_not_on_shipment``) with both figures and nothing is
   written.
3. **Post.** The inventory moves get the shipped quantities (a SKU not shipped: 0), the
   shipment its reference, then Tryton's own workflow for the list: ``assign_try``
   (``assign_force`` for those the ERP's books are short of), ``pick``, ``pack``, ``do``.
   ``pack`` compares picked and outgoing quantities and may raise
   ``ShipmentCheckQuantityWarning``; it is skipped (``res.user.warning.skip``, as Tryton's
   client does) only because step 2 passed.
4. **Backorder.** Tryton's own: a shipment done with less than the sale line is followed by
   ``sale.sale.process`` creating a new waiting shipment for the rest (the backorder). With
   ``remainder="cancel"`` that waiting shipment is cancelled and its moves are marked ignored
   on the sale lines (what Tryton's *handle shipment exception* wizard does), so the sale
   neither ships nor invoices them.
5. **Invoice.** ``sale.sale.process`` creates the draft invoice of the done moves (sales
   invoice on ``fulfillment``). Its total is compared with ``expected_total`` to the cent:
   equal → ``account.invoice.post``; else the invoice stays a draft and the posting fails
   ``invoice_mismatch`` with both figures.

At most one posting per sale goes through a round (two shipments of one sale done together
would share an invoice); the others wait for the next round of the same call. A call that gets
no answer (:class:`TrytonUnavailable`) ends the batch: the postings not finished come back
retryable, and the next attempt finds what did commit by reference.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dagster_project.connectors.tryton import (
    TrytonClient,
    TrytonError,
    TrytonUnavailable,
    TrytonUserError,
    TrytonUserWarning,
)

log = logging.getLogger("distrohub.tryton")

#: what the reference of a posted Tryton shipment starts with: the source key and this
KEY_SEPARATOR = " | "
OPEN_STATES = ("waiting", "assigned", "picked", "packed", "shipped")
BACKORDER = "backorder"
CANCEL = "cancel"


class PostingStatus(StrEnum):
    POSTED = "posted"  # something was written now
    EXISTED = "existed"  # the shipment and its invoice were already posted
    FAILED = "failed"


@dataclass(frozen=True)
class ShipmentPosting:
    """One confirmed source shipment to post. ``lines``: SKU → quantity in base units (EA)."""

    key: str
    sale_reference: str
    lines: tuple[tuple[str, Decimal], ...]
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: dt.date | None = None
    expected_total: Decimal | None = None
    remainder: str = BACKORDER  # backorder | cancel
    with_charges: bool = True  # its invoice takes the sale's product-less (charges) lines

    def quantities(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for sku, quantity in self.lines:
            out[sku] += Decimal(str(quantity))
        return dict(out)

    def reference(self) -> str:
        tail = " ".join(str(p) for p in (self.carrier, self.tracking_number) if p)
        return f"{self.key}{KEY_SEPARATOR}{tail}" if tail else self.key


@dataclass
class PostingOutcome:
    """What happened to one posting. ``reason`` names a failure (``invoice_mismatch``, ...)."""

    key: str
    status: PostingStatus = PostingStatus.EXISTED
    reason: str | None = None
    message: str | None = None
    retryable: bool = False
    sale_id: int | None = None
    shipment_id: int | None = None
    shipment_number: str | None = None
    shipment_state: str | None = None
    backorders: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    invoice: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def response(self) -> dict[str, Any]:
        return {
            "sale_id": self.sale_id,
            "shipment_id": self.shipment_id,
            "shipment_number": self.shipment_number,
            "shipment_state": self.shipment_state,
            "backorder_shipments": self.backorders,
            "cancelled_shipments": self.cancelled,
            "invoice": self.invoice,
            **self.details,
        }


def key_of(reference: str | None) -> str | None:
    """The source key a Tryton shipment reference carries (None: no key)."""
    if not reference:
        return None
    return reference.split(KEY_SEPARATOR, 1)[0].strip() or None


def post_shipments(
    client: TrytonClient, postings: Iterable[ShipmentPosting]
) -> list[PostingOutcome]:
    """Post these shipments (and their invoices) once each; one outcome per distinct key."""
    unique: dict[str, ShipmentPosting] = {}
    for posting in postings:
        unique.setdefault(posting.key, posting)
    outcomes = {key: PostingOutcome(key) for key in unique}
    todo = list(unique.values())
    run = _Run(client, outcomes)
    while todo:
        # one posting per sale per round: each done shipment gets its own invoice
        seen: set[str] = set()
        now, later = [], []
        for posting in todo:
            (later if posting.sale_reference in seen else now).append(posting)
            seen.add(posting.sale_reference)
        try:
            run.round(now)
        except TrytonUnavailable as exc:
            for posting in [*now, *later]:
                outcome = outcomes[posting.key]
                if outcome.status is not PostingStatus.FAILED and not run.finished(posting.key):
                    run.fail(posting.key, "target_unavailable", str(exc), retryable=True)
            break
        todo = later
    return [outcomes[key] for key in unique]


class _Run:
    """The rounds of one :func:`post_shipments` call."""

    def __init__(self, client: TrytonClient, outcomes: dict[str, PostingOutcome]) -> None:
        self.client = client
        self.outcomes = outcomes
        self.products: dict[str, int] = {}
        self.done: set[str] = set()
        self.invoice_methods: dict[int, str] = {}  # sale id -> its invoice method

    def finished(self, key: str) -> bool:
        return key in self.done

    def fail(
        self,
        key: str,
        reason: str,
        message: str,
        *,
        retryable: bool = False,
        **details: Any,
    ) -> None:
        outcome = self.outcomes[key]
        outcome.status = PostingStatus.FAILED
        outcome.reason = reason
        outcome.message = message
        outcome.retryable = retryable
        outcome.details.update(details)
        self.done.add(key)

    def _wrote(self, key: str) -> None:
        if self.outcomes[key].status is not PostingStatus.FAILED:
            self.outcomes[key].status = PostingStatus.POSTED

    # ------------------------------------------------------------------ a round
    def round(self, postings: list[ShipmentPosting]) -> None:
        self._load_products(postings)
        sales = self._sales([p.sale_reference for p in postings])
        shipments, moves = self._shipments(sales)
        to_post: dict[str, tuple[ShipmentPosting, dict[str, Any]]] = {}
        finished: dict[str, tuple[ShipmentPosting, dict[str, Any]]] = {}
        for posting in postings:
            sale = sales.get(posting.sale_reference)
            outcome = self.outcomes[posting.key]
            if sale is None:
                self.fail(
                    posting.key,
                    "sale_not_in_erp",
                    f"tryton: shipment {posting.key}: no sale with reference "
                    f"{posting.sale_reference!r} in the ERP; publish the order (erp_sales_orders) "
                    "first, then replay this message",
                )
                continue
            outcome.sale_id = sale["id"]
            mine = [
                s for s in shipments.get(sale["id"], []) if key_of(s["reference"]) == posting.key
            ]
            mine = [s for s in mine if s["state"] != "cancelled"] or mine
            if mine:
                shipment = mine[0]
                if shipment["state"] == "done":
                    finished[posting.key] = (posting, shipment)
                    continue
                if shipment["state"] == "cancelled":
                    self.fail(
                        posting.key,
                        "shipment_cancelled",
                        f"tryton: shipment {posting.key}: ERP shipment {shipment['number']} "
                        "carrying it was cancelled in Tryton; reset it to draft there, or clear "
                        "its reference to post again, then replay",
                    )
                    continue
                to_post[posting.key] = (posting, shipment)
                continue
            if sale["state"] not in ("processing", "confirmed", "done"):
                self.fail(
                    posting.key,
                    "sale_not_open",
                    f"tryton: shipment {posting.key}: sale {sale['number']} "
                    f"({posting.sale_reference}) is {sale['state']}, not processing; confirm it in "
                    "Tryton or cancel the order in the hub",
                )
                continue
            free = [
                s
                for s in shipments.get(sale["id"], [])
                if s["state"] == "waiting"
                and not key_of(s["reference"])
                and s["id"] not in {sh["id"] for _, sh in to_post.values()}
            ]
            if not free:
                self.fail(
                    posting.key,
                    "no_open_shipment",
                    f"tryton: shipment {posting.key}: sale {sale['number']} "
                    f"({posting.sale_reference}) has no waiting customer shipment to post it "
                    "to (all done or cancelled); check the sale's shipments in Tryton",
                )
                continue
            to_post[posting.key] = (posting, free[0])
        # our own quantity check before anything is written
        for key, (posting, shipment) in list(to_post.items()):
            problem = self._check(posting, shipment, moves)
            if problem is not None:
                del to_post[key]
                reason, message, details = problem
                self.fail(key, reason, message, **details)
        if to_post:
            self._post(to_post, moves)
        posted = {**finished, **to_post}
        if posted:
            self._after_done(posted)

    # --------------------------------------------------------------- reads
    def _load_products(self, postings: list[ShipmentPosting]) -> None:
        skus = sorted({sku for p in postings for sku, _ in p.lines} - set(self.products))
        if not skus:
            return
        for row in self.client.read_all(
            "product.product", [["code", "in", skus]], ["code"], context={"active_test": False}
        ):
            self.products[row["code"]] = row["id"]

    def _sales(self, references: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        rows = self.client.read_all(
            "sale.sale",
            [["reference", "in", sorted(set(references))], ["state", "!=", "cancelled"]],
            ["reference", "state", "number", "shipments", "invoice_method"],
        )
        for row in rows:
            found.setdefault(row["reference"], row)
            self.invoice_methods[row["id"]] = row["invoice_method"]
        return found

    def _shipments(
        self, sales: dict[str, dict[str, Any]]
    ) -> tuple[dict[int, list[dict[str, Any]]], dict[int, dict[str, Any]]]:
        ids = sorted({sid for s in sales.values() for sid in s["shipments"]})
        by_sale: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if not ids:
            return by_sale, {}
        sale_of = {sid: s["id"] for s in sales.values() for sid in s["shipments"]}
        rows = self.client.read_all(
            "stock.shipment.out",
            [["id", "in", ids]],
            ["reference", "state", "number", "inventory_moves", "outgoing_moves"],
        )
        for row in rows:  # ordered by id: the oldest first
            by_sale[sale_of[row["id"]]].append(row)
        move_ids = sorted({m for r in rows for m in (*r["inventory_moves"], *r["outgoing_moves"])})
        moves = {
            m["id"]: m
            for m in self.client.read_all(
                "stock.move", [["id", "in", move_ids]], ["product", "quantity", "state", "origin"]
            )
        }
        return by_sale, moves

    # --------------------------------------------------------------- check
    def _assign_moves(self, shipment: dict[str, Any], moves: dict[int, dict[str, Any]]) -> list:
        ids = shipment["inventory_moves"] or shipment["outgoing_moves"]
        return [moves[m] for m in ids if m in moves and moves[m]["state"] != "cancelled"]

    def _check(
        self,
        posting: ShipmentPosting,
        shipment: dict[str, Any],
        moves: dict[int, dict[str, Any]],
    ) -> tuple[str, str, dict[str, Any]] | None:
        shipped = posting.quantities()
        unknown = sorted(sku for sku in shipped if sku not in self.products)
        if unknown:
            return (
                "unknown_sku",
                f"tryton: shipment {posting.key}: SKU(s) {', '.join(unknown)} are not products "
                "in the ERP; create them in Tryton or fix the warehouse's confirmation",
                {"unknown_skus": unknown},
            )
        expected: dict[int, Decimal] = defaultdict(Decimal)
        for move in self._assign_moves(shipment, moves):
            expected[move["product"]] += Decimal(str(move["quantity"]))
        # a shipment found by our own key had its quantities written already: the sale
        # shipment's original quantities are not known any more, ours are the ones to check
        over = {
            sku: {"shipped": str(qty), "erp_expects": str(expected.get(self.products[sku], 0))}
            for sku, qty in shipped.items()
            if qty > expected.get(self.products[sku], Decimal(0))
        }
        if not over:
            return None
        missing = sorted(s for s in over if self.products[s] not in expected)
        figures = "; ".join(
            f"{sku}: shipped {v['shipped']}, ERP shipment expects {v['erp_expects']}"
            for sku, v in sorted(over.items())
        )
        reason = "sku_not_on_shipment" if missing else "quantity_exceeds_erp"
        return (
            reason,
            f"tryton: shipment {posting.key}: ERP shipment {shipment['number']} of sale "
            f"{posting.sale_reference} does not expect what was shipped ({figures}); nothing "
            "was posted. Correct the sale in Tryton (add the line or quantity) or the "
            "warehouse's confirmation, then replay",
            {"quantities": over, "erp_shipment": shipment["number"]},
        )

    # ---------------------------------------------------------------- post
    def _post(
        self,
        to_post: dict[str, tuple[ShipmentPosting, dict[str, Any]]],
        moves: dict[int, dict[str, Any]],
    ) -> None:
        # 1. quantities (absolute values: writing them again is harmless), then the key
        writes: list[Any] = []
        for posting, shipment in to_post.values():
            if shipment["state"] != "waiting":
                continue
            left = {self.products[s]: q for s, q in posting.quantities().items()}
            for move in self._assign_moves(shipment, moves):
                take = min(left.get(move["product"], Decimal(0)), Decimal(str(move["quantity"])))
                left[move["product"]] = left.get(move["product"], Decimal(0)) - take
                if Decimal(str(move["quantity"])) != take:
                    writes += [[move["id"]], {"quantity": float(take)}]
        if writes:
            self._batch("stock.move", "write", *writes, keys=list(to_post))
        refs: list[Any] = []
        for posting, shipment in to_post.values():
            if shipment["reference"] != posting.reference() or posting.shipped_at:
                values: dict[str, Any] = {"reference": posting.reference()}
                if posting.shipped_at and shipment["state"] not in ("done", "cancelled"):
                    values["effective_date"] = posting.shipped_at
                refs += [[shipment["id"]], values]
        if refs:
            self._batch("stock.shipment.out", "write", *refs, keys=list(to_post))
        for key in to_post:
            self._wrote(key)
        # 2. Tryton's workflow, each step for the list of shipments in the state before it
        ids = {key: sh["id"] for key, (_, sh) in to_post.items() if key not in self.done}
        states = {key: sh["state"] for key, (_, sh) in to_post.items()}
        waiting = [k for k in ids if states[k] == "waiting"]
        if waiting:
            self._step("assign_try", waiting, ids)
            states.update(self._states(ids))
            short = [k for k in waiting if states[k] == "waiting" and k not in self.done]
            if short:  # the ERP's books are short: the warehouse has shipped it
                self._step("assign_force", short, ids)
            states.update(self._states(ids))
        for step, before in (("pick", "assigned"), ("pack", "picked"), ("do", "packed")):
            todo = [k for k in ids if states.get(k) == before and k not in self.done]
            if todo:
                self._step(step, todo, ids)
                for k in todo:
                    states[k] = {"pick": "picked", "pack": "packed", "do": "done"}[step]
        for key, (_, shipment) in to_post.items():
            shipment["state"] = states.get(key, shipment["state"])

    def _states(self, ids: dict[str, int]) -> dict[str, str]:
        rows = self.client.read_all(
            "stock.shipment.out", [["id", "in", sorted(ids.values())]], ["state"]
        )
        state = {r["id"]: r["state"] for r in rows}
        return {k: state[i] for k, i in ids.items() if i in state}

    def _step(self, step: str, keys: list[str], ids: dict[str, int]) -> None:
        """``stock.shipment.out.<step>`` for these shipments: the list in one call, one by one
        when Tryton refuses the list; the quantity warning of ``pack`` skipped (our check
        passed)."""
        try:
            self._call_skipping(step, [ids[k] for k in keys])
            return
        except (TrytonUserError, TrytonUserWarning) as exc:
            if len(keys) == 1:
                self._refused(keys[0], step, exc)
                return
        for key in keys:
            try:
                self._call_skipping(step, [ids[key]])
            except (TrytonUserError, TrytonUserWarning) as exc:
                self._refused(key, step, exc)

    def _call_skipping(self, step: str, shipment_ids: list[int]) -> None:
        for _ in range(len(shipment_ids) + 1):
            try:
                self.client.execute("stock.shipment.out", step, shipment_ids)
                return
            except TrytonUserWarning as exc:
                if step != "pack" or "check_quantity" not in exc.name:
                    raise
                self.client.execute("res.user.warning", "skip", exc.name, False)
        self.client.execute("stock.shipment.out", step, shipment_ids)

    def _refused(self, key: str, step: str, exc: TrytonError) -> None:
        self.fail(
            key,
            "erp_rejected",
            f"tryton: shipment {key}: stock.shipment.out.{step} was refused: {exc.message}. "
            "Fix the shipment in Tryton (or its stock), then replay",
            tryton=exc.message,
        )

    def _batch(self, model: str, method: str, *args: Any, keys: list[str]) -> None:
        try:
            self.client.execute(model, method, *args)
        except (TrytonUserError, TrytonUserWarning) as exc:
            for key in keys:
                self.fail(
                    key,
                    "erp_rejected",
                    f"tryton: shipment {key}: {model}.{method} was refused: {exc.message}. "
                    "Fix the record in Tryton, then replay",
                    tryton=exc.message,
                )

    # ------------------------------------------------- backorders and invoices
    def _after_done(self, posted: dict[str, tuple[ShipmentPosting, dict[str, Any]]]) -> None:
        live = {k: v for k, v in posted.items() if k not in self.done}
        for key, (_, shipment) in live.items():
            outcome = self.outcomes[key]
            outcome.shipment_id = shipment["id"]
            outcome.shipment_number = shipment["number"]
            outcome.shipment_state = shipment["state"]
        done = {k: v for k, v in live.items() if v[1]["state"] == "done"}
        for key in set(live) - set(done):
            self.fail(
                key,
                "erp_rejected",
                f"tryton: shipment {key}: ERP shipment {live[key][1]['number']} stopped in "
                f"state {live[key][1]['state']}; finish it in Tryton, then replay",
            )
        if not done:
            return
        sale_ids = sorted({self.outcomes[k].sale_id for k in done if self.outcomes[k].sale_id})
        # process: invoices for the done moves, the backorder for what was not shipped
        self.client.execute("sale.sale", "process", sale_ids)
        self._remainders(done)
        self._invoices(done)

    def _open_shipments(self, sale_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        rows = self.client.read_all("sale.sale", [["id", "in", sale_ids]], ["shipments"])
        ship_ids = sorted({s for r in rows for s in r["shipments"]})
        sale_of = {s: r["id"] for r in rows for s in r["shipments"]}
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if not ship_ids:
            return out
        for row in self.client.read_all(
            "stock.shipment.out",
            [["id", "in", ship_ids], ["state", "in", ["draft", *OPEN_STATES]]],
            ["reference", "state", "moves"],
        ):
            if not key_of(row["reference"]):
                out[sale_of[row["id"]]].append(row)
        return out

    def _remainders(self, done: dict[str, tuple[ShipmentPosting, dict[str, Any]]]) -> None:
        sale_ids = sorted({self.outcomes[k].sale_id for k in done if self.outcomes[k].sale_id})
        open_by_sale = self._open_shipments(sale_ids)
        to_cancel: dict[int, list[int]] = {}
        for key, (posting, _) in done.items():
            sale = self.outcomes[key].sale_id
            rest = open_by_sale.get(sale, []) if sale is not None else []
            if posting.remainder == CANCEL:
                for shipment in rest:
                    to_cancel[shipment["id"]] = shipment["moves"]
                self.outcomes[key].cancelled = [s["id"] for s in rest]
                if rest:
                    self._wrote(key)
            else:
                self.outcomes[key].backorders = [s["id"] for s in rest]
        if not to_cancel:
            return
        self.client.execute("stock.shipment.out", "cancel", sorted(to_cancel))
        # what Tryton's "handle shipment exception" wizard does with "ignore": the sale lines
        # keep the cancelled moves as ignored, so the sale neither ships nor invoices them
        move_ids = sorted({m for moves in to_cancel.values() for m in moves})
        rows = self.client.read_all(
            "stock.move", [["id", "in", move_ids], ["origin", "like", "sale.line,%"]], ["origin"]
        )
        by_line: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            by_line[int(str(row["origin"]).split(",")[1])].append(row["id"])
        if by_line:
            writes: list[Any] = []
            for line, ids in sorted(by_line.items()):
                writes += [[line], {"moves_ignored": [["add", ids]]}]
            self.client.execute("sale.line", "write", *writes)
        self.client.execute("sale.sale", "process", sale_ids)

    def _invoices(self, done: dict[str, tuple[ShipmentPosting, dict[str, Any]]]) -> None:
        ship_ids = {done[k][1]["id"]: k for k in done}
        moves = self.client.read_all(
            "stock.move",
            [["shipment", "in", [f"stock.shipment.out,{i}" for i in ship_ids]]],
            ["shipment", "invoice_lines", "state"],
        )
        line_ids = sorted({ln for m in moves for ln in m["invoice_lines"]})
        invoice_lines = (
            self.client.read_all("account.invoice.line", [["id", "in", line_ids]], ["invoice"])
            if line_ids
            else []
        )
        invoice_of_line = {ln["id"]: ln["invoice"] for ln in invoice_lines}
        invoices_of: dict[str, set[int]] = defaultdict(set)
        for move in moves:
            shipment = int(str(move["shipment"]).split(",")[1])
            for ln in move["invoice_lines"]:
                if invoice_of_line.get(ln):
                    invoices_of[ship_ids[shipment]].add(invoice_of_line[ln])
        invoice_ids = sorted({i for ids in invoices_of.values() for i in ids})
        invoices = self._read_invoices(invoice_ids)
        merged = self._merge_charges(done, invoices_of, invoices)
        if merged:
            invoices = self._read_invoices(invoice_ids)
        to_post: list[int] = []
        for key, (posting, shipment) in done.items():
            found = [invoices[i] for i in sorted(invoices_of.get(key, ())) if i in invoices]
            found = [i for i in found if i["state"] != "cancelled"]
            sale = self.outcomes[key].sale_id
            if not found and self.invoice_methods.get(sale or 0) != "fulfillment":
                # a sale Tryton invoices by hand (manual) or on order: not ours to invoice
                self.outcomes[key].details["invoice_method"] = self.invoice_methods.get(sale or 0)
                continue
            if not found:
                self.fail(
                    key,
                    "not_invoiced",
                    f"tryton: shipment {key}: ERP shipment {shipment['number']} is done but "
                    "sale.sale.process made no invoice for it; check the sale's invoice method "
                    "(fulfillment) and its invoice exceptions in Tryton, then replay",
                )
                continue
            invoice = found[0]
            self.outcomes[key].invoice = _invoice_view(invoice)
            total = Decimal(str(invoice["total_amount"]))
            if invoice["state"] == "draft":
                if posting.expected_total is not None and total != posting.expected_total:
                    self.fail(
                        key,
                        "invoice_mismatch",
                        f"tryton: shipment {key}: invoice {invoice['id']} of sale "
                        f"{posting.sale_reference} totals {total} but the storefront charged "
                        f"{posting.expected_total} for what shipped; the invoice is left a "
                        "draft. Correct the sale's lines or prices in Tryton (or the order in "
                        "the hub), then replay",
                        invoice_total=str(total),
                        expected_total=str(posting.expected_total),
                    )
                    continue
                to_post.append(invoice["id"])
        if to_post:
            self.client.execute("account.invoice", "post", sorted(set(to_post)))
            for key in done:
                if self.outcomes[key].invoice and self.outcomes[key].invoice["id"] in to_post:
                    self._wrote(key)
            fresh = self._read_invoices(sorted(set(to_post)))
            for key in done:
                view = self.outcomes[key].invoice
                if view and view["id"] in fresh and key not in self.done:
                    self.outcomes[key].invoice = _invoice_view(fresh[view["id"]])
        for key in done:
            self.done.add(key)

    def _merge_charges(
        self,
        done: dict[str, tuple[ShipmentPosting, dict[str, Any]]],
        invoices_of: dict[str, set[int]],
        invoices: dict[int, dict[str, Any]],
    ) -> bool:
        """Move the sales' charges-only draft invoices onto the shipment's draft invoice.

        Tryton invoices a line with nothing to fulfil (the product-less line of the
        storefront's shipping, tax and discounts, and a service product such as a kit) as soon
        as the sale is processed: on confirmation it gets a draft invoice of its own. For the
        posting that carries the charges (``with_charges``, the order's first shipment) its
        lines are moved onto the
        shipment's draft invoice and the empty draft (no number yet) is deleted, so that one
        invoice is what the storefront charged for the shipment. Looked up afresh each time:
        after a crash the move is simply found done, or done now.
        """
        targets: dict[int, int] = {}  # sale -> the shipment invoice taking its charges
        for key, (posting, _) in done.items():
            sale = self.outcomes[key].sale_id
            mine = [i for i in sorted(invoices_of.get(key, ())) if i in invoices]
            if (
                posting.with_charges
                and sale is not None
                and mine
                and invoices[mine[0]]["state"] == "draft"
            ):
                targets.setdefault(sale, mine[0])
        if not targets:
            return False
        rows = self.client.read_all("sale.sale", [["id", "in", sorted(targets)]], ["invoices"])
        others = {i: r["id"] for r in rows for i in r["invoices"] if i != targets[r["id"]]}
        if not others:
            return False
        lines = self.client.read_all(
            "account.invoice.line",
            [["invoice", "in", sorted(others)], ["invoice.state", "=", "draft"]],
            ["invoice", "product", "stock_moves"],
        )
        by_invoice: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for line in lines:
            by_invoice[line["invoice"]].append(line)
        charges = {
            invoice: its
            for invoice, its in by_invoice.items()
            if all(not ln["stock_moves"] for ln in its)
        }
        if not charges:
            return False
        writes: list[Any] = []
        for invoice, its in sorted(charges.items()):
            writes += [[ln["id"] for ln in its], {"invoice": targets[others[invoice]]}]
        self.client.execute("account.invoice.line", "write", *writes)
        self.client.execute("account.invoice", "delete", sorted(charges))
        return True

    def _read_invoices(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = self.client.read_all(
            "account.invoice",
            [["id", "in", ids]],
            ["number", "state", "total_amount", "invoice_date", "lines_to_pay"],
        )
        pay_ids = sorted({ln for r in rows for ln in r["lines_to_pay"]})
        due: dict[int, dt.date] = {}
        if pay_ids:
            for line in self.client.read_all(
                "account.move.line", [["id", "in", pay_ids]], ["maturity_date"]
            ):
                if line["maturity_date"] is not None:
                    due[line["id"]] = line["maturity_date"]
        for row in rows:
            dates = [due[ln] for ln in row["lines_to_pay"] if ln in due]
            row["due_date"] = min(dates) if dates else None
        return {r["id"]: r for r in rows}


def _invoice_view(invoice: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": invoice["id"],
        "number": invoice.get("number"),
        "state": invoice["state"],
        "total": str(invoice["total_amount"]),
        "invoice_date": _iso(invoice.get("invoice_date")),
        "due_date": _iso(invoice.get("due_date")),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else None


__all__ = [
    "BACKORDER",
    "CANCEL",
    "PostingOutcome",
    "PostingStatus",
    "ShipmentPosting",
    "key_of",
    "post_shipments",
]
