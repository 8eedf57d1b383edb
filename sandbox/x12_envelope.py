"""ANSI X12 interchanges: writing envelopes in a partner's dialect, and
splitting received files back into segments.

Written independently of the product's X12 codec, so a bug in the product's reader
cannot cancel out in tests (docs/architecture.md, Principles).

Writing: `build_interchange` wraps transaction sets (segment lists without
ST/SE) in ST/SE, GS/GE and ISA/IEA with correct counts and control numbers:
SE01 counts the segments from ST to SE inclusive; GE01 the transaction sets
in the group; IEA01 the groups in the interchange; SE02 = ST02, GE02 = GS06,
IEA02 = ISA13. The ISA is fixed width (106 characters with its terminator).
Delimiters, the line break after each terminator and the ISA/GS versions
come from the sender's `EdiProfile`.

Reading: `split_segments` takes the delimiters from the ISA (element
separator = 4th character, component separator = ISA16, segment terminator
= the character after it), tolerates a BOM and CR/LF/whitespace between
segments, and yields lists of elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.world import EdiProfile

FUNCTIONAL_IDS = {
    "846": "IB",
    "850": "PO",
    "855": "PR",
    "856": "SH",
    "810": "IN",
    "940": "OW",
    "945": "SW",
    "997": "FA",
}


@dataclass(slots=True)
class TransactionSet:
    """One transaction set: its code ("856") and body segments (no ST/SE)."""

    code: str
    segments: list[list[str]]


class X12FormatError(ValueError):
    pass


def _clean(value: object, profile: EdiProfile) -> str:
    text = "" if value is None else str(value)
    for ch in (
        profile.element_separator,
        profile.segment_terminator,
        profile.component_separator,
        "\r",
        "\n",
    ):
        text = text.replace(ch, " ")
    if profile.repetition_separator not in ("U", ""):
        text = text.replace(profile.repetition_separator, " ")
    return text


def build_interchange(
    sender: EdiProfile,
    receiver: EdiProfile,
    groups: list[list[TransactionSet]],
    *,
    interchange_control: int,
    first_group_control: int,
    first_set_control: int,
    at: datetime,
    test: bool = False,
) -> str:
    """Render one interchange holding ``groups`` (each a list of sets of one
    functional group) in the sender's dialect."""
    e = sender.element_separator
    term = sender.segment_terminator + sender.segment_suffix

    def seg(elements: list[object]) -> str:
        # trailing empty elements are dropped, as partners do
        vals = [_clean(v, sender) for v in elements]
        while len(vals) > 1 and vals[-1] == "":
            vals.pop()
        return e.join(vals) + term

    isa = (
        e.join(
            [
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                sender.isa_qualifier,
                sender.isa_id.ljust(15)[:15],
                receiver.isa_qualifier,
                receiver.isa_id.ljust(15)[:15],
                at.strftime("%y%m%d"),
                at.strftime("%H%M"),
                sender.repetition_separator,
                sender.isa_version,
                f"{interchange_control:09d}",
                "0",
                "T" if test else "P",
                sender.component_separator,
            ]
        )
        + term
    )
    out = [isa]
    group_control = first_group_control
    set_control = first_set_control
    for sets in groups:
        if not sets:
            continue
        codes = {s.code for s in sets}
        if len(codes) != 1:
            raise X12FormatError(
                f"a functional group holds one kind of transaction set, got {sorted(codes)}"
            )
        fid = FUNCTIONAL_IDS[sets[0].code]
        out.append(
            seg(
                [
                    "GS",
                    fid,
                    sender.gs_id,
                    receiver.gs_id,
                    at.strftime("%Y%m%d"),
                    at.strftime("%H%M"),
                    group_control,
                    "X",
                    sender.gs_version,
                ]
            )
        )
        for ts in sets:
            st02 = f"{set_control:04d}"
            out.append(seg(["ST", ts.code, st02]))
            for s in ts.segments:
                out.append(seg(s))
            out.append(seg(["SE", len(ts.segments) + 2, st02]))
            set_control += 1
        out.append(seg(["GE", len(sets), group_control]))
        group_control += 1
    n_groups = sum(1 for g in groups if g)
    out.append(seg(["IEA", n_groups, f"{interchange_control:09d}"]))
    return "".join(out)


@dataclass(slots=True)
class Delimiters:
    element: str
    component: str
    segment: str


def detect_delimiters(text: str) -> tuple[Delimiters, int]:
    """Delimiters of the interchange starting at the first "ISA" and that offset."""
    start = text.find("ISA")
    if start < 0:
        raise X12FormatError("no ISA segment found: not an X12 interchange")
    element = text[start + 3]
    pos = start
    for _ in range(16):
        pos = text.find(element, pos + 1)
        if pos < 0:
            raise X12FormatError(
                "ISA segment has fewer than 16 elements: file is truncated or not X12"
            )
    if pos + 2 >= len(text):
        raise X12FormatError("ISA segment is cut short")
    return Delimiters(element, text[pos + 1], text[pos + 2]), start


def split_segments(text: str) -> list[list[str]]:
    """All segments of the file (any number of interchanges) as element lists."""
    text = text.lstrip("\ufeff")
    delims, start = detect_delimiters(text)
    segments: list[list[str]] = []
    for raw in text[start:].split(delims.segment):
        raw = raw.strip(" \r\n\t")
        if raw:
            segments.append(raw.split(delims.element))
    return segments


@dataclass(slots=True)
class ParsedSet:
    code: str
    control: str
    segments: list[list[str]]  # body, without ST/SE


def transaction_sets(text: str) -> list[ParsedSet]:
    """The transaction sets in a file, checking SE counts and control numbers.

    Raises `X12FormatError` naming the first problem (missing trailer, wrong
    count, mismatched control number)."""
    segs = split_segments(text)
    out: list[ParsedSet] = []
    current: ParsedSet | None = None
    isa_ctrl = gs_ctrl = None
    n_sets = n_groups = 0
    for s in segs:
        tag = s[0]
        if tag == "ISA":
            isa_ctrl, n_groups = s[13] if len(s) > 13 else None, 0
        elif tag == "GS":
            gs_ctrl, n_sets = s[6] if len(s) > 6 else None, 0
            n_groups += 1
        elif tag == "ST":
            current = ParsedSet(s[1], s[2] if len(s) > 2 else "", [])
        elif tag == "SE":
            if current is None:
                raise X12FormatError("SE without ST")
            if int(s[1]) != len(current.segments) + 2:
                raise X12FormatError(
                    f"SE01 {s[1]} != {len(current.segments) + 2} segments in set {current.control}"
                )
            if s[2] != current.control:
                raise X12FormatError(f"SE02 {s[2]} != ST02 {current.control}")
            out.append(current)
            current = None
            n_sets += 1
        elif tag == "GE":
            if int(s[1]) != n_sets or s[2] != gs_ctrl:
                raise X12FormatError(
                    f"GE {s[1:]} does not match group {gs_ctrl} with {n_sets} sets"
                )
        elif tag == "IEA":
            if int(s[1]) != n_groups or int(s[2]) != int(isa_ctrl or -1):
                raise X12FormatError(
                    f"IEA {s[1:]} does not match interchange {isa_ctrl} with {n_groups} groups"
                )
            isa_ctrl = None
        elif current is not None:
            current.segments.append(s)
    if current is not None or isa_ctrl is not None:
        raise X12FormatError("file ends inside a transaction set or interchange: truncated")
    return out
