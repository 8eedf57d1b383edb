"""856 Ship Notice/Manifest (ASN): what a supplier shipped, in which cartons, for which PO.

Header: BSN (purpose, shipment id — the business number —, date, time,
hierarchical structure code) and DTMs before the first HL.

The body is a tree of HL segments (HL01 id, HL02 parent id, HL03 level: ``S``
shipment, ``O`` order, ``T`` tare, ``P`` pack, ``I`` item …). Parents are
followed through HL02, never assumed from the order (crossdock files hang
several O levels under one S; ``856.edi`` has no pack level). A parent id that
is not an earlier HL is an :class:`X12Error`.

Each :class:`HierarchyNode` holds what its level carries: TD1 packaging and
weight, TD5 carrier routing, TD3 equipment, REF, DTM, N1 parties, MEA, PRF
(purchase order), MAN marks (``GM`` = SSCC-18 carton label), PO4 pack, LIN
item IDs, SN1 shipped quantity, PID descriptions.

:attr:`ShipNotice.items` flattens the tree for loading: per item level, its
IDs, quantity and unit, the PO number (its own PRF or the nearest ancestor's),
the SSCC labels (MAN ``GM``) of its own or its nearest marked ancestor, and the ids of its
order and pack levels.
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
from dagster_project.connectors.x12.errors import X12Error
from dagster_project.connectors.x12.segments import Segment
from dagster_project.connectors.x12.values import Day, Num, day, num

CODE = "856"


@dataclass(slots=True)
class Packaging:
    """TD1: packaging code (``CTN25``), lading quantity, weight qualifier, weight, unit."""

    packaging_code: str
    lading_quantity: Num | None
    weight_qualifier: str
    weight: Num | None
    weight_unit: str


@dataclass(slots=True)
class Routing:
    """TD5: routing sequence, carrier id qualifier, carrier id (SCAC), transport method,
    routing text."""

    sequence: str
    id_qualifier: str
    carrier_id: str
    transport_method: str
    routing: str


@dataclass(slots=True)
class Measurement:
    """MEA: reference (``PD``), qualifier (``G`` gross weight …), value, unit."""

    reference: str
    qualifier: str
    value: Num | None
    unit: str


@dataclass(slots=True)
class OrderRef:
    """PRF: purchase order number, release, change sequence, PO date."""

    po_number: str
    release_number: str
    change_sequence: str
    po_date: Day | None


@dataclass(slots=True)
class Mark:
    """MAN: marks qualifier (``GM`` SSCC-18, ``CP`` carrier package id …) and number."""

    qualifier: str
    number: str


@dataclass(slots=True)
class ShippedQuantity:
    """SN1: line id, quantity shipped, unit, shipped to date, quantity ordered, its unit."""

    line_id: str
    quantity: Num | None
    unit: str
    shipped_to_date: Num | None
    ordered: Num | None
    ordered_unit: str


@dataclass(slots=True)
class HierarchyNode:
    id: str
    parent_id: str
    level: str
    child_code: str
    packaging: list[Packaging] = field(default_factory=list)
    routing: list[Routing] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    order: OrderRef | None = None
    marks: list[Mark] = field(default_factory=list)
    line_id: str = ""
    ids: list[ItemId] = field(default_factory=list)
    shipped: ShippedQuantity | None = None
    descriptions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ShippedItem:
    """One item level of the tree, flattened with what its ancestors say."""

    hl_id: str
    line_id: str
    ids: list[ItemId]
    quantity: Num | None
    unit: str
    ordered: Num | None
    po_number: str
    order_hl_id: str
    pack_hl_id: str
    sscc: list[str]
    descriptions: list[str]

    def id(self, *qualifiers: str) -> str | None:
        return find_id(self.ids, *qualifiers)


@dataclass(slots=True)
class ShipNotice:
    purpose: str
    shipment_id: str
    date: Day | None
    time: str
    structure_code: str
    dates: list[DateRef] = field(default_factory=list)
    nodes: list[HierarchyNode] = field(default_factory=list)
    items: list[ShippedItem] = field(default_factory=list)
    line_count: Num | None = None
    hash_total: Num | None = None

    @property
    def business_number(self) -> str:
        return self.shipment_id

    def levels(self, level: str) -> list[HierarchyNode]:
        return [n for n in self.nodes if n.level == level]

    def shipment(self) -> HierarchyNode | None:
        """The (first) shipment level."""
        return next((n for n in self.nodes if n.level == "S"), None)


def parse(transaction: TransactionSet) -> ShipNotice:
    """The ship notice in an 856 transaction set, its HL tree resolved."""
    bsn = require(transaction, "BSN", "shipment identification (BSN)")
    doc = ShipNotice(bsn.value(1), bsn.value(2), day(bsn[3]), bsn.value(4), bsn.value(5))
    by_id: dict[str, HierarchyNode] = {}
    node: HierarchyNode | None = None
    parties = PartyLoop()
    for seg in transaction.body:
        sid = seg.id
        if sid == "HL":
            parties.close()
            node = HierarchyNode(seg.value(1), seg.value(2), seg.value(3), seg.value(4))
            if node.parent_id and node.parent_id not in by_id:
                raise X12Error(
                    f"HL {node.id!r} names parent {node.parent_id!r}, which is not an earlier HL "
                    "of this ship notice",
                    action="the hierarchy is broken; ask the sender to correct and resend the ASN",
                    location=transaction.location.within(
                        segment_position=seg.position, segment_id="HL", line=seg.line
                    ),
                    code="hl_parent",
                )
            if node.id in by_id:
                raise X12Error(
                    f"HL id {node.id!r} is used twice in this ship notice",
                    action="the hierarchy is ambiguous; ask the sender to correct and resend it",
                    location=transaction.location.within(
                        segment_position=seg.position, segment_id="HL", line=seg.line
                    ),
                    code="hl_duplicate",
                )
            by_id[node.id] = node
            doc.nodes.append(node)
        elif sid == "CTT":
            parties.close()
            node = None
            doc.line_count, doc.hash_total = num(seg[1]), num(seg[2])
        elif node is None:
            if sid == "DTM":
                doc.dates.append(date_ref(seg))
        elif parties.take(seg, node.parties):
            continue
        else:
            _take(node, seg)
    doc.items = [_flatten(n, by_id) for n in doc.nodes if n.level == "I"]
    return doc


def _take(node: HierarchyNode, seg: Segment) -> None:
    sid = seg.id
    if sid == "TD1":
        node.packaging.append(
            Packaging(seg.value(1), num(seg[2]), seg.value(6), num(seg[7]), seg.value(8))
        )
    elif sid == "TD5":
        node.routing.append(
            Routing(seg.value(1), seg.value(2), seg.value(3), seg.value(4), seg.value(5))
        )
    elif sid == "TD3":
        node.equipment.append(" ".join(v for v in (seg.value(1), seg.value(2), seg.value(3)) if v))
    elif sid == "REF":
        node.references.append(reference(seg))
    elif sid == "DTM":
        node.dates.append(date_ref(seg))
    elif sid == "MEA":
        node.measurements.append(
            Measurement(seg.value(1), seg.value(2), num(seg[3]), seg.composite(4)[0].strip())
        )
    elif sid == "PRF":
        node.order = OrderRef(seg.value(1), seg.value(2), seg.value(3), day(seg[4]))
    elif sid == "MAN":
        node.marks.append(Mark(seg.value(1), seg.value(2)))
    elif sid == "LIN":
        node.line_id = seg.value(1)
        node.ids.extend(item_ids(seg, 2))
    elif sid == "SN1":
        node.shipped = ShippedQuantity(
            seg.value(1), num(seg[2]), seg.value(3), num(seg[4]), num(seg[5]), seg.value(6)
        )
    elif sid == "PID":
        if seg.value(5):
            node.descriptions.append(seg.value(5))


def _ancestors(node: HierarchyNode, by_id: dict[str, HierarchyNode]) -> list[HierarchyNode]:
    """The node itself, then its parent, grandparent … up to the root."""
    chain = [node]
    while chain[-1].parent_id:
        chain.append(by_id[chain[-1].parent_id])
    return chain


def _flatten(node: HierarchyNode, by_id: dict[str, HierarchyNode]) -> ShippedItem:
    chain = _ancestors(node, by_id)
    order = next((n for n in chain if n.order is not None), None)
    order_level = next((n for n in chain if n.level == "O"), None)
    pack = next((n for n in chain if n.level in ("P", "T")), None)
    sscc: list[str] = []
    for level in chain:
        sscc = [m.number for m in level.marks if m.qualifier == "GM"]
        if sscc:
            break
    shipped = node.shipped
    return ShippedItem(
        hl_id=node.id,
        line_id=node.line_id or (shipped.line_id if shipped else ""),
        ids=node.ids,
        quantity=shipped.quantity if shipped else None,
        unit=shipped.unit if shipped else "",
        ordered=shipped.ordered if shipped else None,
        po_number=order.order.po_number if order and order.order else "",
        order_hl_id=order_level.id if order_level else "",
        pack_hl_id=pack.id if pack else "",
        sscc=sscc,
        descriptions=node.descriptions,
    )
