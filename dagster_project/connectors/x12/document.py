"""The shape every extracted business document shares, and the readers of the
segments several transaction sets use (N1 parties, REF, DTM, item ID pairs).

A :class:`Document` is one transaction set's business content (a set-specific
dataclass in ``content``), its natural :class:`DocumentKey`, the envelope facts
a person needs to trace it, the raw segments (so nothing the partner sent is
lost) and the warnings found while reading it. :meth:`Document.to_payload`
gives a JSON-ready dict: numbers stay :class:`~decimal.Decimal` (serialise
with ``simplejson`` ``use_decimal=True``, as :meth:`Document.to_json` does;
PostgreSQL ``jsonb`` keeps them exact), dates become ISO strings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import simplejson

from dagster_project.connectors.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from dagster_project.connectors.x12.errors import Issue, X12Error
from dagster_project.connectors.x12.segments import Segment
from dagster_project.connectors.x12.values import Day, Num, day, num


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """The natural key of a received document.

    ``business_number`` is the document's own number (846 BIA03, 855 BAK03 PO
    number, 856 BSN02 shipment id, 810 BIG02 invoice number, 945 W0602
    depositor order number or else W0604 shipment id). Together with the
    parties and the three control numbers it identifies one transmission of
    one document; the same business number sent again under new control
    numbers is a new version of it.
    """

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    transaction_set: str
    business_number: str
    interchange_control: str
    group_control: str
    transaction_control: str

    def record_key(self) -> str:
        """One string for key columns and ``ops.quarantine.record_key``."""
        return "|".join(
            (
                f"{self.sender_qualifier}:{self.sender_id}",
                f"{self.receiver_qualifier}:{self.receiver_id}",
                self.transaction_set,
                self.business_number,
                self.interchange_control,
                self.group_control,
                self.transaction_control,
            )
        )


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """Envelope facts kept with each document (dates as sent; usage P/T)."""

    interchange_date: str
    interchange_time: str
    interchange_version: str
    usage: str
    functional_id: str
    group_date: str
    group_time: str
    group_version: str
    implementation_reference: str


@dataclass(slots=True)
class Document:
    """One received transaction set as a business document."""

    key: DocumentKey
    content: Any
    envelope: EnvelopeInfo
    segments: list[list[str]]
    issues: list[Issue] = field(default_factory=list)

    @property
    def transaction_set(self) -> str:
        return self.key.transaction_set

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimals kept exact, dates as ISO strings)."""
        return {
            "transaction_set": self.key.transaction_set,
            "key": dataclasses.asdict(self.key),
            "envelope": dataclasses.asdict(self.envelope),
            "document": jsonable(dataclasses.asdict(self.content)),
            "segments": self.segments,
            "warnings": [str(i) for i in self.issues],
        }

    def to_json(self) -> str:
        """The payload as JSON text with exact decimals."""
        return simplejson.dumps(self.to_payload(), use_decimal=True, sort_keys=True)


def jsonable(value: Any) -> Any:
    """Dates to ISO strings, tuples to lists, recursively; Decimals and the rest unchanged."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | str | int | float | bool) or value is None:
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a JSON payload")


def make_key(
    interchange: Interchange,
    group: FunctionalGroup,
    transaction: TransactionSet,
    business_number: str,
) -> DocumentKey:
    return DocumentKey(
        sender_qualifier=interchange.sender_qualifier,
        sender_id=interchange.sender_id,
        receiver_qualifier=interchange.receiver_qualifier,
        receiver_id=interchange.receiver_id,
        transaction_set=transaction.code,
        business_number=business_number,
        interchange_control=interchange.control_number,
        group_control=group.control_number,
        transaction_control=transaction.control_number,
    )


def envelope_info(
    interchange: Interchange, group: FunctionalGroup, transaction: TransactionSet
) -> EnvelopeInfo:
    return EnvelopeInfo(
        interchange_date=interchange.date,
        interchange_time=interchange.time,
        interchange_version=interchange.version,
        usage=interchange.usage,
        functional_id=group.functional_id,
        group_date=group.date,
        group_time=group.time,
        group_version=group.version,
        implementation_reference=transaction.implementation_reference,
    )


# --------------------------------------------------------------------- shared pieces
@dataclass(frozen=True, slots=True)
class ItemId:
    """A product/service ID with its qualifier (``BP`` buyer part, ``VN`` vendor item,
    ``UP`` UPC, ``SK`` SKU, ``EN`` EAN …)."""

    qualifier: str
    value: str


@dataclass(frozen=True, slots=True)
class Reference:
    """REF (or N9): qualifier, value, free-form description."""

    qualifier: str
    value: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class DateRef:
    """DTM (or G62): a qualified date with its time as sent."""

    qualifier: str
    date: Day | None
    time: str = ""


@dataclass(frozen=True, slots=True)
class Amount:
    """AMT: a qualified monetary amount (``TT`` total transaction amount, ``1`` line item
    total, ``N`` net …); R type, read as sent."""

    qualifier: str
    amount: Num | None


@dataclass(frozen=True, slots=True)
class Communication:
    """One PER communication number with its qualifier (``TE`` phone, ``EM`` e-mail …)."""

    qualifier: str
    value: str


@dataclass(slots=True)
class Contact:
    """PER: contact function, name and communication numbers."""

    function: str
    name: str
    communications: list[Communication] = field(default_factory=list)


@dataclass(slots=True)
class Party:
    """An N1 loop: role (N101 entity code: ``ST`` ship-to, ``SF`` ship-from, ``BY`` buyer …),
    name, identification, N2 extra names, N3 address lines, N4 place, PER contacts, REFs."""

    role: str
    name: str
    id_qualifier: str
    id: str
    extra_names: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    contacts: list[Contact] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


def item_ids(seg: Segment, start: int, stop: int | None = None) -> list[ItemId]:
    """Qualifier/ID pairs from element ``start`` (qualifier) on, up to ``stop`` (inclusive)."""
    last = len(seg) if stop is None else min(stop, len(seg))
    found = []
    for k in range(start, last + 1, 2):
        qualifier, value = seg.value(k), seg.value(k + 1)
        if qualifier or value:
            found.append(ItemId(qualifier, value))
    return found


def find_id(ids: list[ItemId], *qualifiers: str) -> str | None:
    """The first ID with one of ``qualifiers`` (in the order given), else None."""
    for qualifier in qualifiers:
        for item in ids:
            if item.qualifier == qualifier:
                return item.value
    return None


def reference(seg: Segment) -> Reference:
    """REF or N9 (same first three elements)."""
    return Reference(seg.value(1), seg.value(2), seg.value(3))


def date_ref(seg: Segment) -> DateRef:
    """DTM or G62 (qualifier, date, time qualifier/time are read as DTM01-03 / G6201-02,04)."""
    if seg.id == "G62":
        return DateRef(seg.value(1), day(seg[2]), seg.value(4))
    return DateRef(seg.value(1), day(seg[2]), seg.value(3))


def amount(seg: Segment) -> Amount:
    return Amount(seg.value(1), num(seg[2]))


def contact(seg: Segment) -> Contact:
    found = Contact(seg.value(1), seg.value(2))
    for k in range(3, len(seg) + 1, 2):
        if seg.value(k) or seg.value(k + 1):
            found.communications.append(Communication(seg.value(k), seg.value(k + 1)))
    return found


class PartyLoop:
    """Collects N1 loops: :meth:`take` consumes N1 and the N2/N3/N4/PER/REF/G61 that follow it.

    Any other segment closes the open loop (and is not consumed).
    """

    MEMBERS = frozenset({"N2", "N3", "N4", "PER", "REF", "G61"})

    def __init__(self) -> None:
        self.current: Party | None = None

    def take(self, seg: Segment, parties: list[Party]) -> bool:
        if seg.id == "N1":
            self.current = Party(seg.value(1), seg.value(2), seg.value(3), seg.value(4))
            parties.append(self.current)
            return True
        party = self.current
        if party is None or seg.id not in self.MEMBERS:
            self.current = None
            return False
        if seg.id == "N2":
            party.extra_names.extend(v for v in (seg.value(1), seg.value(2)) if v)
        elif seg.id == "N3":
            party.address.extend(v for v in (seg.value(1), seg.value(2)) if v)
        elif seg.id == "N4":
            party.city, party.state = seg.value(1), seg.value(2)
            party.postal_code, party.country = seg.value(3), seg.value(4)
        elif seg.id in ("PER", "G61"):
            party.contacts.append(contact(seg))
        else:
            party.references.append(reference(seg))
        return True

    def close(self) -> None:
        self.current = None


def require(transaction: TransactionSet, segment_id: str, what: str) -> Segment:
    """The first ``segment_id`` of the transaction set, or an X12Error naming what is missing."""
    for seg in transaction.body:
        if seg.id == segment_id:
            return seg
    raise X12Error(
        f"the {transaction.code} has no {segment_id} segment, so it has no {what}",
        action="the document cannot be identified; ask the sender to correct and resend it",
        location=transaction.location.within(
            segment_position=transaction.header.position,
            segment_id="ST",
            line=transaction.header.line,
        ),
        code="missing_segment",
    )
