"""X12 file transports: 940 shipping orders to the 3PL, 850 purchase orders to suppliers.

``x12_940_cancel`` writes the 940 that cancels an earlier one (W05-01 ``F``, Cancel, X12
element 473; ``order_cancellations`` rows of step ``warehouse_cancel``): the same depositor
order number and lines as the release it cancels (the row's ``release_lines``).

The partner's X12 identity and format are declared with the system, in
``defs.yaml`` under ``settings.edi`` (validated by :class:`EdiSettings`; an
error names the system and the field), and the outbox folder by
``settings.outbox_env``. Control numbers come from the hub's sequence
``ops.x12_control_number`` (one per file: ISA13 = GS06 = ST02), so the
transport needs the hub database (``hub_url``, default ``DISTROHUB_DATABASE_URL``).

Exactly once: the file is named from the message's idempotency key. If a file
of that name is in the outbox, or already taken by the partner into its
``archive/`` subfolder, an earlier attempt landed and the outcome is EXISTED;
no second file is written. Files appear atomically: written as
``.<name>.part`` and renamed.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dagster_project.connectors.x12.errors import X12Error
from dagster_project.connectors.x12.purchase_order import (
    FUNCTIONAL_ID as PO_FUNCTIONAL_ID,
)
from dagster_project.connectors.x12.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    purchase_order_transaction,
)
from dagster_project.connectors.x12.segments import Delimiters
from dagster_project.connectors.x12.warehouse_shipping_order import (
    FUNCTIONAL_ID as OW_FUNCTIONAL_ID,
)
from dagster_project.connectors.x12.warehouse_shipping_order import (
    CarrierInstructions,
    ShippingOrder,
    ShippingOrderLine,
    shipping_order_transaction,
)
from dagster_project.connectors.x12.writer import (
    GroupHeader,
    InterchangeHeader,
    OutboundGroup,
    OutboundTransaction,
    PartySpec,
    write_interchange,
)
from dagster_project.ingest.files import write_atomically
from dagster_project.ingest.readers import SystemConfig
from dagster_project.publish.transports.base import (
    Message,
    Outcome,
    TransportConfigError,
    dead,
    delivered,
    retry,
)

ENV_HUB_URL = "DISTROHUB_DATABASE_URL"
#: W05-01 of a 940 that cancels the order of the same depositor number (element 473: F Cancel)
CANCEL_STATUS = "F"
ARCHIVE = "archive"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# ------------------------------------------------------------------ settings
class PartyId(BaseModel):
    """An ISA sender/receiver: qualifier (ISA05/07) and id (ISA06/08)."""

    model_config = ConfigDict(extra="forbid")
    qualifier: str = Field(min_length=2, max_length=2)
    id: str = Field(min_length=1, max_length=15)


class EdiDelimiters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    element: str = Field(min_length=1, max_length=1)
    component: str = Field(min_length=1, max_length=1)
    segment: str = Field(min_length=1, max_length=1)
    repetition: str | None = Field(None, min_length=1, max_length=1)


class EdiSettings(BaseModel):
    """``settings.edi`` of an X12 partner system: who we both are and how they read X12."""

    model_config = ConfigDict(extra="forbid")
    partner_isa: PartyId
    partner_gs_id: str = Field(min_length=1, max_length=15)
    own_isa: PartyId
    own_gs_id: str = Field(min_length=1, max_length=15)
    isa_version: str = Field(pattern=r"^\d{5}$")
    gs_version: str = Field(pattern=r"^\d{6}$")
    delimiters: EdiDelimiters
    line_break: Literal["", "\n", "\r\n"] = ""
    usage: Literal["P", "T"] = "P"

    @property
    def x12_delimiters(self) -> Delimiters:
        d = self.delimiters
        return Delimiters(d.element, d.component, d.segment, d.repetition)


def edi_settings(system: str, settings: dict[str, Any]) -> EdiSettings:
    """The validated ``settings.edi`` of ``system``; a config error naming the field."""
    raw = settings.get("edi")
    if raw is None:
        raise TransportConfigError(
            f"{system}: settings.edi is not declared in defs.yaml; declare the partner's "
            "X12 identity (partner_isa, partner_gs_id, own_isa, own_gs_id, isa_version, "
            "gs_version, delimiters, line_break)"
        )
    try:
        return EdiSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"settings.edi.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise TransportConfigError(f"{system}: defs.yaml: {problems}") from None


# ----------------------------------------------------------------- transport
class X12FileTransport:
    """940s (``x12_940``) or 850s (``x12_850``) into one partner's outbox folder."""

    def __init__(
        self, kind: str, system: str, outbox: Path, edi: EdiSettings, conn: psycopg.Connection
    ) -> None:
        if kind not in ("x12_940", "x12_850", "x12_940_cancel"):
            raise TransportConfigError(f"{system}: {kind!r} is not an X12 file transport kind")
        self.kind = kind
        self.system = system
        self.outbox = outbox
        self.edi = edi
        self.conn = conn

    @classmethod
    def from_config(
        cls, kind: str, config: SystemConfig, *, hub_url: str | None = None
    ) -> X12FileTransport:
        edi = edi_settings(config.system, config.settings)
        outbox = Path(config.env(config.settings.get("outbox_env"), "outbox folder"))
        url = hub_url or os.environ.get(ENV_HUB_URL)
        if not url:
            raise TransportConfigError(
                f"{config.system}: {ENV_HUB_URL} is not set (the hub database, for X12 "
                "control numbers); export it or pass hub_url"
            )
        try:
            conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise TransportConfigError(
                f"{config.system}: cannot connect to the hub database for X12 control numbers "
                f"({type(exc).__name__}); check {ENV_HUB_URL}"
            ) from None
        return cls(kind, config.system, outbox, edi, conn)

    def close(self) -> None:
        self.conn.close()

    def send(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        for message in messages:
            yield self._send_one(message)

    # ---------------------------------------------------------------- one file
    def _send_one(self, message: Message) -> Outcome:
        code = "850" if self.kind == "x12_850" else "940"
        name = file_name(code, message.idempotency_key)
        what = f"{self.system}: {code} {message.record_key} ({name})"
        if not self.outbox.is_dir():
            # DEAD, not RETRY: a declared folder that does not exist is a configuration
            # error; creating it would drop files where the partner never looks.
            return dead(
                message,
                "outbox_unwritable",
                f"{what}: the outbox folder {self.outbox} does not exist; create it or fix "
                "the system's outbox variable",
            )
        for where in (self.outbox, self.outbox / ARCHIVE):
            if (where / name).exists():
                return delivered(
                    message,
                    {"file": name, "found_in": "archive" if where != self.outbox else "outbox"},
                    existed=True,
                )
        try:
            if self.kind == "x12_940_cancel":
                make, summary = self._build_940(
                    {"lines": message.payload["release_lines"]}, status=CANCEL_STATUS
                )
            else:
                build = self._build_940 if code == "940" else self._build_850
                make, summary = build(message.payload)
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
            return dead(
                message,
                "rejected_by_target",
                f"{what}: the payload cannot make a {code} ({exc!r}); fix the publish model",
            )
        try:
            control = self._control_number()
        except psycopg.Error as exc:
            return retry(
                message,
                "target_unavailable",
                f"{what}: no X12 control number from the hub ({type(exc).__name__}: {exc}); "
                "check the hub database",
            )
        try:
            text = self._interchange(code, make(control), control)
        except (X12Error, ValueError) as exc:
            return dead(
                message,
                "rejected_by_target",
                f"{what}: cannot be written as X12 ({exc}); fix the value at its source",
            )
        try:
            self._write(name, text)
        except OSError as exc:
            # Permission/read-only problems need an operator: DEAD. Anything else (disk
            # full, I/O error, a share gone for a moment) may pass: RETRY with backoff.
            text_error = (
                f"{what}: cannot write into {self.outbox} ({exc.strerror or exc}); "
                "check the folder's space and rights"
            )
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR):
                return dead(message, "outbox_unwritable", text_error)
            return retry(message, "outbox_unwritable", text_error)
        return delivered(
            message, {"file": name, "control_number": control, "bytes": len(text), **summary}
        )

    def _control_number(self) -> int:
        row = self.conn.execute("select nextval('ops.x12_control_number')").fetchone()
        assert row is not None
        return int(row[0])

    def _interchange(self, code: str, transaction: OutboundTransaction, control: int) -> str:
        e = self.edi
        return write_interchange(
            InterchangeHeader(
                sender_qualifier=e.own_isa.qualifier,
                sender_id=e.own_isa.id,
                receiver_qualifier=e.partner_isa.qualifier,
                receiver_id=e.partner_isa.id,
                control_number=control,
                usage=e.usage,
                version=e.isa_version,
            ),
            [
                OutboundGroup(
                    GroupHeader(
                        functional_id=OW_FUNCTIONAL_ID if code == "940" else PO_FUNCTIONAL_ID,
                        sender=e.own_gs_id,
                        receiver=e.partner_gs_id,
                        control_number=control,
                        version=e.gs_version,
                    ),
                    [transaction],
                )
            ],
            delimiters=e.x12_delimiters,
            line_break=e.line_break,
        )

    def _write(self, name: str, text: str) -> None:
        write_atomically(self.outbox, name, text.encode("utf-8"))

    # ---------------------------------------------------------------- documents
    @staticmethod
    def _build_940(payload: dict[str, Any], status: str = "N") -> tuple[Any, dict[str, Any]]:
        lines = payload["lines"]
        if not lines:
            raise ValueError("no lines")
        head = lines[0]
        order_key = _required(head, "order_key")
        w01 = []
        for n, line in enumerate(lines, start=1):
            quantity = Decimal(int(line["quantity"]))
            if quantity <= 0:
                raise ValueError(f"line {line.get('line_number')}: quantity {quantity} <= 0")
            w01.append(ShippingOrderLine(n, quantity, "EA", (("SK", _required(line, "sku")),)))
        order = ShippingOrder(
            depositor_order_number=order_key,
            ship_to=PartySpec(
                "ST",
                f"Order {order_key}",
                state=head.get("shipping_province_code") or "",
                country=head.get("shipping_country_code") or "",
            ),
            lines=tuple(w01),
            status=status,
            carrier=CarrierInstructions(routing=head["service_level"])
            if head.get("service_level")
            else None,
        )
        return (
            lambda control: shipping_order_transaction(order, control),
            {"order_number": order_key, "lines": len(w01), "purpose": status},
        )

    @staticmethod
    def _build_850(payload: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        lines = payload["lines"]
        if not lines:
            raise ValueError("no lines")
        head = lines[0]
        po_number = _required(head, "po_number")
        location = _required(head, "ship_to_location")  # a stock PO; drop-ship has no address
        po_lines = []
        for n, line in enumerate(lines, start=1):
            quantity = Decimal(str(line["quantity"]))
            if quantity <= 0:
                raise ValueError(f"line {line.get('line_sequence')}: quantity {quantity} <= 0")
            ids: list[tuple[str, str]] = [("SK", _required(line, "sku"))]
            if line.get("supplier_part"):
                ids.append(("VP", str(line["supplier_part"])))
            delivery = line.get("delivery_date")
            po_lines.append(
                PurchaseOrderLine(
                    line_number=str(line.get("line_sequence") or n),
                    quantity=_plain(quantity),
                    unit="EA",
                    unit_price=Decimal(str(line["unit_cost"])),
                    item_ids=tuple(ids),
                    requested_delivery=dt.date.fromisoformat(str(delivery)[:10])
                    if delivery
                    else None,
                )
            )
        po_date = head.get("purchase_date")
        order = PurchaseOrder(
            po_number=po_number,
            po_date=dt.date.fromisoformat(str(po_date)[:10]) if po_date else dt.date.today(),
            lines=tuple(po_lines),
            currency=head.get("currency") or "",
            parties=(PartySpec("ST", location, id_qualifier="92", id=location),),
        )
        return (
            lambda control: purchase_order_transaction(order, control),
            {"po_number": po_number, "lines": len(po_lines)},
        )


def file_name(code: str, idempotency_key: str) -> str:
    """``<code>_<key, sanitised>_<hash>.edi``: the hash keeps two keys that sanitise
    alike apart."""
    safe = _UNSAFE.sub("_", idempotency_key).strip("._")[:80] or "message"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10]
    return f"{code}_{safe}_{digest}.edi"


def _plain(value: Decimal) -> Decimal:
    """``10.0`` → ``10`` (Tryton quantities are floats); other values unchanged."""
    return Decimal(int(value)) if value == value.to_integral_value() else value


def _required(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None or str(value).strip() == "":
        raise ValueError(f"{key} is missing")
    return str(value)
