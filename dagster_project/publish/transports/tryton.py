"""Tryton transport: storefront orders become ERP sales orders (``erp_sales_orders``).

A message is one order: ``{"lines": [publish.erp_sales_orders rows]}``, the
header (order_key, party_code, currency, ...) repeated on every line. Per send
call the codes are mapped to ERP ids with a few batched reads (cached for the
call): ``party_code`` → ``party.party``, ``sku`` → ``product.product`` (and its
base unit: quantities are in base units, EA), ``currency`` → ``currency.currency``.
An unknown one is DEAD (``unknown_customer``/``unknown_sku``) before anything is
sent. The rest go to :meth:`TrytonClient.create_sales_orders` in batches, which
searches ``sale.reference`` (= order_key) first: a resend is EXISTED, never a
second sale. Each outcome is yielded as soon as its batch returns.

Concurrency: the system's ``settings.concurrent_requests`` (default 1) batches are sent at
once, each on its own session, when the ERP serves requests in parallel (several trytond
processes: the embedded ERP runs ``DISTROHUB_TRYTON_WORKERS`` of them). Every message of one
reference is in the same batch, so two batches never create the same sale; the code maps
are kept for the transport's life (one delivery).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from dagster_project.connectors.http import RequestBudget
from dagster_project.connectors.tryton import (
    OutcomeStatus,
    SalesOrderLine,
    SalesOrderOutcome,
    SalesOrderRequest,
    TrytonClient,
    TrytonCredentials,
    TrytonError,
    TrytonLoginError,
    TrytonUserError,
    TrytonUserWarning,
)
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import (
    Message,
    Outcome,
    Status,
    TransportConfigError,
    dead,
    retry,
)

BATCH_SIZE = 50
#: sales are invoiced as they ship (Tryton 8.2 calls it ``fulfillment``): ``sale.sale.process``
#: invoices what a done shipment moved (publish target erp_shipment_postings)
INVOICE_METHOD = "fulfillment"
#: ``settings`` key of the Tryton system: how many batches may be in the ERP at once
CONCURRENCY_SETTING = "concurrent_requests"


class TrytonSalesOrders:
    """Sales orders into one Tryton database.

    ``concurrency`` batches are sent at once, each through its own client from
    ``client_factory`` (a session of its own); with 1 (the default) every batch goes
    through ``client``, one after the other.
    """

    kind = "tryton_sales_orders"

    def __init__(
        self,
        client: TrytonClient,
        *,
        batch_size: int = BATCH_SIZE,
        concurrency: int = 1,
        client_factory: Callable[[], TrytonClient] | None = None,
    ) -> None:
        if concurrency > 1 and client_factory is None:
            raise ValueError("concurrency above 1 needs a client_factory (a session per batch)")
        self.client = client
        self.system = "tryton"
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self._factory = client_factory
        self._lock = threading.Lock()
        self._idle: list[tuple[TrytonClient, _Codes]] = [(client, _Codes(client))]
        self._opened: list[TrytonClient] = []

    @classmethod
    def from_config(cls, config: SystemConfig) -> TrytonSalesOrders:
        credentials = credentials_of(config)
        budget = RequestBudget(max_requests=config.request_budget)  # shared by the sessions
        concurrency = config.settings.get(CONCURRENCY_SETTING, 1)
        if not isinstance(concurrency, int) or concurrency < 1:
            raise TransportConfigError(
                f"{config.system}: settings.{CONCURRENCY_SETTING} must be a whole number ≥ 1 "
                f"(got {concurrency!r}); fix it in the system's defs.yaml"
            )
        transport = cls(
            TrytonClient(credentials, budget=budget),
            concurrency=concurrency,
            client_factory=lambda: TrytonClient(credentials, budget=budget),
        )
        transport.system = config.system
        return transport

    def close(self) -> None:
        self.client.close()
        for client in self._opened:
            client.close()

    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        batches = self._batches(messages)
        if self.concurrency == 1 or len(batches) == 1:
            for batch in batches:
                yield from self._run(batch)
            return
        # several batches in the ERP at once, their outcomes in message order (each batch's
        # as soon as it and those before it have returned). On an early exit (the caller
        # stops reading) the batches not started are dropped and those in flight finish:
        # their messages stay unacknowledged, and a resend finds their sales by reference.
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="tryton-sales")
        try:
            futures: list[Future[list[Outcome]]] = [
                pool.submit(lambda b=batch: list(self._run(b))) for batch in batches
            ]
            for future in futures:
                yield from future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _batches(self, messages: Sequence[Message]) -> list[list[Message]]:
        """Batches of at most ``batch_size`` references, spread over ``concurrency`` when
        there are fewer than that many full batches; a reference's messages stay together."""
        by_ref: dict[str, list[Message]] = {}
        for message in messages:
            by_ref.setdefault(_reference(message), []).append(message)
        groups = list(by_ref.values())
        size = min(self.batch_size, max(1, math.ceil(len(groups) / self.concurrency)))
        return [
            [m for group in groups[start : start + size] for m in group]
            for start in range(0, len(groups), size)
        ]

    def _run(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        """One batch on an idle session (a new one when all are busy)."""
        with self._lock:
            if self._idle:
                client, codes = self._idle.pop()
            else:
                assert self._factory is not None
                client = self._factory()
                self._opened.append(client)
                codes = _Codes(client)
        try:
            yield from self._batch(messages, client, codes)
        finally:
            with self._lock:
                self._idle.append((client, codes))

    # ----------------------------------------------------------------- one batch
    def _batch(
        self, messages: Sequence[Message], client: TrytonClient, codes: _Codes
    ) -> Iterator[Outcome]:
        try:
            codes.load(messages)
        except TrytonError as exc:
            for message in messages:
                yield self._failure(message, exc)
            return
        requests: dict[str, SalesOrderRequest] = {}
        pending: list[tuple[Message, str]] = []
        for message in messages:
            request, problem = self._request(message, codes)
            if problem is not None:
                yield problem
                continue
            assert request is not None
            requests.setdefault(request.reference, request)
            pending.append((message, request.reference))
        if not pending:
            return
        try:
            results = client.create_sales_orders(list(requests.values()), batch_size=len(requests))
        except TrytonError as exc:
            for message, _ in pending:
                yield self._failure(message, exc)
            return
        by_ref = {r.reference: r for r in results}
        answered: set[str] = set()
        for message, reference in pending:
            result = by_ref[reference]
            yield self._outcome(message, result, repeat=reference in answered)
            answered.add(reference)

    def _request(
        self, message: Message, codes: _Codes
    ) -> tuple[SalesOrderRequest | None, Outcome | None]:
        lines = message.payload.get("lines") or []
        if not lines:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: order {message.record_key}: the message has no lines; "
                "fix publish.erp_sales_orders",
            )
        head = lines[0]
        reference = _reference(message)
        party_code = head.get("party_code")
        party = codes.parties.get(party_code) if party_code else None
        if party is None:
            return None, dead(
                message,
                "unknown_customer",
                f"{self.system}: order {reference}: customer {party_code!r} is not a party in "
                "the ERP; create the party (code) in Tryton or fix the customer mapping",
                {"party_code": party_code},
            )
        unknown = sorted({str(ln.get("sku")) for ln in lines} - set(codes.products))
        if unknown:
            return None, dead(
                message,
                "unknown_sku",
                f"{self.system}: order {reference}: SKU(s) {', '.join(unknown)} are not "
                "products in the ERP; create them in Tryton or fix the order lines",
                {"unknown_skus": unknown},
            )
        currency_code = head.get("currency")
        currency = codes.currencies.get(currency_code) if currency_code else None
        if currency_code and currency is None:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: order {reference}: currency {currency_code!r} does not exist "
                "in the ERP; add it in Tryton",
                {"currency": currency_code},
            )
        try:
            sale_lines = tuple(
                SalesOrderLine(
                    product=codes.products[str(ln["sku"])][0],
                    quantity=Decimal(str(ln["quantity"])),
                    unit_price=Decimal(str(ln["unit_price"])),
                    unit=codes.products[str(ln["sku"])][1],
                )
                for ln in lines
            )
            sale_lines += _charges(head, sale_lines)
            created = head.get("order_created_at")
            sale_date = dt.datetime.fromisoformat(str(created)).date() if created else None
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            return None, dead(
                message,
                "rejected_by_target",
                f"{self.system}: order {reference}: payload is unusable ({exc!r}); "
                "fix publish.erp_sales_orders",
            )
        po = head.get("customer_po_number")
        return (
            SalesOrderRequest(
                reference=reference,
                party=party,
                lines=sale_lines,
                sale_date=sale_date,
                description=f"PO {po}" if po else None,
                currency=currency,
                invoice_method=INVOICE_METHOD,
            ),
            None,
        )

    def _outcome(self, message: Message, result: SalesOrderOutcome, *, repeat: bool) -> Outcome:
        response = {
            "reference": result.reference,
            "sale_id": result.sale_id,
            "number": result.number,
            "state": result.state,
        }
        if result.status is OutcomeStatus.CREATED:
            status = Status.EXISTED if repeat else Status.DELIVERED
            return Outcome(message.id, status, response=response)
        if result.status is OutcomeStatus.EXISTED:
            return Outcome(message.id, Status.EXISTED, response=response)
        assert result.error is not None
        return self._failure(message, result.error, response)

    def _failure(self, message: Message, exc: TrytonError, response: Any = None) -> Outcome:
        text = f"{exc} (message {message.record_key})"
        if isinstance(exc, TrytonLoginError):
            return dead(message, "auth_failed", text, response)
        if isinstance(exc, TrytonUserError | TrytonUserWarning):
            answer = {**(response or {}), "tryton": exc.message}
            return dead(message, "erp_rejected", text, answer)
        if exc.retryable:
            return retry(message, "target_unavailable", text, response)
        return dead(message, "erp_rejected", text, response)


def credentials_of(config: SystemConfig) -> TrytonCredentials:
    """The Tryton login of a declared system (its URL and credential variables); every Tryton
    transport opens its sessions with it."""
    return TrytonCredentials(
        url=config.env(config.url_env, "JSON-RPC URL (http://HOST:PORT/DATABASE/)").rstrip("/")
        + "/",
        user=config.credential("user"),
        password=config.credential("password"),
    )


def _reference(message: Message) -> str:
    """The ERP sale reference of a message: its order key (the record key if absent)."""
    lines = message.payload.get("lines") or [{}]
    return str(lines[0].get("order_key") or message.record_key)


class _Codes:
    """Code → ERP id maps, filled with one batched read per model for what is missing."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self.parties: dict[str, int] = {}
        self.products: dict[str, tuple[int, int]] = {}  # sku -> (id, base unit)
        self.currencies: dict[str, int] = {}
        self._asked: dict[str, set[str]] = {"party": set(), "product": set(), "currency": set()}

    def load(self, messages: Sequence[Message]) -> None:
        lines = [ln for m in messages for ln in (m.payload.get("lines") or [])]
        parties = self._new("party", {ln.get("party_code") for ln in lines})
        skus = self._new("product", {ln.get("sku") for ln in lines})
        currencies = self._new("currency", {ln.get("currency") for ln in lines})
        context = {"active_test": False}
        if parties:
            for row in self.client.read_all(
                "party.party", [["code", "in", parties]], ["code"], context=context
            ):
                self.parties[row["code"]] = row["id"]
        if skus:
            for row in self.client.read_all(
                "product.product",
                [["code", "in", skus]],
                ["code", "default_uom"],
                context=context,
            ):
                self.products[row["code"]] = (row["id"], row["default_uom"])
        if currencies:
            for row in self.client.read_all(
                "currency.currency", [["code", "in", currencies]], ["code"], context=context
            ):
                self.currencies[row["code"]] = row["id"]
        # marked only once read: after a failed read the next batch asks again
        self._asked["party"].update(parties)
        self._asked["product"].update(skus)
        self._asked["currency"].update(currencies)

    def _new(self, kind: str, values: set[Any]) -> list[str]:
        return sorted(str(v) for v in values if v and str(v) not in self._asked[kind])


#: the line that carries what the storefront charged beyond the items (as the ERP seed does)
CHARGES = "Shipping, tax and discounts (as charged by the storefront)"


def _charges(head: dict, lines: tuple[SalesOrderLine, ...]) -> tuple[SalesOrderLine, ...]:
    """A product-less line for the order total beyond its item lines, so the ERP sale totals
    what the customer was charged (recon_orders compares the two)."""
    if head.get("order_total") is None:
        return ()
    items = sum(
        (Decimal(ln.quantity) * ln.unit_price).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        for ln in lines
    )
    rest = Decimal(str(head["order_total"])) - items
    if rest == 0:
        return ()
    return (SalesOrderLine(product=None, quantity=1, unit_price=rest, description=CHARGES),)
