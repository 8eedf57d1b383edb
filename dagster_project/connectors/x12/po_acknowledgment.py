"""855 Purchase Order Acknowledgment: what a supplier commits to on our PO.

Header: BAK (purpose, acknowledgment type ``AC``/``AD``/``AK``/``RJ`` …, our PO
number — the business number —, PO date, release, request reference, contract,
the seller's order number, acknowledgment date), CUR, REF, DTM, N1 parties.
One :class:`AckLine` per PO1 loop: line id (may be empty or non-numeric:
``item-1``), quantity, unit, unit price (R type, read as sent: ``7700`` is
7700, see :mod:`values`), price basis, ID pairs, PID descriptions, the ACK
segments (status ``IA`` accepted, ``IR`` rejected, ``IB`` backordered …, with
quantity, unit and date), SCH schedules, DTM, REF and N1 parties of the line.
CTT gives the line count and hash total, AMT the totals the supplier states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_project.connectors.x12.document import (
    Amount,
    DateRef,
    ItemId,
    Party,
    PartyLoop,
    Reference,
    amount,
    date_ref,
    find_id,
    item_ids,
    reference,
    require,
)
from dagster_project.connectors.x12.envelope import TransactionSet
from dagster_project.connectors.x12.values import Day, Num, day, num

CODE = "855"


@dataclass(slots=True)
class LineAck:
    """ACK: line item status (``IA`` accepted, ``IR`` rejected, ``IB`` backordered,
    ``IC`` changed, ``DR`` date rescheduled …), quantity, unit and a qualified date."""

    status: str
    quantity: Num | None
    unit: str
    date_qualifier: str
    date: Day | None


@dataclass(slots=True)
class Schedule:
    """SCH: a scheduled quantity and its date."""

    quantity: Num | None
    unit: str
    date_qualifier: str
    date: Day | None


@dataclass(slots=True)
class AckLine:
    line_id: str
    quantity: Num | None
    unit: str
    unit_price: Num | None
    price_basis: str
    ids: list[ItemId]
    descriptions: list[str] = field(default_factory=list)
    acks: list[LineAck] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)

    def id(self, *qualifiers: str) -> str | None:
        return find_id(self.ids, *qualifiers)


@dataclass(slots=True)
class PurchaseOrderAck:
    purpose: str
    ack_type: str
    po_number: str
    po_date: Day | None
    release_number: str
    request_reference: str
    contract_number: str
    seller_order_number: str
    ack_date: Day | None
    currency: str = ""
    references: list[Reference] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    lines: list[AckLine] = field(default_factory=list)
    line_count: Num | None = None
    hash_total: Num | None = None
    amounts: list[Amount] = field(default_factory=list)

    @property
    def business_number(self) -> str:
        return self.po_number


def parse(transaction: TransactionSet) -> PurchaseOrderAck:
    """The acknowledgment in an 855 transaction set."""
    bak = require(transaction, "BAK", "purchase order number (BAK)")
    doc = PurchaseOrderAck(
        purpose=bak.value(1),
        ack_type=bak.value(2),
        po_number=bak.value(3),
        po_date=day(bak[4]),
        release_number=bak.value(5),
        request_reference=bak.value(6),
        contract_number=bak.value(7),
        seller_order_number=bak.value(8),
        ack_date=day(bak[9]),
    )
    parties = PartyLoop()
    line: AckLine | None = None
    for seg in transaction.body:
        sid = seg.id
        if sid == "PO1":
            parties.close()
            line = AckLine(
                seg.value(1), num(seg[2]), seg.value(3), num(seg[4]), seg.value(5), item_ids(seg, 6)
            )
            doc.lines.append(line)
        elif sid == "CTT":
            parties.close()
            line = None
            doc.line_count, doc.hash_total = num(seg[1]), num(seg[2])
        elif parties.take(seg, doc.parties if line is None else line.parties):
            continue
        elif line is None:
            if sid == "CUR":
                doc.currency = seg.value(2)
            elif sid == "REF":
                doc.references.append(reference(seg))
            elif sid == "DTM":
                doc.dates.append(date_ref(seg))
            elif sid == "AMT":
                doc.amounts.append(amount(seg))
        elif sid == "ACK":
            line.acks.append(
                LineAck(seg.value(1), num(seg[2]), seg.value(3), seg.value(4), day(seg[5]))
            )
        elif sid == "SCH":
            line.schedules.append(Schedule(num(seg[1]), seg.value(2), seg.value(5), day(seg[6])))
        elif sid == "PID":
            if seg.value(5):
                line.descriptions.append(seg.value(5))
        elif sid == "DTM":
            line.dates.append(date_ref(seg))
        elif sid == "REF":
            line.references.append(reference(seg))
    return doc
