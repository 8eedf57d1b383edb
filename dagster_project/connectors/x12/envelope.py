"""The envelope tree the reader builds: interchanges hold groups hold transaction sets.

Header fields are exposed as plain, stripped strings (ISA06 is padded to 15
characters on the wire; ``sender_id`` is not). Each level keeps its own
``issues``; ``accepted`` is False when any of them is an error. The whole
segment lists are kept, so nothing a partner sent is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_project.connectors.x12.errors import Issue, Location
from dagster_project.connectors.x12.segments import Delimiters, Segment


@dataclass(slots=True)
class TransactionSet:
    """One ST…SE transaction set. ``segments`` includes the ST and SE segments."""

    code: str
    control_number: str
    segments: list[Segment]
    location: Location
    issues: list[Issue] = field(default_factory=list)

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def trailer(self) -> Segment:
        return self.segments[-1]

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        return self.segments[1:-1]

    @property
    def implementation_reference(self) -> str:
        """ST03 (version 005010 and later), ``""`` when absent."""
        return self.header.value(3)

    @property
    def accepted(self) -> bool:
        return not any(i.is_error for i in self.issues)


@dataclass(slots=True)
class FunctionalGroup:
    """One GS…GE functional group.

    The GS fields are resolved once by the reader; when a partner sends extra
    elements in the GS (``945_inter-americanproducts.txt``), GS04–GS08 are
    taken from the end of the segment and a warning says so.
    """

    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    agency: str
    version: str
    header: Segment
    trailer: Segment
    transactions: list[TransactionSet]
    location: Location
    issues: list[Issue] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """No error on the group itself (its transaction sets are judged separately)."""
        return not any(i.is_error for i in self.issues)

    def accepted_transactions(self) -> list[TransactionSet]:
        """The transaction sets that may be loaded: none when the group itself is in error."""
        if not self.accepted:
            return []
        return [t for t in self.transactions if t.accepted]


@dataclass(slots=True)
class Interchange:
    """One ISA…IEA interchange with the delimiters its ISA declared."""

    isa: Segment
    iea: Segment
    delimiters: Delimiters
    groups: list[FunctionalGroup]
    location: Location
    issues: list[Issue] = field(default_factory=list)
    #: Segments allowed between the envelopes (TA1 interchange acknowledgments).
    extra: list[Segment] = field(default_factory=list)

    @property
    def sender_qualifier(self) -> str:
        return self.isa.value(5)

    @property
    def sender_id(self) -> str:
        return self.isa.value(6)

    @property
    def receiver_qualifier(self) -> str:
        return self.isa.value(7)

    @property
    def receiver_id(self) -> str:
        return self.isa.value(8)

    @property
    def date(self) -> str:
        """ISA09, YYMMDD."""
        return self.isa.value(9)

    @property
    def time(self) -> str:
        """ISA10, HHMM."""
        return self.isa.value(10)

    @property
    def version(self) -> str:
        """ISA12, e.g. ``00401``."""
        return self.isa.value(12)

    @property
    def control_number(self) -> str:
        """ISA13 as sent (normally 9 digits, zero-padded)."""
        return self.isa.value(13)

    @property
    def acknowledgment_requested(self) -> bool:
        """ISA14 = 1: the sender asked for a TA1."""
        return self.isa.value(14) == "1"

    @property
    def usage(self) -> str:
        """ISA15: ``P`` production, ``T`` test."""
        return self.isa.value(15)

    @property
    def accepted(self) -> bool:
        return not any(i.is_error for i in self.issues)

    def all_issues(self) -> list[Issue]:
        """Every issue of the interchange, its groups and their transaction sets."""
        found = list(self.issues)
        for group in self.groups:
            found.extend(group.issues)
            for transaction in group.transactions:
                found.extend(transaction.issues)
        return found
