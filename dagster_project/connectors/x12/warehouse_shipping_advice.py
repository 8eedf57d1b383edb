"""945 Warehouse Shipping Advice: what the 3PL shipped against our 940.

Header: W06 (reporting code, depositor order number — our 940's W0502 —,
shipment date, shipment id, agent shipment id, PO number, master bill of
lading), N1 parties, N9 references, G62 dates, W27 carrier.

Lines: W12 detail (status ``CC`` complete / ``CL`` cancelled-line … , quantity
ordered, quantity shipped, difference, unit, UPC case code, product ID pairs
W1207/W1208 and W1216/W1217, warehouse lot, weight, weight qualifier and
unit). An LX starts a loop; N9 and G69 in it attach to its lines (an N9 that
comes before the W12, as in ``945_inter-americanproducts.txt``, included).

Totals: W03 units shipped, weight and unit, volume and unit, lading quantity.

The business number is W0602, or W0604 (shipment id) when a 3PL leaves the
depositor order number empty (the real sample does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_project.connectors.x12.document import (
    DateRef,
    ItemId,
    Party,
    PartyLoop,
    Reference,
    date_ref,
    find_id,
    reference,
    require,
)
from dagster_project.connectors.x12.envelope import TransactionSet
from dagster_project.connectors.x12.values import Day, Num, day, num

CODE = "945"


@dataclass(slots=True)
class Carrier:
    """W27: transport method, SCAC, routing, shipment method of payment."""

    transport_method: str
    scac: str
    routing: str
    payment_method: str


@dataclass(slots=True)
class ShippedLine:
    lx: str
    status: str
    quantity_ordered: Num | None
    quantity_shipped: Num | None
    quantity_difference: Num | None
    unit: str
    upc: str
    ids: list[ItemId]
    lot: str
    weight: Num | None
    weight_qualifier: str
    weight_unit: str
    references: list[Reference] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)

    def id(self, *qualifiers: str) -> str | None:
        return find_id(self.ids, *qualifiers)


@dataclass(slots=True)
class ShipmentTotals:
    units_shipped: Num | None
    weight: Num | None
    weight_unit: str
    volume: Num | None
    volume_unit: str
    lading_quantity: Num | None


@dataclass(slots=True)
class WarehouseShippingAdvice:
    reporting_code: str
    depositor_order_number: str
    date: Day | None
    shipment_id: str
    agent_shipment_id: str
    po_number: str
    master_bill_of_lading: str
    parties: list[Party] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    carriers: list[Carrier] = field(default_factory=list)
    lines: list[ShippedLine] = field(default_factory=list)
    totals: ShipmentTotals | None = None

    @property
    def business_number(self) -> str:
        return self.depositor_order_number or self.shipment_id


def parse(transaction: TransactionSet) -> WarehouseShippingAdvice:
    """The shipping advice in a 945 transaction set."""
    w06 = require(transaction, "W06", "depositor order or shipment number (W06)")
    doc = WarehouseShippingAdvice(
        w06.value(1),
        w06.value(2),
        day(w06[3]),
        w06.value(4),
        w06.value(5),
        w06.value(6),
        w06.value(7),
    )
    parties = PartyLoop()
    lx: str | None = None
    loop_refs: list[Reference] = []
    loop_descriptions: list[str] = []
    loop_lines: list[ShippedLine] = []

    def close_loop() -> None:
        for shipped in loop_lines:
            shipped.references[:0] = [r for r in loop_refs if r not in shipped.references]
            shipped.descriptions[:0] = [
                d for d in loop_descriptions if d not in shipped.descriptions
            ]

    for seg in transaction.body:
        sid = seg.id
        if sid == "LX":
            close_loop()
            parties.close()
            lx, loop_refs, loop_descriptions, loop_lines = seg.value(1), [], [], []
        elif sid == "W12":
            parties.close()
            line = ShippedLine(
                lx=lx or "",
                status=seg.value(1),
                quantity_ordered=num(seg[2]),
                quantity_shipped=num(seg[3]),
                quantity_difference=num(seg[4]),
                unit=seg.value(5),
                upc=seg.value(6),
                ids=[
                    i
                    for i in (
                        ItemId(seg.value(7), seg.value(8)),
                        ItemId(seg.value(16), seg.value(17)),
                    )
                    if i.qualifier or i.value
                ],
                lot=seg.value(9),
                weight=num(seg[10]),
                weight_qualifier=seg.value(11),
                weight_unit=seg.value(12),
            )
            doc.lines.append(line)
            loop_lines.append(line)
        elif sid == "W03":
            close_loop()
            lx = None
            doc.totals = ShipmentTotals(
                num(seg[1]), num(seg[2]), seg.value(3), num(seg[4]), seg.value(5), num(seg[6])
            )
        elif lx is not None and sid == "N9":
            loop_refs.append(reference(seg))
        elif lx is not None and sid == "G69":
            loop_descriptions.append(seg.value(1))
        elif lx is None and parties.take(seg, doc.parties):
            continue
        elif lx is None and sid == "N9":
            doc.references.append(reference(seg))
        elif lx is None and sid == "G62":
            doc.dates.append(date_ref(seg))
        elif lx is None and sid == "W27":
            doc.carriers.append(Carrier(seg.value(1), seg.value(2), seg.value(3), seg.value(4)))
    close_loop()
    return doc
