"""Writing X12: outbound interchanges with the delimiters the partner wants.

:func:`write_interchange` wraps transaction set bodies (segments without
ST/SE, as lists ``[id, element1, element2, …]``) in ST/SE, GS/GE and ISA/IEA:

* the ISA is fixed-width (106 characters with its terminator): ISA02/04 padded
  to 10, ISA06/08 to 15, ISA13 zero-padded to 9 digits;
* ISA11 is the repetition separator for versions 00402 and later (``^`` unless
  another is chosen), ``U`` before; ISA16 the component separator;
* SE01 counts ST to SE inclusive, SE02 = ST02 (at least 4 digits), GE01 counts
  the transaction sets, GE02 = GS06, IEA01 counts the groups, IEA02 = ISA13;
* trailing empty elements (and trailing empty components) are left off;
* an element may be a string or a sequence of strings (a composite, joined
  with the component separator).

A value containing a delimiter, CR or LF cannot be written (X12 has no escape
character) and raises :class:`X12Error` naming the segment, element and
character. Control numbers must be 1–999,999,999. The output is text; encode
it as ASCII/UTF-8 for the wire. What this module writes, :mod:`reader` reads
back to the same segments (the tests hold it to that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dagster_project.connectors.x12.errors import Location, X12Error
from dagster_project.connectors.x12.segments import Delimiters

#: An element to write: plain text, or the components of a composite element.
Element = str | Sequence[str]
#: A segment to write: its ID then its elements.
SegmentSpec = Sequence[Element]

DEFAULT_DELIMITERS = Delimiters(element="*", component=">", segment="~", repetition="^")
_REPETITION_CANDIDATES = "^{|!`@"
_MAX_CONTROL = 999_999_999
_FIX = "choose delimiters that do not occur in the data, or clean the value at its source"


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    """Who sends to whom, and the ISA's fixed facts."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: int
    created_at: datetime | None = None
    usage: str = "P"
    version: str = "00401"
    acknowledgment_requested: bool = False
    authorization_qualifier: str = "00"
    authorization: str = ""
    security_qualifier: str = "00"
    security: str = ""


@dataclass(frozen=True, slots=True)
class GroupHeader:
    """GS facts: functional id (``PO`` 850, ``OW`` 940, ``FA`` 997), application ids,
    control number, version (``004010``)."""

    functional_id: str
    sender: str
    receiver: str
    control_number: int
    version: str = "004010"
    agency: str = "X"


@dataclass(frozen=True, slots=True)
class OutboundTransaction:
    """One transaction set to write: its code, control number (ST02) and body."""

    code: str
    control_number: int
    body: Sequence[SegmentSpec]
    implementation_reference: str = ""


@dataclass(frozen=True, slots=True)
class OutboundGroup:
    header: GroupHeader
    transactions: Sequence[OutboundTransaction]


def write_interchange(
    header: InterchangeHeader,
    groups: Sequence[OutboundGroup],
    *,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    line_break: str = "\n",
) -> str:
    """One interchange as text. ``line_break`` follows every segment terminator ("" for none;
    ignored when the terminator itself is a line break)."""
    version = header.version
    delimiters = _resolve(delimiters, version)
    terminator = delimiters.segment
    if delimiters.segment_is_line_break:
        line_break = ""
    elif line_break not in ("", "\n", "\r\n"):
        raise ValueError("line_break must be '', '\\n' or '\\r\\n'")
    created = header.created_at or datetime.now(UTC)
    out: list[str] = [_isa(header, delimiters, created) + terminator + line_break]

    def emit(segment: SegmentSpec, location: Location) -> None:
        out.append(serialize(segment, delimiters, location) + terminator + line_break)

    isa13 = f"{_control(header.control_number, 'ISA13'):09d}"
    base = Location(interchange_control=isa13)
    for group in groups:
        gs = group.header
        gs06 = str(_control(gs.control_number, "GS06"))
        gloc = base.within(group_control=gs06)
        emit(
            [
                "GS",
                gs.functional_id,
                gs.sender,
                gs.receiver,
                created.strftime("%Y%m%d"),
                created.strftime("%H%M"),
                gs06,
                gs.agency,
                gs.version,
            ],
            gloc,
        )
        for transaction in group.transactions:
            st02 = f"{_control(transaction.control_number, 'ST02'):04d}"
            tloc = gloc.within(transaction_control=st02, transaction_set=transaction.code)
            st: list[Element] = ["ST", transaction.code, st02]
            if transaction.implementation_reference:
                st.append(transaction.implementation_reference)
            emit(st, tloc)
            for segment in transaction.body:
                emit(segment, tloc)
            emit(["SE", str(len(transaction.body) + 2), st02], tloc)
        emit(["GE", str(len(group.transactions)), gs06], gloc)
    emit(["IEA", str(len(groups)), isa13], base)
    return "".join(out)


def serialize(
    segment: SegmentSpec, delimiters: Delimiters, location: Location | None = None
) -> str:
    """One segment as text (no terminator), trailing empty elements removed."""
    seg_id = str(segment[0])
    location = (location or Location()).within(segment_id=seg_id)
    texts: list[str] = [seg_id]
    for index, element in enumerate(segment[1:], start=1):
        if isinstance(element, str):
            texts.append(_checked(element, delimiters, seg_id, index, location))
        else:
            components = [_checked(str(c), delimiters, seg_id, index, location) for c in element]
            while components and components[-1] == "":
                components.pop()
            texts.append(delimiters.component.join(components))
    while len(texts) > 1 and texts[-1] == "":
        texts.pop()
    return delimiters.element.join(texts)


def _checked(value: str, delimiters: Delimiters, seg_id: str, index: int, loc: Location) -> str:
    names = {
        delimiters.element: "element separator",
        delimiters.component: "component separator",
        "\r": "carriage return",
        "\n": "line feed",
    }
    if not delimiters.segment_is_line_break:
        names[delimiters.segment] = "segment terminator"
    if delimiters.repetition:
        names[delimiters.repetition] = "repetition separator"
    for char, name in names.items():
        if char in value:
            raise X12Error(
                f"{seg_id}{index:02d} value {value!r} contains the {name} {char!r}; X12 has no "
                "escape character",
                action=_FIX,
                location=loc,
                code="delimiter_in_value",
            )
    return value


def _resolve(delimiters: Delimiters, version: str) -> Delimiters:
    """Validate the delimiters and give them a repetition separator when the version needs one."""
    chars = [delimiters.element, delimiters.component]
    if not delimiters.segment_is_line_break:
        chars.append(delimiters.segment)
    for char in chars:
        if len(char) != 1 or char.isalnum() or char.isspace():
            raise ValueError(f"delimiter {char!r} must be one character, not a letter/digit/space")
    if len(set(chars)) != len(chars):
        raise ValueError(f"delimiters must differ from each other: {chars}")
    if not (version.isdigit() and len(version) == 5):
        raise ValueError(f"ISA12 version {version!r} must be 5 digits (e.g. 00401)")
    if int(version) < 402:
        return Delimiters(delimiters.element, delimiters.component, delimiters.segment, None)
    repetition = delimiters.repetition
    if repetition is None:
        repetition = next(c for c in _REPETITION_CANDIDATES if c not in chars)
    if len(repetition) != 1 or repetition.isalnum() or repetition.isspace() or repetition in chars:
        raise ValueError(f"repetition separator {repetition!r} must be a distinct punctuation mark")
    return Delimiters(delimiters.element, delimiters.component, delimiters.segment, repetition)


def _control(number: int, name: str) -> int:
    if not 1 <= number <= _MAX_CONTROL:
        raise ValueError(f"{name} control number {number} must be between 1 and {_MAX_CONTROL}")
    return number


def _isa(header: InterchangeHeader, delimiters: Delimiters, created: datetime) -> str:
    fields = [
        ("ISA01", header.authorization_qualifier, 2),
        ("ISA02", header.authorization, 10),
        ("ISA03", header.security_qualifier, 2),
        ("ISA04", header.security, 10),
        ("ISA05", header.sender_qualifier, 2),
        ("ISA06", header.sender_id, 15),
        ("ISA07", header.receiver_qualifier, 2),
        ("ISA08", header.receiver_id, 15),
        ("ISA09", created.strftime("%y%m%d"), 6),
        ("ISA10", created.strftime("%H%M"), 4),
        ("ISA11", delimiters.repetition or "U", 1),
        ("ISA12", header.version, 5),
        ("ISA13", f"{_control(header.control_number, 'ISA13'):09d}", 9),
        ("ISA14", "1" if header.acknowledgment_requested else "0", 1),
        ("ISA15", header.usage, 1),
    ]
    loc = Location(interchange_control=fields[12][1], segment_id="ISA")
    texts = ["ISA"]
    for name, value, width in fields:
        if len(value) > width:
            raise X12Error(
                f"{name} {value!r} is longer than its fixed width of {width}",
                action="shorten the identifier in the trading partner's settings",
                location=loc,
                code="isa_field_too_long",
            )
        padded = value.ljust(width)
        if name != "ISA11":  # ISA11 is the repetition separator itself (or U)
            padded = _checked(padded, delimiters, "ISA", int(name[3:]), loc)
        texts.append(padded)
    texts.append(delimiters.component)
    isa = delimiters.element.join(texts)
    assert len(isa) == 105, isa  # 106 with the terminator
    return isa


# --------------------------------------------------------------------- shared segment builders
@dataclass(frozen=True, slots=True)
class PartySpec:
    """An N1 loop to write: role (``ST`` ship-to, ``BY`` buyer, ``SF`` ship-from, ``WH``
    warehouse, ``DE`` depositor, ``VN`` vendor …), name, id, address."""

    role: str
    name: str
    id_qualifier: str = ""
    id: str = ""
    address: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


def party_segments(party: PartySpec) -> list[list[Element]]:
    """N1, then N3 (two lines per segment) and N4 when there is an address."""
    segments: list[list[Element]] = [["N1", party.role, party.name, party.id_qualifier, party.id]]
    lines = list(party.address)
    for k in range(0, len(lines), 2):
        segments.append(["N3", *lines[k : k + 2]])
    if party.city or party.state or party.postal_code or party.country:
        segments.append(["N4", party.city, party.state, party.postal_code, party.country])
    return segments
