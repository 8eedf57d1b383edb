"""Reading X12: bytes in, interchanges → functional groups → transaction sets out.

Contract
--------
:func:`read_interchanges` takes the bytes (or text) of one file and returns
every interchange in it, in order. Each interchange's delimiters come from its
own ISA (:mod:`.isa` says how they are found in ISAs that are not
fixed-width); nothing is assumed. It raises :class:`X12Error` when the file
cannot be used, with the file name, control numbers, segment and line, and
what to do.

Layout tolerated between and inside segments
--------------------------------------------
* A UTF-8 BOM, whitespace, CR/LF, indentation, NUL and SUB (^Z) padding
  between segments and after the last IEA (``edinet/210…`` pads with spaces).
* Bytes are decoded as UTF-8 (so the 3-byte U+2026 terminator is one
  character), else latin-1 (:func:`.source_text.decode`).
* Segments ending at line breaks (CR, LF or CRLF) when the ISA says so.
* With a character terminator, a line break inside a segment is a wrap and is
  removed — unless the file is not fixed-width wrapped and the next line starts
  with a segment ID and the element separator: then the sender dropped a
  terminator (``DTM*038*20190309`` + line break in ``x12.850.issue135.edi``);
  the segment is split there and a ``missing_terminator`` warning recorded.
* ``~~`` (an empty segment) is skipped with an ``empty_segment`` warning.
* The final IEA may lack its terminator — unless its IEA02 then shows the file
  was cut inside the IEA (see :func:`.envelope_checks.cut_iea`).

What is fatal, an error, or a warning
-------------------------------------
Always fatal (:class:`X12Error`, even with ``strict=False``), because the
structure cannot be trusted: no ISA where one must start; an ISA with fewer
than 16 elements or no recognisable terminator; a segment that does not start
with a segment ID (wrong delimiters or corrupted data); a transaction set
without SE, a group without GE, an interchange without IEA (truncated — the
message names what is missing and where the file stopped); ST outside a
group; other segments between envelopes (TA1 excepted); text after the last
IEA that is not another ISA.

Errors and warnings on trailers are listed in :mod:`.envelope_checks`.
``strict=True`` raises the first error; ``strict=False`` returns the tree with
``accepted == False`` on the units in error, so a 997 can reject them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from dagster_project.connectors.x12.envelope import FunctionalGroup, Interchange
from dagster_project.connectors.x12.envelope_checks import (
    OpenGroup,
    OpenTransaction,
    at,
    check_interchange,
    cut_iea,
)
from dagster_project.connectors.x12.errors import Issue, Location, X12Error
from dagster_project.connectors.x12.isa import read_isa, show_terminator
from dagster_project.connectors.x12.segments import Delimiters, Segment
from dagster_project.connectors.x12.source_text import (
    LINE_BREAKS,
    PADDING,
    RESEND,
    TRUNCATED,
    SourceText,
    decode,
)

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_ENVELOPE_IDS = frozenset({"ST", "GE", "GS", "IEA", "ISA"})


def read_file(path: str | Path, *, strict: bool = True) -> list[Interchange]:
    """:func:`read_interchanges` on a file, with its name as the source in every message."""
    path = Path(path)
    return read_interchanges(path.read_bytes(), source=path.name, strict=strict)


def read_interchanges(
    data: bytes | str, *, source: str | None = None, strict: bool = True
) -> list[Interchange]:
    """Every interchange in ``data``, validated (see the module docstring for the rules).

    ``strict=True`` raises :class:`X12Error` on the first error-severity issue
    (its ``issues`` lists all of them); ``strict=False`` returns the tree with
    the issues attached, raising only for structural problems.
    """
    interchanges = _Reader(SourceText(decode(data), source)).read_all()
    if strict:
        issues = [i for ic in interchanges for i in ic.all_issues()]
        if any(i.is_error for i in issues):
            raise X12Error.from_issues(issues)
    return interchanges


class _Reader:
    """One pass over one file."""

    def __init__(self, src: SourceText) -> None:
        self.src = src
        self.position = 0  # segment ordinal in the file
        self.unterminated = False  # the last segment read ran to the end of the file

    def read_all(self) -> list[Interchange]:
        src = self.src
        pos = src.skip_padding(0)
        if pos >= len(src):
            raise src.fail(
                "the file is empty (no ISA segment)",
                "check the drop folder for a partial upload; ask the sender to resend",
                src.location(),
                "empty",
            )
        interchanges: list[Interchange] = []
        while pos < len(src):
            if not src.text.startswith("ISA", pos):
                where = "at the start of the file" if not interchanges else "after the last IEA"
                raise src.fail(
                    f"expected an ISA segment {where} but found {src.text[pos : pos + 30]!r}",
                    "this is not an X12 interchange (or has data after its end); check the "
                    "file type with the sender",
                    src.location(line=src.line_of(pos)),
                    "no_isa",
                )
            interchange, pos = self.read_interchange(pos)
            interchanges.append(interchange)
            pos = src.skip_padding(pos)
        return interchanges

    # ---------------------------------------------------------- segments
    def segments(
        self, pos: int, delimiters: Delimiters, control: str, issues: list[Issue]
    ) -> Iterator[tuple[Segment, int]]:
        """Segments from ``pos``, each with the position after it; the caller stops at IEA."""
        text, n = self.src.text, len(self.src)
        while True:
            start = self.src.skip_padding(pos)
            if start >= n:
                return
            if delimiters.segment_is_line_break:
                m = LINE_BREAKS.search(text, start)
                end, pos = (m.start(), m.end()) if m else (n, n)
                self.unterminated = m is None
                pieces = [(text[start:end], start)]
            else:
                end = text.find(delimiters.segment, start)
                self.unterminated = end == -1
                end, pos = (n, n) if end == -1 else (end, end + 1)
                pieces = self._unwrap(text[start:end], start, delimiters.element, control, issues)
            for k, (raw, offset) in enumerate(pieces):
                if not raw.strip(PADDING):
                    issues.append(
                        Issue.warning(
                            "empty_segment",
                            "an empty segment (two terminators in a row) was skipped",
                            "accepted; no action needed",
                            self._where(control, offset),
                        )
                    )
                    continue
                at_end = self.unterminated and k == len(pieces) - 1
                yield self._segment(raw, offset, delimiters, control, at_end), pos

    def _where(self, control: str, offset: int) -> Location:
        return self.src.location(interchange_control=control, line=self.src.line_of(offset))

    def _unwrap(
        self, raw: str, offset: int, elem: str, control: str, issues: list[Issue]
    ) -> list[tuple[str, int]]:
        """One terminator-delimited piece without its wraps, split where a terminator is
        evidently missing (a line that starts with a segment ID and ``elem``)."""
        if "\n" not in raw and "\r" not in raw:
            return [(raw, offset)]
        if self.src.wrapped:
            return [(raw.replace("\r", "").replace("\n", ""), offset)]
        starts_segment = re.compile(r"[ \t]*[A-Z][A-Z0-9]{1,2}" + re.escape(elem))
        pieces: list[tuple[str, int]] = []
        current: list[str] = []
        current_offset = offset
        last = 0
        for m in LINE_BREAKS.finditer(raw):
            current.append(raw[last : m.start()])
            last = m.end()
            if not starts_segment.match(raw, last):
                continue  # a wrap: join the lines
            piece = "".join(current)
            pieces.append((piece, current_offset))
            issues.append(
                Issue.warning(
                    "missing_terminator",
                    f"segment {piece[:40]!r} has no segment terminator; a line break ends it "
                    "and the next line starts a new segment",
                    "read as two segments; tell the sender their translator dropped a terminator",
                    self._where(control, current_offset),
                )
            )
            current = []
            while last < len(raw) and raw[last] in " \t":
                last += 1
            current_offset = offset + last
        current.append(raw[last:])
        pieces.append(("".join(current), current_offset))
        return pieces

    def _segment(
        self, raw: str, offset: int, delimiters: Delimiters, control: str, at_end: bool
    ) -> Segment:
        self.position += 1
        elements = tuple(raw.split(delimiters.element))
        line = self.src.line_of(offset)
        if not _SEGMENT_ID.match(elements[0]):
            loc = self.src.location(
                interchange_control=control, segment_position=self.position, line=line
            )
            if at_end:
                raise self.src.fail(
                    f"{TRUNCATED} inside segment {self.position} ({raw[:40]!r}, line {line}), "
                    "with no IEA",
                    RESEND,
                    loc,
                    "truncated",
                )
            raise self.src.fail(
                f"segment starts with {elements[0][:20]!r}, which is not a segment ID (two or "
                f"three letters/digits); the segment reads {raw[:60]!r}. The delimiters the ISA "
                f"declares (element {delimiters.element!r}, segment "
                f"{show_terminator(delimiters.segment)}) do not fit this data, or the file is "
                "corrupted",
                RESEND,
                loc,
                "bad_segment",
            )
        return Segment(elements, delimiters, self.position, line)

    # ---------------------------------------------------------- one interchange
    def read_interchange(self, start: int) -> tuple[Interchange, int]:
        src = self.src
        self.position += 1
        isa = read_isa(src, start, self.position)
        control = isa.segment.value(13)
        base = src.location(interchange_control=control)
        issues = list(isa.issues)
        groups: list[FunctionalGroup] = []
        extra: list[Segment] = []
        group: OpenGroup | None = None
        transaction: OpenTransaction | None = None
        last: Segment = isa.segment
        for seg, end in self.segments(isa.end, isa.delimiters, control, issues):
            last, sid = seg, seg.id
            if transaction is not None:
                if sid == "SE":
                    assert group is not None
                    group.transactions.append(transaction.close(seg))
                    transaction = None
                elif sid in _ENVELOPE_IDS:
                    first = transaction.segments[0]
                    raise src.fail(
                        f"transaction set {transaction.code} ST02={transaction.control!r} "
                        f"(begun at segment {first.position}, line {first.line}) has no SE "
                        f"trailer: {sid} follows its segment {len(transaction.segments)}",
                        RESEND,
                        at(transaction.location, seg),
                        "missing_se",
                    )
                else:
                    transaction.segments.append(seg)
            elif sid == "ST":
                if group is None:
                    raise src.fail(
                        "ST outside a functional group (no GS before it)",
                        RESEND,
                        at(base, seg),
                        "st_outside_group",
                    )
                transaction = OpenTransaction.start(seg, group.location)
            elif sid in ("GS", "IEA") and group is not None:
                raise src.fail(
                    f"group GS06={group.control!r} (begun at segment {group.header.position}) "
                    f"has no GE trailer before the {'next GS' if sid == 'GS' else 'IEA'}",
                    RESEND,
                    at(group.location, seg),
                    "missing_ge",
                )
            elif sid == "GS":
                group = OpenGroup.start(seg, base)
            elif sid == "GE":
                if group is None:
                    raise src.fail(
                        "GE without a GS before it", RESEND, at(base, seg), "ge_without_gs"
                    )
                groups.append(group.close(seg))
                group = None
            elif sid == "IEA":
                if self.unterminated and cut_iea(control, seg.value(2), isa.delimiters):
                    raise src.fail(
                        f"the file is truncated inside its IEA segment ({str(seg)!r} has no "
                        f"terminator and IEA02 is not ISA13 {control!r})",
                        "the upload was cut short; " + RESEND,
                        at(base, seg),
                        "truncated",
                    )
                interchange = Interchange(
                    isa.segment, seg, isa.delimiters, groups, base, issues, extra
                )
                check_interchange(interchange)
                return interchange, end
            elif sid == "TA1" and group is None:
                extra.append(seg)
            else:
                where = f"group GS06={group.control!r}" if group else "the interchange"
                raise src.fail(
                    f"segment {sid} appears inside {where} but outside any transaction set "
                    "(only ST, GE, GS, IEA or TA1 may appear there)",
                    RESEND,
                    at(base if group is None else group.location, seg),
                    "stray_segment",
                )
        raise self._truncated(isa.delimiters, control, base, last, group, transaction)

    def _truncated(
        self,
        delimiters: Delimiters,
        control: str,
        base: Location,
        last: Segment,
        group: OpenGroup | None,
        transaction: OpenTransaction | None,
    ) -> X12Error:
        """The error for a file that ends before its IEA, naming everything left open."""
        missing = []
        if transaction is not None:
            missing.append(
                f"transaction set {transaction.code} ST02={transaction.control!r} has no SE"
            )
        if group is not None:
            missing.append(f"group GS06={group.control!r} has no GE")
        missing.append(f"interchange ISA13={control!r} has no IEA")
        hint = ""
        if self.unterminated and not delimiters.segment_is_line_break:
            hint = (
                f"; that last segment has no terminator {delimiters.segment!r}: the file is "
                "cut off, or it ends segments with something other than what its ISA declares"
            )
        return self.src.fail(
            f"{TRUNCATED} after segment {last.position} ({str(last)[:50]!r}, line {last.line}); "
            + "; ".join(missing)
            + hint,
            "the upload was cut short or the sender's translator failed mid-file; " + RESEND,
            at(base if transaction is None else transaction.location, last),
            "truncated",
        )
