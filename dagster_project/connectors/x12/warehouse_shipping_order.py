"""940 Warehouse Shipping Order, outbound: the hub asks the 3PL to ship an order.

:func:`shipping_order_body` turns a :class:`ShippingOrder` into the 940's
segments (without ST/SE): W05 (status ``N`` new, depositor order number — the
number the 3PL's 945 quotes back in W0602 —, PO number), the N1 loops (ship-to
first, then ship-from/warehouse/depositor and any others), N9 references, G62
dates (``10`` requested ship, ``02`` deliver by), W66 carrier instructions
(payment method, transport method, routing, SCAC in W6610), then per line an
LX, W01 (quantity, unit, UPC, two product ID pairs), G69 description and N9
references, and W76 totals (quantity, optional weight and unit).
:func:`shipping_order_transaction` wraps it (functional id ``OW``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dagster_project.connectors.x12.values import format_decimal
from dagster_project.connectors.x12.writer import (
    Element,
    OutboundTransaction,
    PartySpec,
    party_segments,
)

CODE = "940"
FUNCTIONAL_ID = "OW"


@dataclass(frozen=True, slots=True)
class CarrierInstructions:
    """W66: payment (``PP`` prepaid, ``CC`` collect, ``TP`` third party), transport method
    (``M`` motor, ``U`` parcel …), routing text, SCAC."""

    payment_method: str = "PP"
    transport_method: str = ""
    routing: str = ""
    scac: str = ""


@dataclass(frozen=True, slots=True)
class ShippingOrderLine:
    """One LX/W01 loop. ``item_ids`` are at most two (qualifier, id) pairs (W0104–W0107),
    e.g. (``VN``, vendor item), (``SK``, our SKU)."""

    line_number: int
    quantity: Decimal
    unit: str
    item_ids: tuple[tuple[str, str], ...]
    upc: str = ""
    description: str = ""
    references: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ShippingOrder:
    depositor_order_number: str
    ship_to: PartySpec
    lines: tuple[ShippingOrderLine, ...]
    status: str = "N"
    po_number: str = ""
    parties: tuple[PartySpec, ...] = ()
    references: tuple[tuple[str, str], ...] = ()
    dates: tuple[tuple[str, date], ...] = ()
    carrier: CarrierInstructions | None = None
    total_weight: Decimal | None = None
    weight_unit: str = "LB"


def shipping_order_body(order: ShippingOrder) -> list[list[Element]]:
    """The 940 segments between ST and SE."""
    for line in order.lines:
        if len(line.item_ids) > 2:
            raise ValueError(
                f"940 line {line.line_number} has {len(line.item_ids)} item ids; W01 holds two"
            )
    body: list[list[Element]] = [
        ["W05", order.status, order.depositor_order_number, order.po_number]
    ]
    for party in (order.ship_to, *order.parties):
        body.extend(party_segments(party))
    body.extend(["N9", qualifier, value] for qualifier, value in order.references)
    body.extend(["G62", qualifier, when.strftime("%Y%m%d")] for qualifier, when in order.dates)
    if order.carrier is not None:
        c = order.carrier
        body.append(
            ["W66", c.payment_method, c.transport_method, "", "", c.routing, "", "", "", "", c.scac]
        )
    for line in order.lines:
        body.append(["LX", str(line.line_number)])
        w01: list[Element] = ["W01", format_decimal(line.quantity), line.unit, line.upc]
        for qualifier, value in line.item_ids:
            w01.extend([qualifier, value])
        body.append(w01)
        if line.description:
            body.append(["G69", line.description])
        body.extend(["N9", qualifier, value] for qualifier, value in line.references)
    total = sum((line.quantity for line in order.lines), Decimal(0))
    w76: list[Element] = ["W76", format_decimal(total)]
    if order.total_weight is not None:
        w76 += [format_decimal(order.total_weight), order.weight_unit]
    body.append(w76)
    return body


def shipping_order_transaction(order: ShippingOrder, control_number: int) -> OutboundTransaction:
    return OutboundTransaction(CODE, control_number, shipping_order_body(order))
