"""What went wrong in an X12 file, where, and what to do about it.

Two shapes, one vocabulary:

* :class:`Issue` — one finding (a warning or an error) with its :class:`Location`
  and the action a person should take. The reader attaches issues to the
  interchange, group or transaction set they concern, so a tolerated deviation
  is never silent and a 997 can report it.
* :class:`X12Error` — raised when a file cannot be used: no ISA, a truncated
  interchange, a transaction set without SE, a count that does not add up (in
  strict mode), an outbound value that contains a delimiter. Its message names
  the file, the control numbers, the segment and line, what is wrong and what
  to do, so it can go straight into ``ops.quarantine.reason``.

Issue codes are stable strings (``se_count``, ``ge_control`` …); the 997
writer maps some of them to the X12 syntax error codes (AK5/AK9).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    """``warning``: tolerated and recorded; ``error``: the unit it concerns is rejected."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a file something is: any part may be unknown (None).

    ``segment_position`` counts segments from the start of the file (the first
    ISA is 1); ``line`` is the 1-based line the segment starts on.
    """

    source: str | None = None
    interchange_control: str | None = None
    group_control: str | None = None
    transaction_control: str | None = None
    transaction_set: str | None = None
    segment_position: int | None = None
    segment_id: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """``file a.edi, interchange ISA13=000000001, …, segment 12 (SE) on line 14``."""
        parts: list[str] = []
        if self.source:
            parts.append(f"file {self.source}")
        if self.interchange_control is not None:
            parts.append(f"interchange ISA13={self.interchange_control!r}")
        if self.group_control is not None:
            parts.append(f"group GS06={self.group_control!r}")
        if self.transaction_control is not None:
            kind = f"{self.transaction_set} " if self.transaction_set else ""
            parts.append(f"transaction set {kind}ST02={self.transaction_control!r}")
        if self.segment_position is not None:
            seg = f"segment {self.segment_position}"
            if self.segment_id:
                seg += f" ({self.segment_id})"
            if self.line is not None:
                seg += f" on line {self.line}"
            parts.append(seg)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts) if parts else "X12 input"

    def within(self, **changes: object) -> Location:
        """A copy with some fields replaced (e.g. the transaction's control number)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a file: severity, a stable code, where, what, what to do."""

    severity: Severity
    code: str
    message: str
    action: str
    location: Location

    def __str__(self) -> str:
        return f"{self.severity}: {self.location.describe()}: {self.message}. {self.action}"

    @classmethod
    def error(cls, code: str, message: str, action: str, location: Location) -> Issue:
        return cls(Severity.ERROR, code, message, action, location)

    @classmethod
    def warning(cls, code: str, message: str, action: str, location: Location) -> Issue:
        return cls(Severity.WARNING, code, message, action, location)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class X12Error(ValueError):
    """An X12 file (or an outbound document) that cannot be used as it is.

    Attributes carry the pieces separately (``code``, ``location`` and its
    control numbers, ``action``) and ``issues`` holds every finding when the
    error sums up several. ``str(error)`` is one readable paragraph.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        location: Location | None = None,
        code: str = "invalid",
        issues: Sequence[Issue] = (),
    ) -> None:
        self.message = message
        self.action = action
        self.location = location or Location()
        self.code = code
        self.issues = tuple(issues)
        super().__init__(f"{self.location.describe()}: {message}. What to do: {action}")

    @classmethod
    def from_issues(cls, issues: Sequence[Issue]) -> X12Error:
        """The first error of ``issues`` as an exception, mentioning how many more there are."""
        errors = [i for i in issues if i.is_error]
        first = errors[0]
        more = len(errors) - 1
        message = first.message + (f" (and {more} more error(s) in this file)" if more else "")
        return cls(
            message, action=first.action, location=first.location, code=first.code, issues=issues
        )

    # convenient views on the location, for logging and the quarantine table
    @property
    def source(self) -> str | None:
        return self.location.source

    @property
    def interchange_control(self) -> str | None:
        return self.location.interchange_control

    @property
    def group_control(self) -> str | None:
        return self.location.group_control

    @property
    def transaction_control(self) -> str | None:
        return self.location.transaction_control

    @property
    def segment_position(self) -> int | None:
        return self.location.segment_position
