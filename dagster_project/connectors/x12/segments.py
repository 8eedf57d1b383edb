"""Delimiters and segments: the two things every X12 reader and writer shares.

A :class:`Segment` is its elements as exact text (``elements[0]`` is the
segment ID) plus where it was read. Element numbering follows the X12 books:
``seg[1]`` is BEG01, ``seg[3]`` is BEG03; an element the sender left off (X12
drops trailing empty elements) reads as ``""``. Composite elements and
repetitions are split only when asked (:meth:`Segment.composite`,
:meth:`Segment.repeats`): real partners put the component or repetition
character in ordinary data (``node_x12/856.edi`` declares ``-`` as the
repetition separator and sends ``REF*BM*999999-001``), so splitting every
element would corrupt values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

#: The pseudo-terminator for files whose segments end at a line break (CR, LF or CRLF).
LINE_BREAK = "\n"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators of one interchange, as read from (or written to) its ISA.

    ``segment`` is a single character, or :data:`LINE_BREAK` when segments end
    at line breaks (then CR, LF and CRLF all terminate a segment).
    ``repetition`` is ISA11 for versions 00402 and later when it is a
    delimiter character, else None (older versions put ``U`` there).
    """

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    @property
    def segment_is_line_break(self) -> bool:
        return self.segment == LINE_BREAK


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: ``elements[0]`` is its ID, the rest its elements as exact text.

    ``position`` is the 1-based ordinal of the segment in the file (ISA = 1);
    ``line`` the 1-based line it starts on (0 for segments built in memory).
    """

    elements: tuple[str, ...]
    delimiters: Delimiters = field(default_factory=Delimiters, compare=False)
    position: int = field(default=0, compare=False)
    line: int = field(default=0, compare=False)

    @property
    def id(self) -> str:
        return self.elements[0]

    def __getitem__(self, index: int) -> str:
        """Element ``index`` (1-based, as in the X12 books; 0 is the ID); ``""`` when absent."""
        if index < 0:
            raise IndexError("X12 element numbers start at 1; negative indexes are not used")
        return self.elements[index] if index < len(self.elements) else ""

    def __len__(self) -> int:
        """The number of data elements present (the ID not counted)."""
        return len(self.elements) - 1

    def __iter__(self) -> Iterator[str]:
        return iter(self.elements)

    def value(self, index: int) -> str:
        """Element ``index`` with surrounding spaces (and NBSP padding) removed."""
        return self[index].strip()

    def composite(self, index: int) -> tuple[str, ...]:
        """Element ``index`` split on the component separator (``("",)`` when absent)."""
        return tuple(self[index].split(self.delimiters.component))

    def repeats(self, index: int) -> tuple[str, ...]:
        """Element ``index`` split on the repetition separator, when the interchange has one."""
        text = self[index]
        if not self.delimiters.repetition:
            return (text,)
        return tuple(text.split(self.delimiters.repetition))

    def data(self) -> list[str]:
        """The elements as a plain list (ID first), for JSON payloads."""
        return list(self.elements)

    def __str__(self) -> str:
        return self.delimiters.element.join(self.elements)
