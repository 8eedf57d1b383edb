"""Reading one ISA segment and the delimiters it declares — robustly, since real
ISAs are not the fixed 106 characters the standard describes.

* The element separator is the character right after ``ISA``.
* The ISA is read element by element, not by byte offset: ISA06/ISA08 may be
  unpadded (``edinet/x12.810a.edi``) or padded with multi-byte U+00A0
  (``edinet/x12.850.edi``); line breaks inside ISA01–ISA15 are dropped (the ISA
  broken across lines in ``edinet/x12.214.edi``, the 80-column wrap of
  ``staedi/ts210_80char.edi``; in a hard-wrapped file also a wrap right before
  ISA16 or the terminator).
* After the 16th element separator come ISA16 (the component separator) and
  the segment terminator. A CR, LF or CRLF terminator means segments end at
  line breaks. Each reading is checked against what follows: GS, TA1 or IEA
  (or, wrongly, ST) must come next.
* ISA16 absent (``edinet/x12.850.issue135.edi``: ``…*T*~`` then a line break):
  when both readings fit, the one in which the GS line would end with the
  would-be component separator loses: that character is the segment
  terminator, the component separator defaults to ``>``, and an
  ``isa16_missing`` warning is recorded.
* The repetition separator is ISA11 when ISA12 ≥ 00402 and ISA11 is a
  punctuation character; it is never applied implicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.connectors.x12.errors import Issue, Location
from dagster_project.connectors.x12.segments import LINE_BREAK, Delimiters, Segment
from dagster_project.connectors.x12.source_text import LINE_BREAKS, RESEND, TRUNCATED, SourceText

#: The component separator assumed when a partner leaves ISA16 out.
DEFAULT_COMPONENT = ">"
_MAX_ISA_LENGTH = 400
_BAD_ENVELOPE = "the ISA is malformed; ask the sender to check their translator's envelope"


@dataclass(slots=True)
class IsaRead:
    """An ISA as read: the segment, its delimiters, where the next segment may start
    and the warnings found."""

    segment: Segment
    delimiters: Delimiters
    end: int
    issues: list[Issue]


def read_isa(src: SourceText, start: int, position: int) -> IsaRead:
    """The ISA starting at ``start`` (``src.text[start:start+3] == "ISA"``), the
    ``position``-th segment of the file."""
    text, n = src.text, len(src)
    loc = src.location(segment_position=position, segment_id="ISA", line=src.line_of(start))
    if start + 3 >= n:
        raise src.fail(f"{TRUNCATED} inside the ISA segment", RESEND, loc, "truncated")
    elem = text[start + 3]
    if elem.isalnum() or elem in " \r\n\t":
        raise src.fail(
            f"the character after 'ISA' is {elem!r}; X12 puts the element separator there "
            "and it cannot be a letter, digit or space",
            "this is not a readable X12 interchange; check the file with the sender",
            loc,
            "isa_invalid",
        )
    elements = ["ISA"]
    chars: list[str] = []
    i = start + 4
    while len(elements) < 16:  # ISA01..ISA15, each ended by a separator
        if i >= n:
            raise src.fail(
                f"{TRUNCATED} inside the ISA segment (found {len(elements) - 1} of 16 elements)",
                RESEND,
                loc,
                "truncated",
            )
        if i - start > _MAX_ISA_LENGTH:
            raise src.fail(
                f"no 16 ISA elements separated by {elem!r} within {_MAX_ISA_LENGTH} characters",
                _BAD_ENVELOPE,
                loc,
                "isa_invalid",
            )
        c = text[i]
        if c == elem:
            elements.append("".join(chars))
            chars = []
        elif c not in "\r\n":  # line breaks inside ISA01-ISA15 are wraps
            chars.append(c)
        i += 1
    issues: list[Issue] = []
    component, segment, end = _tail(src, i, elem, loc, issues)
    isa16_missing = any(x.code == "isa16_missing" for x in issues)
    elements.append("" if isa16_missing else component)
    isa11, version = elements[11], elements[12].strip()
    repetition = None
    if (
        version.isdigit()
        and int(version) >= 402
        and len(isa11) == 1
        and not isa11.isalnum()
        and isa11 not in (" ", elem, component, segment)
    ):
        repetition = isa11
    delimiters = Delimiters(elem, component, segment, repetition)
    isa = Segment(tuple(elements), delimiters, position, loc.line or 0)
    control = isa.value(13)
    issues = [
        Issue(
            x.severity, x.code, x.message, x.action, x.location.within(interchange_control=control)
        )
        for x in issues
    ]
    return IsaRead(isa, delimiters, end, issues)


def _tail(
    src: SourceText, i: int, elem: str, loc: Location, issues: list[Issue]
) -> tuple[str, str, int]:
    """(component separator, segment terminator, index after the ISA) from just after the
    16th element separator."""
    text, n = src.text, len(src)
    if src.wrapped:  # a hard wrap may fall right before ISA16
        while i < n and text[i] in "\r\n":
            i += 1
    if i >= n:
        raise src.fail(f"{TRUNCATED} right after the ISA segment", RESEND, loc, "truncated")
    c1 = text[i]
    if c1 in "\r\n":
        issues.append(_isa16_missing(loc, LINE_BREAK))
        return DEFAULT_COMPONENT, LINE_BREAK, i + (2 if text.startswith("\r\n", i) else 1)
    if c1.isalnum() or c1 in " \t" or c1 == elem:
        raise src.fail(
            f"ISA16 (the component separator) is {c1!r}, which cannot be a delimiter",
            _BAD_ENVELOPE,
            loc,
            "isa_invalid",
        )
    # reading B: no ISA16, c1 is the segment terminator
    after_b = i + 1
    b_ok = _envelope_follows(src, after_b, elem)
    # reading A: c1 is ISA16, the next character the segment terminator
    t = i + 1
    if src.wrapped:  # …or between ISA16 and the terminator
        while t < n and text[t] in "\r\n":
            t += 1
    term = text[t] if t < n else ""
    after_a = t + 1
    a_ok = False
    if term and term in "\r\n":
        term = LINE_BREAK
        after_a = t + (2 if text.startswith("\r\n", t) else 1)
        a_ok = _envelope_follows(src, after_a, elem)
    elif term and not term.isalnum() and term not in (" ", "\t", elem, c1):
        a_ok = _envelope_follows(src, after_a, elem)
    if a_ok and b_ok and _next_line_ends_with(src, after_a, c1):
        a_ok = False  # "…*T*~" + line break + "GS*…~": '~' terminates, there is no ISA16
    if a_ok:
        return c1, term, after_a
    if b_ok:
        issues.append(_isa16_missing(loc, c1))
        return DEFAULT_COMPONENT, c1, after_b
    rest = text[src.skip_padding(after_a) :] if term else ""
    if (
        src.skip_padding(i + 1) >= n
        or (term and src.skip_padding(after_a) >= n)
        or (term and any((tag + elem).startswith(rest) for tag in ("GS", "IEA")))
    ):
        raise src.fail(
            f"{TRUNCATED} right after the ISA segment (no GS, no IEA)", RESEND, loc, "truncated"
        )
    raise src.fail(
        "cannot tell where the ISA ends: after the 16th element separator comes "
        f"{text[i : i + 12]!r}, but a component separator, a segment terminator and then GS "
        "(or IEA) were expected",
        "the ISA is malformed or the file is not X12; ask the sender to check it",
        loc,
        "isa_invalid",
    )


def _envelope_follows(src: SourceText, pos: int, elem: str) -> bool:
    j = src.skip_padding(pos)
    return any(src.text.startswith(tag + elem, j) for tag in ("GS", "IEA", "TA1", "ST"))


def _next_line_ends_with(src: SourceText, pos: int, char: str) -> bool:
    j = src.skip_padding(pos)
    m = LINE_BREAKS.search(src.text, j)
    line = src.text[j : m.start() if m else len(src)]
    return line.rstrip(" \t").endswith(char)


def show_terminator(segment_terminator: str) -> str:
    """``'~'`` or ``line break``, for messages."""
    return "line break" if segment_terminator == LINE_BREAK else repr(segment_terminator)


def _isa16_missing(loc: Location, terminator: str) -> Issue:
    return Issue.warning(
        "isa16_missing",
        f"the ISA has no ISA16 (component separator); segments end with "
        f"{show_terminator(terminator)} and the component separator defaults to "
        f"{DEFAULT_COMPONENT!r}",
        "accepted; tell the sender their ISA is one element short",
        loc,
    )
