"""The envelope checks: do the trailers (SE, GE, IEA) agree with what was read?

Errors reject the unit they concern (``accepted`` becomes False):

* ``se_count`` SE01 ≠ the segments from ST to SE — segments were lost or added;
* ``se_control`` SE02 ≠ ST02 (not even numerically equal);
* ``ge_count`` GE01 ≠ the transaction sets in the group;
* ``iea_count`` IEA01 ≠ the groups in the interchange;
* ``st_invalid`` ST01 not a 3-digit code or ST02 empty; ``gs_invalid`` GS06 empty.

Warnings are recorded and the unit is accepted:

* ``se_control_format``/``ge_control_format``/``iea_control_format`` — the
  trailer's control number equals the header's only as a number (IEA02 ``3438``
  for ISA13 ``000003438`` in ``MultipleInterchangesAndGroups.edi``);
* ``ge_control``/``iea_control`` — GE02 ≠ GS06 or IEA02 ≠ ISA13 outright. Real
  partners send this (``940_simplot.txt``, ``945_inter-americanproducts.txt``,
  ``210_DBSchenker.txt``, ``x12.850.edi``); the header is authoritative and the
  counts still prove the content complete;
* ``gs_extra_elements`` — more than 8 GS elements: GS03–GS08 are read from the
  end (``945_inter-americanproducts.txt`` sends ``GS*SW*513**000*2038334001*…``);
  ``gs_short`` — GS07/GS08 missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster_project.connectors.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from dagster_project.connectors.x12.errors import Issue, Location
from dagster_project.connectors.x12.segments import Delimiters, Segment
from dagster_project.connectors.x12.source_text import RESEND

_NO_ACTION = "accepted; no action needed"


def at(location: Location, seg: Segment) -> Location:
    """``location`` narrowed to segment ``seg``."""
    return location.within(segment_position=seg.position, segment_id=seg.id, line=seg.line)


def compare_controls(header: str, trailer: str) -> str:
    """``same``, ``numeric`` (equal as numbers only) or ``different``."""
    if header == trailer:
        return "same"
    if header.isdigit() and trailer.isdigit() and int(header) == int(trailer):
        return "numeric"
    return "different"


def cut_iea(isa13: str, iea02: str, delimiters: Delimiters) -> bool:
    """Whether an IEA at the very end of the file, without terminator, was cut short.

    With a character terminator any IEA02 that is not ISA13 means so. With
    line-break terminators a missing final line break is normal, so only an
    IEA02 that is a beginning of ISA13 (``0000`` for ``000003438``) counts; a
    wholly different IEA02 (``940_simplot.txt``) is the tolerated mismatch.
    """
    if compare_controls(isa13, iea02) != "different":
        return False
    if not delimiters.segment_is_line_break:
        return True
    unpadded = str(int(isa13)) if isa13.isdigit() else isa13
    return iea02 == "" or isa13.startswith(iea02) or unpadded.startswith(iea02)


@dataclass(slots=True)
class OpenTransaction:
    """A transaction set between its ST and its SE."""

    code: str
    control: str
    segments: list[Segment]
    location: Location
    issues: list[Issue]

    @classmethod
    def start(cls, st: Segment, group_location: Location) -> OpenTransaction:
        code, control = st.value(1), st.value(2)
        loc = group_location.within(transaction_control=control, transaction_set=code)
        issues = []
        if not re.fullmatch(r"\d{3}", code) or not control:
            issues.append(
                Issue.error(
                    "st_invalid",
                    f"ST has transaction set code {code!r} and control number {control!r}; "
                    "a 3-digit code and a control number are required",
                    RESEND,
                    at(loc, st),
                )
            )
        return cls(code, control, [st], loc, issues)

    def close(self, se: Segment) -> TransactionSet:
        """The transaction set ended by ``se``, with the SE01/SE02 checks done."""
        self.segments.append(se)
        found = list(self.issues)
        count = len(self.segments)
        se01, se02 = se.value(1), se.value(2)
        where = at(self.location, se)
        if not se01.isdigit():
            found.append(
                Issue.error("se_count", f"SE01 is {se01!r}, not a segment count", RESEND, where)
            )
        elif int(se01) != count:
            found.append(
                Issue.error(
                    "se_count",
                    f"SE01 says {int(se01)} segments but the transaction set has {count} (ST to "
                    "SE inclusive): segments were lost, added or merged on the way",
                    RESEND,
                    where,
                )
            )
        match compare_controls(self.control, se02):
            case "numeric":
                found.append(
                    Issue.warning(
                        "se_control_format",
                        f"SE02 {se02!r} equals ST02 {self.control!r} only as a number",
                        _NO_ACTION,
                        where,
                    )
                )
            case "different":
                found.append(
                    Issue.error(
                        "se_control",
                        f"SE02 {se02!r} does not match ST02 {self.control!r}: the trailer "
                        "belongs to another transaction set",
                        RESEND,
                        where,
                    )
                )
        return TransactionSet(self.code, self.control, self.segments, self.location, found)


@dataclass(slots=True)
class OpenGroup:
    """A functional group between its GS and its GE."""

    header: Segment
    fields: tuple[str, ...]  # GS01..GS08, stripped
    location: Location
    issues: list[Issue]
    transactions: list[TransactionSet]

    @property
    def control(self) -> str:
        return self.fields[5]

    @classmethod
    def start(cls, gs: Segment, base: Location) -> OpenGroup:
        n = len(gs)
        issues: list[Issue] = []
        if n > 8:
            values = (gs.value(1), gs.value(2), *(gs.value(k) for k in range(n - 5, n + 1)))
        else:
            values = tuple(gs.value(k) for k in range(1, 9))
        loc = base.within(group_control=values[5])
        if n > 8:
            issues.append(
                Issue.warning(
                    "gs_extra_elements",
                    f"GS has {n} elements where 8 are defined; GS03-GS08 were read from the "
                    f"end (sender {values[1]!r}, receiver {values[2]!r}, control number "
                    f"{values[5]!r})",
                    "accepted; tell the sender their GS has stray elements",
                    at(loc, gs),
                )
            )
        if not values[5]:
            issues.append(
                Issue.error(
                    "gs_invalid", "GS06 (the group control number) is empty", RESEND, at(loc, gs)
                )
            )
        elif n < 8:
            issues.append(
                Issue.warning(
                    "gs_short",
                    f"GS has only {n} of its 8 elements",
                    "accepted; tell the sender their GS is incomplete",
                    at(loc, gs),
                )
            )
        return cls(gs, values, loc, issues, [])

    def close(self, ge: Segment) -> FunctionalGroup:
        """The group ended by ``ge``, with the GE01/GE02 checks done."""
        issues = self.issues
        ge01, ge02 = ge.value(1), ge.value(2)
        where = at(self.location, ge)
        if not ge01.isdigit() or int(ge01) != len(self.transactions):
            issues.append(
                Issue.error(
                    "ge_count",
                    f"GE01 says {ge01!r} transaction sets but the group has "
                    f"{len(self.transactions)}: transaction sets were lost or added",
                    RESEND,
                    where,
                )
            )
        match compare_controls(self.control, ge02):
            case "numeric":
                issues.append(
                    Issue.warning(
                        "ge_control_format",
                        f"GE02 {ge02!r} equals GS06 {self.control!r} only as a number",
                        _NO_ACTION,
                        where,
                    )
                )
            case "different":
                issues.append(
                    Issue.warning(
                        "ge_control",
                        f"GE02 {ge02!r} differs from GS06 {self.control!r}; GS06 is used and "
                        "GE01 proves the group complete",
                        "accepted; tell the sender their GE02 is wrong",
                        where,
                    )
                )
        f = self.fields
        return FunctionalGroup(
            functional_id=f[0],
            sender=f[1],
            receiver=f[2],
            date=f[3],
            time=f[4],
            control_number=f[5],
            agency=f[6],
            version=f[7],
            header=self.header,
            trailer=ge,
            transactions=self.transactions,
            location=self.location,
            issues=issues,
        )


def check_interchange(ic: Interchange) -> None:
    """Record the IEA01/IEA02 findings on ``ic``."""
    iea01, iea02 = ic.iea.value(1), ic.iea.value(2)
    where = at(ic.location, ic.iea)
    if not iea01.isdigit() or int(iea01) != len(ic.groups):
        ic.issues.append(
            Issue.error(
                "iea_count",
                f"IEA01 says {iea01!r} functional groups but the interchange has "
                f"{len(ic.groups)}: groups were lost or added",
                RESEND,
                where,
            )
        )
    match compare_controls(ic.control_number, iea02):
        case "numeric":
            ic.issues.append(
                Issue.warning(
                    "iea_control_format",
                    f"IEA02 {iea02!r} equals ISA13 {ic.control_number!r} only as a number "
                    "(not zero-padded)",
                    _NO_ACTION,
                    where,
                )
            )
        case "different":
            ic.issues.append(
                Issue.warning(
                    "iea_control",
                    f"IEA02 {iea02!r} differs from ISA13 {ic.control_number!r}; ISA13 is used "
                    "and the counts prove the content complete",
                    "accepted; tell the sender their trailer control number is wrong",
                    where,
                )
            )
