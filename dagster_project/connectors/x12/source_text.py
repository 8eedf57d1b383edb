"""The text of one received file: decoding, line numbers, padding, wrapping.

Everything here is about the file as characters, before any X12 meaning:
:func:`decode` turns bytes into text, :class:`SourceText` answers "which line
is this offset on", "where does the padding end" and "is this file
hard-wrapped at a fixed width", and builds :class:`X12Error` for it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from dagster_project.connectors.x12.errors import Location, X12Error

#: Characters skipped between segments and after the last IEA: whitespace, CR/LF,
#: NUL and SUB (^Z) record padding, a BOM.
PADDING = " \t\r\n\f\v\x00\x1a\ufeff"
LINE_BREAKS = re.compile(r"\r\n|\r|\n")
#: The action for a file that cannot be used as it is.
RESEND = "ask the sender to resend the file; do not load it as it is"
#: How every truncation message starts.
TRUNCATED = "the file is truncated: it ends"


def decode(data: bytes | str) -> str:
    """The file's text: UTF-8 when it decodes as such, else latin-1 (never fails).

    A leading UTF-8 BOM is dropped first, so a BOM before latin-1 text is not
    misread as three characters; a file cut inside its last multi-byte character
    stays UTF-8 (the cut character becomes U+FFFD) so the truncation is reported
    as such.
    """
    if isinstance(data, str):
        return data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":  # cut inside a multi-byte character
            return data[: error.start].decode("utf-8") + "\ufffd"
        return data.decode("latin-1")


@dataclass(slots=True)
class SourceText:
    """One file's text and its name (``source``, for messages)."""

    text: str
    source: str | None
    wrapped: bool = field(init=False)
    _line_ends: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._line_ends = [m.end() for m in LINE_BREAKS.finditer(self.text)]
        self.wrapped = is_fixed_width_wrapped(self.text)

    def __len__(self) -> int:
        return len(self.text)

    def line_of(self, offset: int) -> int:
        """The 1-based line of character ``offset``."""
        return bisect_right(self._line_ends, offset) + 1

    def skip_padding(self, pos: int) -> int:
        """The first position at or after ``pos`` that is not :data:`PADDING`."""
        text, n = self.text, len(self.text)
        while pos < n and text[pos] in PADDING:
            pos += 1
        return pos

    def location(self, **fields: object) -> Location:
        return Location(self.source, **fields)  # type: ignore[arg-type]

    def fail(self, message: str, action: str, location: Location, code: str) -> X12Error:
        """An error about this file (``location`` should come from :meth:`location`)."""
        return X12Error(message, action=action, location=location, code=code)


def is_fixed_width_wrapped(text: str) -> bool:
    """True when every line but the last has the same length (≥ 40): a hard-wrapped file."""
    lines = LINE_BREAKS.split(text.lstrip("\ufeff"))
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 3:
        return False
    widths = {len(line) for line in lines[:-1]}
    return len(widths) == 1 and min(widths) >= 40
