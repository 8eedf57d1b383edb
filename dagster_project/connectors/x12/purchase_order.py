"""850 Purchase Order, outbound: the hub's PO to a supplier.

:func:`purchase_order_body` turns a :class:`PurchaseOrder` into the 850's
segments (without ST/SE): BEG (purpose, type, PO number, date), CUR, REF,
DTM, N1 loops, one PO1 per line (line number, quantity, unit, unit price,
price basis, item ID pairs) with its PID description and DTM, CTT (line count
and the hash total of quantities) and AMT*TT (the order total, sum of quantity
× price rounded half-up to cents). :func:`purchase_order_transaction` wraps it
for :func:`writer.write_interchange` (functional id ``PO``).

Numbers are Decimals written as R elements (``9.25``, never ``9.250000`` or an
exponent); dates as CCYYMMDD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dagster_project.connectors.x12.values import format_decimal
from dagster_project.connectors.x12.writer import (
    Element,
    OutboundTransaction,
    PartySpec,
    party_segments,
)

CODE = "850"
FUNCTIONAL_ID = "PO"
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    """One PO1: ``item_ids`` are (qualifier, id) pairs, e.g. (``VP``, vendor part),
    (``BP``, our SKU), (``UP``, UPC)."""

    line_number: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    item_ids: tuple[tuple[str, str], ...]
    description: str = ""
    price_basis: str = "PE"
    requested_delivery: date | None = None


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """``order_type``: ``SA`` stand-alone, ``DS`` drop ship; ``purpose``: ``00`` original,
    ``01`` cancellation, ``05`` replace. ``dates`` are DTM (qualifier, date) pairs
    (``002`` delivery requested, ``010`` requested ship)."""

    po_number: str
    po_date: date
    lines: tuple[PurchaseOrderLine, ...]
    purpose: str = "00"
    order_type: str = "SA"
    currency: str = "USD"
    references: tuple[tuple[str, str], ...] = ()
    dates: tuple[tuple[str, date], ...] = ()
    parties: tuple[PartySpec, ...] = ()

    def total(self) -> Decimal:
        """Sum of quantity × unit price, rounded half-up to cents."""
        total = sum((line.quantity * line.unit_price for line in self.lines), Decimal(0))
        return total.quantize(_CENT, rounding=ROUND_HALF_UP)


def purchase_order_body(po: PurchaseOrder) -> list[list[Element]]:
    """The 850 segments between ST and SE."""
    body: list[list[Element]] = [
        ["BEG", po.purpose, po.order_type, po.po_number, "", _ccyymmdd(po.po_date)]
    ]
    if po.currency:
        body.append(["CUR", "BY", po.currency])
    body.extend(["REF", qualifier, value] for qualifier, value in po.references)
    body.extend(["DTM", qualifier, _ccyymmdd(when)] for qualifier, when in po.dates)
    for party in po.parties:
        body.extend(party_segments(party))
    for line in po.lines:
        po1: list[Element] = [
            "PO1",
            line.line_number,
            format_decimal(line.quantity),
            line.unit,
            format_decimal(line.unit_price),
            line.price_basis,
        ]
        for qualifier, value in line.item_ids:
            po1.extend([qualifier, value])
        body.append(po1)
        if line.description:
            body.append(["PID", "F", "", "", "", line.description])
        if line.requested_delivery:
            body.append(["DTM", "002", _ccyymmdd(line.requested_delivery)])
    hash_total = sum((line.quantity for line in po.lines), Decimal(0))
    body.append(["CTT", str(len(po.lines)), format_decimal(hash_total)])
    body.append(["AMT", "TT", format_decimal(po.total())])
    return body


def purchase_order_transaction(po: PurchaseOrder, control_number: int) -> OutboundTransaction:
    return OutboundTransaction(CODE, control_number, purchase_order_body(po))


def _ccyymmdd(when: date) -> str:
    return when.strftime("%Y%m%d")
