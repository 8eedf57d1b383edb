"""846 Inventory Inquiry/Advice: what a supplier says it has (drop-ship availability).

Header: BIA (purpose, report type, reference number — the business number —,
date, time), CUR, DTM, REF and N1 parties. One :class:`InventoryItem` per LIN
loop: its ID pairs by qualifier (LIN01 may be empty), PID descriptions, CTP
prices, REFs, and each QTY with its qualifier (``17`` on hand, ``33``
available, ``QH`` on hold …), quantity and unit. The unit is QTY03 (first
component) or, in older 846s, the UIT segment that follows the QTY
(``846_Example1.txt``). DTM segments after a QTY belong to that quantity;
before any QTY, to the item.
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
    item_ids,
    reference,
    require,
)
from dagster_project.connectors.x12.envelope import TransactionSet
from dagster_project.connectors.x12.values import Day, Num, day, num

CODE = "846"


@dataclass(slots=True)
class Quantity:
    qualifier: str
    quantity: Num | None
    unit: str
    dates: list[DateRef] = field(default_factory=list)


@dataclass(slots=True)
class Price:
    """CTP: class of trade, price qualifier (``ACT``, ``UCP`` …), unit price."""

    class_of_trade: str
    qualifier: str
    unit_price: Num | None


@dataclass(slots=True)
class InventoryItem:
    line_id: str
    ids: list[ItemId]
    descriptions: list[str] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)

    def id(self, *qualifiers: str) -> str | None:
        return find_id(self.ids, *qualifiers)

    def quantity(self, qualifier: str) -> Quantity | None:
        return next((q for q in self.quantities if q.qualifier == qualifier), None)


@dataclass(slots=True)
class InventoryAdvice:
    purpose: str
    report_type: str
    reference_number: str
    date: Day | None
    time: str
    currency: str
    dates: list[DateRef] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    items: list[InventoryItem] = field(default_factory=list)

    @property
    def business_number(self) -> str:
        return self.reference_number


def parse(transaction: TransactionSet) -> InventoryAdvice:
    """The inventory advice in an 846 transaction set."""
    bia = require(transaction, "BIA", "reference number (BIA)")
    doc = InventoryAdvice(bia.value(1), bia.value(2), bia.value(3), day(bia[4]), bia.value(5), "")
    parties = PartyLoop()
    item: InventoryItem | None = None
    qty: Quantity | None = None
    for seg in transaction.body:
        sid = seg.id
        if sid == "LIN":
            parties.close()
            item = InventoryItem(seg.value(1), item_ids(seg, 2))
            doc.items.append(item)
            qty = None
        elif item is None:
            if sid == "BIA":
                continue
            if parties.take(seg, doc.parties):
                continue
            if sid == "CUR":
                doc.currency = seg.value(2)
            elif sid == "DTM":
                doc.dates.append(date_ref(seg))
            elif sid == "REF":
                doc.references.append(reference(seg))
        elif sid == "QTY":
            qty = Quantity(seg.value(1), num(seg[2]), seg.composite(3)[0].strip())
            item.quantities.append(qty)
        elif sid == "UIT" and qty is not None and not qty.unit:
            qty.unit = seg.composite(1)[0].strip()
        elif sid == "DTM":
            (qty.dates if qty is not None else item.dates).append(date_ref(seg))
        elif sid == "PID":
            if seg.value(5):
                item.descriptions.append(seg.value(5))
        elif sid == "CTP":
            item.prices.append(Price(seg.value(1), seg.value(2), num(seg[3])))
        elif sid == "REF":
            item.references.append(reference(seg))
    return doc
