"""Tryton over JSON-RPC: the ERP connector (reading streams, creating sales orders).

It talks to trytond exactly as any external integration would: ``POST
{url}rpc/`` with ``{"id", "method", "params"}``, logged in with
``common.db.login`` and an ``Authorization: Session …`` header, the user's
context (from ``model.res.user.get_preferences``) as the last parameter of
every model call. All HTTP goes through the shared :class:`HttpClient`
(timeouts, retries on 429/5xx/connection errors, request budget).

Contracts
---------
* **Typed values** are decoded exactly: ``Decimal`` → :class:`decimal.Decimal`,
  ``datetime`` → an aware UTC :class:`datetime.datetime` (Tryton keeps naive
  UTC), ``date``, ``time``, ``timedelta``, ``bytes``; and encoded back the
  same way (an aware datetime is converted to UTC first). Floats (Tryton's
  ``quantity`` fields are floats) stay floats; ids are ints.
* **Streams** are data, declared in ``dagster_project/defs/kinds/tryton.yaml``
  (each stream's ``query``: model, fields, the fields whose maximum is the
  cursor, the paths watched for changes, a fixed domain) and handed over as a
  :class:`TrytonStream` (:meth:`TrytonStream.from_declaration`). They are
  read by id-keyset pages; a run's new cursor is the maximum over *all* its
  pages, so commit it after the last page. Changes are found with
  ``["OR", [[f, ">=", T]], ...]`` over the watched paths, ``T`` being the
  previous cursor minus a look-back (a transaction commits after its
  ``write_date`` is stamped). Inactive records are included.
* **Stock** per warehouse is read from ``product.product`` with the
  ``locations`` context (``quantity``, ``forecast_quantity``); incrementally,
  only for the products whose stock moves changed.
* **Sales orders** are created by :meth:`TrytonClient.create_sales_orders`:
  idempotent by ``reference`` (searched before anything is created), many per
  call, then quoted and confirmed as lists; a batch Tryton rejects falls back
  to one order at a time, so one bad order does not hold back the others. A
  rejected order comes back as a permanent failure carrying Tryton's message
  and the order's reference; the caller must not retry it unchanged.
* A session that expired (HTTP 401) is renewed by logging in once more.

Environment: ``DISTROHUB_TRYTON_URL`` (``http://127.0.0.1:8000/DBNAME/``),
``DISTROHUB_TRYTON_USER``, ``DISTROHUB_TRYTON_PASSWORD``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import itertools
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from dagster_project.connectors.base import StreamConfig
from dagster_project.connectors.http import (
    AuthenticationFailed,
    HttpClient,
    HttpError,
    HttpStatusError,
    HttpTransportError,
    RequestBudget,
    RetryPolicy,
)

log = logging.getLogger("distrohub.tryton")

SYSTEM = "tryton"
ENV_URL = "DISTROHUB_TRYTON_URL"
ENV_USER = "DISTROHUB_TRYTON_USER"
ENV_PASSWORD = "DISTROHUB_TRYTON_PASSWORD"
DEFAULT_PAGE_SIZE = 500
DEFAULT_LOOKBACK = dt.timedelta(seconds=60)
DEFAULT_BATCH_SIZE = 100


# ===================================================================== config
@dataclass(frozen=True)
class TrytonCredentials:
    """Where the ERP is and who we are there. ``url`` ends with the database: ``…/DB/``."""

    url: str
    user: str
    password: str = field(repr=False)

    @property
    def database(self) -> str:
        return urlsplit(self.url).path.strip("/").split("/")[-1]


# ===================================================================== codec
def decode(value: Any) -> Any:
    """Tryton's JSON value (already parsed) → Python, typed objects decoded exactly."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__class__" in value:
            return _decode_class(value)
        return {k: decode(v) for k, v in value.items()}
    return value


def _decode_class(obj: dict[str, Any]) -> Any:
    kind = obj["__class__"]
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return dt.datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj["hour"],
            obj["minute"],
            obj["second"],
            obj.get("microsecond", 0),
            tzinfo=dt.UTC,
        )
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "time":
        return dt.time(obj["hour"], obj["minute"], obj["second"], obj.get("microsecond", 0))
    if kind == "timedelta":
        return dt.timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    raise TrytonProtocolError(f"tryton sent a value of unknown class {kind!r}")


def encode(value: Any) -> Any:
    """Python → Tryton's JSON shapes (the inverse of :func:`decode`)."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dt.time):
        return {
            "__class__": "time",
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value]
    return value


# ==================================================================== errors
class TrytonError(Exception):
    """An ERP call failed. ``retryable`` says whether sending it again can help."""

    retryable = False

    def __init__(
        self, message: str, *, method: str = "", reference: str | None = None, fix: str = ""
    ) -> None:
        self.message = message
        self.method = method
        self.reference = reference
        self.fix = fix
        super().__init__(message)

    def __str__(self) -> str:
        where = f" {self.method}" if self.method else ""
        ref = f" (order reference {self.reference!r})" if self.reference else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"tryton{where}{ref}: {self.message.rstrip('. ')}.{fix}"

    def for_reference(self, reference: str) -> TrytonError:
        """A copy of this error naming the order it is about."""
        clone = copy.copy(self)
        clone.reference = reference
        return clone


class TrytonConfigError(TrytonError):
    """The connector is not configured (a variable is missing)."""

    def __str__(self) -> str:
        return self.message


class TrytonProtocolError(TrytonError):
    """Tryton answered something that is not JSON-RPC as we know it."""


class TrytonUserError(TrytonError):
    """Tryton refused the call for a business reason (validation, state, rights).

    Permanent: the same call fails the same way until the data is fixed.
    ``message`` and ``description`` are Tryton's own words.
    """

    def __init__(
        self,
        message: str,
        description: str = "",
        *,
        method: str = "",
        reference: str | None = None,
        domain: Any = None,
    ) -> None:
        self.description = description
        self.domain = domain
        text = f"{message} ({description})" if description else message
        super().__init__(
            text,
            method=method,
            reference=reference,
            fix="correct the record in the ERP or the order in the hub; "
            "retrying it unchanged fails the same way",
        )
        self.tryton_message = message


class TrytonUserWarning(TrytonError):
    """Tryton asks a human to confirm a warning (``name``); permanent until someone does."""

    def __init__(self, name: str, message: str, description: str = "", *, method: str = "") -> None:
        self.name = name
        self.description = description
        super().__init__(
            f"{message} {description}".strip(),
            method=method,
            fix=f"review warning {name!r} in Tryton and skip it for this record, or fix the data",
        )


class TrytonConcurrencyError(TrytonError):
    """The record was modified by someone else in the meantime; retry later."""

    retryable = True


class TrytonServerError(TrytonError):
    """An unexpected exception inside trytond (a bug or a broken set-up)."""

    retryable = True

    def __init__(self, message: str, traceback: str = "", *, method: str = "") -> None:
        self.traceback = traceback
        super().__init__(
            message,
            method=method,
            fix="look at the trytond log ($DISTROHUB_STATE_DIR/erp/trytond.log "
            "for the embedded ERP) for the traceback",
        )


class TrytonLoginError(TrytonError):
    """Login refused: wrong user or password, or the database does not exist."""


class TrytonUnavailable(TrytonError):
    """No answer from the ERP after the HTTP client's retries (transport or 5xx)."""

    retryable = True

    def __init__(self, cause: HttpError, *, method: str = "") -> None:
        self.cause = cause
        self.may_have_taken_effect = getattr(cause, "may_have_taken_effect", False)
        super().__init__(
            str(cause), method=method, fix="check that trytond runs (`distrohub erp status`)"
        )


def _error_from_payload(error: Any, method: str) -> TrytonError:
    """Map the JSON-RPC ``error`` member to a typed exception."""
    if isinstance(error, list) and len(error) == 2 and isinstance(error[0], str):
        kind, args = error
        args = args if isinstance(args, list) else [args]
        if kind == "UserError":
            message, description, domain = (list(args) + ["", "", None])[:3]
            return TrytonUserError(
                str(message), str(description or ""), method=method, domain=domain
            )
        if kind == "UserWarning":
            name, message, description = (list(args) + ["", "", ""])[:3]
            return TrytonUserWarning(str(name), str(message), str(description or ""), method=method)
        if kind == "ConcurrencyException":
            return TrytonConcurrencyError(str(args[0] if args else kind), method=method)
        if kind == "LoginException":
            return TrytonLoginError(f"login needs {args[0] if args else 'more'}", method=method)
        return TrytonServerError(kind, str(args[0]) if args else "", method=method)
    return TrytonServerError(str(error)[:500], method=method)


# ==================================================================== streams
@dataclass(frozen=True)
class TrytonStream:
    """One readable stream, as declared (:class:`~dagster_project.connectors.base.ModelQuery`
    says what each field means): a model, its fields, key, cursor and watched paths.

    When a record is selected only by a path it cannot read, its cursor does not move past
    the change and the next run reads it again (harmless: ingest is idempotent).
    """

    name: str
    model: str
    fields: tuple[str, ...]
    key: tuple[str, ...]
    cursor_fields: tuple[str, ...]
    watch: tuple[str, ...]
    domain: tuple[Any, ...]

    @classmethod
    def from_declaration(cls, stream: StreamConfig) -> TrytonStream:
        """The stream as declared (``query`` in defs/kinds/tryton.yaml) for reading it."""
        if stream.query is None:
            raise TrytonConfigError(
                f"tryton: stream {stream.name!r} declares no query (model and fields) and is "
                f"not one the connector reads by code ({STOCK_STREAM}); declare its query in "
                "dagster_project/defs/kinds/tryton.yaml"
            )
        query = stream.query
        return cls(
            name=stream.name,
            model=query.model,
            fields=tuple(query.fields),
            key=tuple(stream.primary_key),
            cursor_fields=tuple(query.cursor_fields),
            watch=tuple(query.watch),
            domain=tuple(tuple(c) for c in query.domain),
        )

    def all_fields(self) -> list[str]:
        return list(dict.fromkeys((*self.key, *self.fields, *self.cursor_fields)))

    def changed_since(self, since: dt.datetime) -> list[Any]:
        """The ``OR`` domain selecting records changed at or after ``since``."""
        stamp = encode(since)
        return ["OR", *[[[path, ">=", stamp]] for path in self.watch]]

    def cursor_of(self, record: Mapping[str, Any]) -> dt.datetime | None:
        """The record's cursor value: the latest of its readable cursor fields."""
        values = [_dotted(record, f) for f in self.cursor_fields]
        stamps = [v for v in values if isinstance(v, dt.datetime)]
        return max(stamps) if stamps else None


def _line_values(line: SalesOrderLine, units: Mapping[int, int]) -> dict[str, Any]:
    if line.product is None:
        return {
            "type": "line",
            "quantity": float(line.quantity),
            "unit_price": Decimal(line.unit_price),
            "description": line.description or "charge",
        }
    values: dict[str, Any] = {
        "type": "line",
        "product": line.product,
        "quantity": float(line.quantity),
        "unit": line.unit or units[line.product],
        "unit_price": Decimal(line.unit_price),
    }
    if line.description:
        values["description"] = line.description
    return values


def _dotted(record: Mapping[str, Any], path: str) -> Any:
    """``template.write_date`` from ``{"template.": {"write_date": …}}`` (Tryton's nesting)."""
    head, _, rest = path.partition(".")
    if not rest:
        return record.get(head)
    inner = record.get(head + ".")
    return _dotted(inner, rest) if isinstance(inner, Mapping) else None


_STAMPS = ("write_date", "create_date")
STOCK_STREAM = "stock"


@dataclass(frozen=True)
class StreamPage:
    """One page of a stream: records (decoded), and the cursor so far (max over pages)."""

    stream: str
    records: list[dict[str, Any]]
    cursor: dt.datetime | None


# ==================================================================== orders
@dataclass(frozen=True)
class SalesOrderLine:
    """A line to sell: an ERP product id, a quantity, an explicit unit price. A line without
    a product is a charge (shipping, tax, a discount) and needs a description."""

    product: int | None
    quantity: Decimal | float | int
    unit_price: Decimal
    unit: int | None = None  # default: the product's sale unit
    description: str | None = None


@dataclass(frozen=True)
class SalesOrderRequest:
    """A storefront order to become an ERP sales order; ``reference`` is its external id.

    ``party`` is the ERP party id (the hub maps the storefront customer);
    addresses default to the party's first address, the payment term to the
    party's customer payment term, the warehouse to the first warehouse.
    ``currency`` is the ERP currency id of the sale (default: the company's).
    """

    reference: str
    party: int
    lines: tuple[SalesOrderLine, ...]
    warehouse: int | None = None
    payment_term: int | None = None
    invoice_address: int | None = None
    shipment_address: int | None = None
    sale_date: dt.date | None = None
    description: str | None = None
    currency: int | None = None
    invoice_method: str | None = None  # default: the ERP's (sale configuration)


class OutcomeStatus(StrEnum):
    CREATED = "created"  # created now (and quoted/confirmed as asked)
    EXISTED = "existed"  # a sale with this reference was already there
    FAILED = "failed"


@dataclass(frozen=True)
class SalesOrderOutcome:
    """What happened to one order. ``retryable`` is False for Tryton's refusals."""

    reference: str
    status: OutcomeStatus
    sale_id: int | None = None
    number: str | None = None
    state: str | None = None
    error: TrytonError | None = None

    @property
    def ok(self) -> bool:
        return self.status is not OutcomeStatus.FAILED

    @property
    def retryable(self) -> bool:
        return self.error is not None and self.error.retryable


# ==================================================================== client
class TrytonClient:
    """A logged-in JSON-RPC session with one Tryton database.

    Use as a context manager. Every call goes through ``http`` (one
    :class:`HttpClient` per client; pass your own to share a budget).
    """

    def __init__(
        self,
        credentials: TrytonCredentials,
        *,
        http: HttpClient | None = None,
        language: str = "en",
        page_size: int = DEFAULT_PAGE_SIZE,
        budget: RequestBudget | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.credentials = credentials
        self.language = language
        self.page_size = page_size
        self.http = http or HttpClient(
            SYSTEM,
            credentials.url,
            budget=budget,
            retry=retry,
            fixes={
                401: f"check {ENV_USER}/{ENV_PASSWORD} for {credentials.url}",
                403: f"the Tryton user {credentials.user!r} may not call this method",
                404: f"no Tryton database at {credentials.url}: check {ENV_URL} "
                "(`distrohub erp status`)",
            },
        )
        self._session: str | None = None
        self._context: dict[str, Any] | None = None
        self._ids = itertools.count(1)

    def __enter__(self) -> TrytonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------ session
    def login(self) -> dict[str, Any]:
        """Log in and load the user's context (company, language); returns the context."""
        try:
            result = self._rpc(
                "common.db.login",
                [self.credentials.user, {"password": self.credentials.password}, self.language],
                auth=False,
            )
        except AuthenticationFailed as exc:
            raise TrytonLoginError(
                f"login refused for user {self.credentials.user!r} on database "
                f"{self.credentials.database!r} (HTTP {exc.status})",
                method="common.db.login",
                fix=f"check {ENV_USER} and {ENV_PASSWORD}; `distrohub erp status` shows the "
                "embedded ERP's user",
            ) from None
        user_id, session = result[0], result[1]
        token = f"{self.credentials.user}:{user_id}:{session}".encode()
        self._session = "Session " + base64.b64encode(token).decode()
        self._context = None
        context = self._rpc("model.res.user.get_preferences", [True, {}])
        self._context = {k: v for k, v in context.items() if k != "locale"}
        return dict(self._context)

    @property
    def context(self) -> dict[str, Any]:
        """The user's context (logs in on first use)."""
        if self._context is None:
            self.login()
        assert self._context is not None
        return dict(self._context)

    # --------------------------------------------------------------- calls
    def call(self, method: str, *params: Any, idempotent: bool = True) -> Any:
        """Call any RPC method with these positional params (context not added)."""
        if self._session is None and not method.startswith("common."):
            self.login()
        return self._rpc(method, list(params), idempotent=idempotent)

    def execute(
        self,
        model: str,
        method: str,
        *args: Any,
        context: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """``model.<model>.<method>(*args, context)``: the user's context plus ``context``."""
        ctx = self.context
        if context:
            ctx.update(context)
        return self.call(f"model.{model}.{method}", *args, ctx, idempotent=idempotent)

    def _rpc(
        self,
        method: str,
        params: list[Any],
        *,
        auth: bool = True,
        idempotent: bool = True,
        _relogged: bool = False,
    ) -> Any:
        headers = {"Authorization": self._session} if auth and self._session else None
        body = {"id": next(self._ids), "method": method, "params": encode(params)}
        try:
            response = self.http.post(
                "rpc/",
                content=json.dumps(body),
                headers={"Content-Type": "application/json", **(headers or {})},
                idempotent=idempotent,
            )
        except AuthenticationFailed as exc:
            if not auth or _relogged or exc.status != 401:
                raise
            log.info("tryton: session expired, logging in again")
            self.login()
            return self._rpc(method, params, auth=auth, idempotent=idempotent, _relogged=True)
        except (HttpTransportError, HttpStatusError) as exc:
            raise TrytonUnavailable(exc, method=method) from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise TrytonProtocolError(
                f"answer to {method} is not JSON (HTTP {response.status_code})",
                method=method,
                fix=f"check that {self.credentials.url} is a trytond server",
            ) from exc
        if "error" in payload and payload["error"] is not None:
            raise _error_from_payload(payload["error"], method)
        if "result" not in payload:
            raise TrytonProtocolError(
                f"answer to {method} has neither result nor error", method=method
            )
        return decode(payload["result"])

    # --------------------------------------------------------------- reads
    def search_read(
        self,
        model: str,
        domain: Sequence[Any] = (),
        fields: Sequence[str] = ("id",),
        *,
        context: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of records matching ``domain``, ordered by id, read by id keyset.

        Keyset paging (``id > last``) is stable while records change, unlike offsets.
        """
        size = page_size or self.page_size
        wanted = list(dict.fromkeys(["id", *fields]))
        last_id = 0
        read = 0
        while True:
            take = size if limit is None else min(size, limit - read)
            if take <= 0:
                return
            page_domain = [list(domain), ["id", ">", last_id]] if domain else [["id", ">", last_id]]
            rows = self.execute(
                model, "search_read", page_domain, 0, take, [["id", "ASC"]], wanted, context=context
            )
            if rows:
                yield rows
                last_id = rows[-1]["id"]
                read += len(rows)
            if len(rows) < take:
                return

    def read_all(
        self,
        model: str,
        domain: Sequence[Any] = (),
        fields: Sequence[str] = ("id",),
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Every matching record in one list (for small reference sets)."""
        return [
            row for page in self.search_read(model, domain, fields, context=context) for row in page
        ]

    # -------------------------------------------------------------- streams
    def read_stream(
        self,
        stream: TrytonStream | str,
        since: dt.datetime | None = None,
        *,
        lookback: dt.timedelta = DEFAULT_LOOKBACK,
        page_size: int | None = None,
    ) -> Iterator[StreamPage]:
        """Pages of ``stream`` changed since ``since`` (all of it when None).

        ``stream`` is a declared stream (:meth:`TrytonStream.from_declaration`) or the name of
        one read by code (``stock``). The last page's ``cursor`` is the stream's new cursor
        (None: nothing carried a timestamp; keep the old one).
        """
        if stream == STOCK_STREAM:
            yield from self.read_stock(since, lookback=lookback, page_size=page_size)
            return
        if not isinstance(stream, TrytonStream):
            raise TrytonConfigError(
                f"tryton: stream {stream!r} is not read by code (only {STOCK_STREAM} is); "
                "pass its declaration (TrytonStream.from_declaration)"
            )
        domain: list[Any] = [list(c) for c in stream.domain]
        if since is not None and stream.watch:
            domain.append(stream.changed_since(since - lookback))
        cursor = since
        for rows in self.search_read(
            stream.model,
            domain,
            stream.all_fields(),
            context={"active_test": False},
            page_size=page_size,
        ):
            for row in rows:
                stamp = stream.cursor_of(row)
                if stamp is not None and (cursor is None or stamp > cursor):
                    cursor = stamp
            yield StreamPage(stream.name, rows, cursor)

    def warehouses(self) -> list[dict[str, Any]]:
        """Active warehouses: id, name, code, storage_location."""
        return self.read_all(
            "stock.location", [["type", "=", "warehouse"]], ["name", "code", "storage_location"]
        )

    def read_stock(
        self,
        since: dt.datetime | None = None,
        *,
        warehouses: Sequence[int] | None = None,
        lookback: dt.timedelta = DEFAULT_LOOKBACK,
        page_size: int | None = None,
    ) -> Iterator[StreamPage]:
        """Stock per product × warehouse: ``quantity`` and ``forecast_quantity``.

        Without ``since``, every goods product in every warehouse (a snapshot).
        With ``since``, only products with a stock move created or changed
        since then (minus ``lookback``). The cursor is the latest stock move's
        ``write_date``/``create_date``. Quantities are in each product's
        default unit; the ``locations`` context makes them per warehouse.
        """
        product_ids: list[int] | None = None
        if since is None:
            cursor = self._latest_move_stamp()
        else:
            cursor, changed = self._moved_products(since - lookback)
            cursor = max(cursor, since) if cursor else since
            product_ids = sorted(changed)
            if not product_ids:
                return
        targets = [w for w in self.warehouses() if warehouses is None or w["id"] in warehouses]
        base: list[Any] = [["type", "=", "goods"]]
        if product_ids is not None:
            base.append(["id", "in", product_ids])
        for warehouse in targets:
            for rows in self.search_read(
                "product.product",
                base,
                ["code", "quantity", "forecast_quantity", "default_uom"],
                context={"locations": [warehouse["id"]], "active_test": False},
                page_size=page_size,
            ):
                records = [
                    {
                        "product": row["id"],
                        "product_code": row.get("code"),
                        "warehouse": warehouse["id"],
                        "warehouse_code": warehouse.get("code"),
                        "quantity": row["quantity"],
                        "forecast_quantity": row["forecast_quantity"],
                        "unit": row.get("default_uom"),
                    }
                    for row in rows
                ]
                yield StreamPage(STOCK_STREAM, records, cursor)

    def _moved_products(self, since: dt.datetime) -> tuple[dt.datetime | None, set[int]]:
        """Products of the stock moves created or changed at or after ``since``."""
        stamp = encode(since)
        domain = ["OR", [["write_date", ">=", stamp]], [["create_date", ">=", stamp]]]
        cursor: dt.datetime | None = None
        products: set[int] = set()
        for rows in self.search_read("stock.move", domain, ["product", *_STAMPS]):
            for row in rows:
                products.add(row["product"])
                for value in (row.get("write_date"), row.get("create_date")):
                    if value is not None and (cursor is None or value > cursor):
                        cursor = value
        return cursor, products

    def _latest_move_stamp(self) -> dt.datetime | None:
        """The latest ``write_date``/``create_date`` of any stock move (two one-row reads)."""
        latest: dt.datetime | None = None
        for name in _STAMPS:
            rows = self.execute(
                "stock.move", "search_read", [[name, "!=", None]], 0, 1, [[name, "DESC"]], [name]
            )
            if rows and (latest is None or rows[0][name] > latest):
                latest = rows[0][name]
        return latest

    # ------------------------------------------------------- sales orders
    def create_sales_orders(
        self,
        orders: Iterable[SalesOrderRequest],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        confirm: bool = True,
    ) -> list[SalesOrderOutcome]:
        """Create, quote and (if ``confirm``) confirm sales orders, once per reference.

        One outcome per distinct reference, in input order. Per batch: search
        the references; create the missing ones in one call (one at a time if
        Tryton rejects the batch); quote, then confirm, the list (again one at
        a time on rejection). A sale found in ``draft`` or ``quotation`` from
        an earlier, interrupted attempt is carried on, not created again.

        Raises :class:`TrytonUnavailable` only when the ERP cannot be reached
        before anything of a batch was sent; every later failure is an outcome.
        """
        unique: dict[str, SalesOrderRequest] = {}
        for order in orders:
            unique.setdefault(order.reference, order)
        outcomes: dict[str, SalesOrderOutcome] = {}
        refs = list(unique)
        for start in range(0, len(refs), batch_size):
            batch = [unique[r] for r in refs[start : start + batch_size]]
            outcomes.update(_SalesBatch(self, batch, confirm).run())
        return [outcomes[r] for r in refs]

    def find_sales(self, references: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Sales by reference (the oldest when several share one)."""
        found: dict[str, dict[str, Any]] = {}
        if not references:
            return found
        rows = self.read_all(
            "sale.sale", [["reference", "in", list(references)]], ["reference", "state", "number"]
        )
        for row in rows:  # ordered by id: the first is the oldest
            found.setdefault(row["reference"], row)
        return found


class _SalesBatch:
    """One batch of :meth:`TrytonClient.create_sales_orders` (search, create, quote, confirm)."""

    def __init__(
        self, client: TrytonClient, orders: list[SalesOrderRequest], confirm: bool
    ) -> None:
        self.client = client
        self.orders = {o.reference: o for o in orders}
        self.confirm = confirm
        self.failed: dict[str, TrytonError] = {}
        self.created: set[str] = set()

    def run(self) -> dict[str, SalesOrderOutcome]:
        existing = self.client.find_sales(list(self.orders))
        missing = [o for ref, o in self.orders.items() if ref not in existing]
        ids = {ref: row["id"] for ref, row in existing.items()}
        if missing:
            ids.update(self._create(missing))
        states = {ref: existing[ref]["state"] if ref in existing else "draft" for ref in ids}
        self._advance(ids, states, "draft", "quote")
        if self.confirm:
            self._advance(ids, states, "quotation", "confirm")
        return self._outcomes(ids, existing)

    # create ---------------------------------------------------------------
    def _create(self, orders: list[SalesOrderRequest]) -> dict[str, int]:
        try:
            values = self._values(orders)
        except TrytonError as exc:
            for order in orders:
                self.failed[order.reference] = exc.for_reference(order.reference)
            return {}
        if not values:
            return {}
        try:
            new_ids = self.client.execute(
                "sale.sale", "create", list(values.values()), idempotent=False
            )
        except (TrytonUserError, TrytonUserWarning) as exc:
            if len(values) == 1:
                (ref,) = values
                self.failed[ref] = exc.for_reference(ref)
                return {}
            log.info(
                "tryton: a batch of %d sales was rejected (%s); creating one by one",
                len(values),
                exc.message,
            )
            return self._create_one_by_one(values)
        except TrytonUnavailable as exc:
            return self._after_unknown_outcome(list(values), exc)
        self.created.update(values)
        return dict(zip(values, new_ids, strict=True))

    def _create_one_by_one(self, values: dict[str, dict[str, Any]]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for ref, sale in values.items():
            try:
                (new_id,) = self.client.execute("sale.sale", "create", [sale], idempotent=False)
            except (TrytonUserError, TrytonUserWarning) as exc:
                self.failed[ref] = exc.for_reference(ref)
                continue
            except TrytonUnavailable as exc:
                ids.update(self._after_unknown_outcome([ref], exc))
                continue
            ids[ref] = new_id
            self.created.add(ref)
        return ids

    def _after_unknown_outcome(self, refs: list[str], exc: TrytonUnavailable) -> dict[str, int]:
        """A create got no answer: find out by reference which sales exist now.

        Those not found are reported as retryable failures, not sent again at
        once: the next attempt searches by reference first, so a create that
        was still committing cannot be doubled.
        """
        try:
            found = self.client.find_sales(refs)
        except TrytonError:
            found = {}
        ids = {ref: row["id"] for ref, row in found.items()}
        self.created.update(ids)
        for ref in refs:
            if ref not in found:
                self.failed[ref] = exc.for_reference(ref)
        return ids

    def _values(self, orders: list[SalesOrderRequest]) -> dict[str, dict[str, Any]]:
        """The ``sale.sale`` create values per reference, defaults filled in (3 reads)."""
        parties = {
            p["id"]: p
            for p in self.client.read_all(
                "party.party",
                [["id", "in", sorted({o.party for o in orders})]],
                ["addresses", "customer_payment_term"],
                context={"active_test": False},
            )
        }
        product_ids = sorted(
            {line.product for o in orders for line in o.lines if line.product is not None}
        )
        units = {
            p["id"]: p.get("sale_uom") or p["default_uom"]
            for p in self.client.read_all(
                "product.product",
                [["id", "in", product_ids]],
                ["sale_uom", "default_uom"],
                context={"active_test": False},
            )
        }
        warehouse = None
        if any(o.warehouse is None for o in orders):
            warehouses = self.client.warehouses()
            warehouse = warehouses[0]["id"] if warehouses else None
        values: dict[str, dict[str, Any]] = {}
        for order in orders:
            problem = self._problem(order, parties, units, warehouse)
            if problem:
                self.failed[order.reference] = TrytonUserError(
                    problem, method="model.sale.sale.create", reference=order.reference
                )
                continue
            party = parties[order.party]
            address = party["addresses"][0] if party["addresses"] else None
            sale: dict[str, Any] = {
                "party": order.party,
                "reference": order.reference,
                "invoice_address": order.invoice_address or address,
                "shipment_address": order.shipment_address or address,
                "payment_term": order.payment_term or party.get("customer_payment_term"),
                "warehouse": order.warehouse or warehouse,
                "lines": [["create", [_line_values(line, units) for line in order.lines]]],
            }
            if order.sale_date is not None:
                sale["sale_date"] = order.sale_date
            if order.description:
                sale["description"] = order.description
            if order.currency is not None:
                sale["currency"] = order.currency
            if order.invoice_method is not None:
                sale["invoice_method"] = order.invoice_method
            values[order.reference] = sale
        return values

    @staticmethod
    def _problem(
        order: SalesOrderRequest,
        parties: Mapping[int, Any],
        units: Mapping[int, int],
        warehouse: int | None,
    ) -> str | None:
        if order.party not in parties:
            return f"party id {order.party} does not exist in the ERP"
        unknown = sorted(
            {line.product for line in order.lines if line.product is not None} - set(units)
        )
        if unknown:
            return f"product id(s) {unknown} do not exist in the ERP"
        if order.warehouse is None and warehouse is None:
            return "the ERP has no warehouse to ship from"
        return None

    # quote / confirm ----------------------------------------------------------
    def _advance(
        self, ids: dict[str, int], states: dict[str, str], from_state: str, action: str
    ) -> None:
        todo = {
            ref: sid
            for ref, sid in ids.items()
            if states.get(ref) == from_state and ref not in self.failed
        }
        if not todo:
            return
        to_state = "quotation" if action == "quote" else "confirmed"
        # quote and confirm are workflow transitions: Tryton skips sales already past
        # the state, so sending one again is harmless (idempotent=True).
        done: list[str] = []
        try:
            self.client.execute("sale.sale", action, list(todo.values()))
            done = list(todo)
        except TrytonUnavailable as exc:  # left in their state: the next attempt carries on
            for ref in todo:
                self.failed[ref] = exc.for_reference(ref)
        except (TrytonUserError, TrytonUserWarning, TrytonConcurrencyError) as exc:
            if len(todo) == 1:
                (ref,) = todo
                self.failed[ref] = exc.for_reference(ref)
            else:
                log.info(
                    "tryton: %s of %d sales was rejected (%s); one by one",
                    action,
                    len(todo),
                    exc.message,
                )
                done = self._advance_one_by_one(todo, action)
        for ref in done:
            states[ref] = to_state

    def _advance_one_by_one(self, todo: dict[str, int], action: str) -> list[str]:
        done = []
        for ref, sid in todo.items():
            try:
                self.client.execute("sale.sale", action, [sid])
            except TrytonError as exc:
                self.failed[ref] = exc.for_reference(ref)
                continue
            done.append(ref)
        return done

    def _outcomes(
        self, ids: dict[str, int], existing: dict[str, dict[str, Any]]
    ) -> dict[str, SalesOrderOutcome]:
        current = {}
        if ids:
            try:
                rows = self.client.read_all(
                    "sale.sale",
                    [["id", "in", sorted(ids.values())]],
                    ["reference", "state", "number"],
                )
                current = {row["id"]: row for row in rows}
            except TrytonError:
                current = {}
        outcomes: dict[str, SalesOrderOutcome] = {}
        for ref in self.orders:
            sid = ids.get(ref)
            row = current.get(sid, {}) if sid is not None else {}
            if ref in self.failed:
                status = OutcomeStatus.FAILED
            elif ref in self.created:
                status = OutcomeStatus.CREATED
            else:
                status = OutcomeStatus.EXISTED
            outcomes[ref] = SalesOrderOutcome(
                reference=ref,
                status=status,
                sale_id=sid,
                number=row.get("number"),
                state=row.get("state"),
                error=self.failed.get(ref),
            )
        return outcomes
