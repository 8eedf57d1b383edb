"""997 Functional Acknowledgment: one per received functional group, written back.

:func:`acknowledgment_body` acknowledges one group read by :mod:`reader`
(read it with ``strict=False`` so rejected transaction sets are still there to
report):

* AK1 — the group's functional id and control number (+ GS08 for 005010+);
* per transaction set, AK2 (code, control number, + ST03 for 005010+) and AK5:
  ``A`` accepted, ``E`` accepted with errors noted (a tolerated warning that has
  an X12 code), ``R`` rejected, with the syntax codes;
* AK9 — ``A``/``E``/``P`` (partially accepted)/``R``, the count the GE declared,
  the count received, the count accepted, and the group's syntax codes.

Reader issue codes map to X12 codes: ``se_count`` → AK5 4, ``se_control``
(and its numeric-only form) → AK5 3, ``st_invalid`` → AK5 6; ``ge_count`` →
AK9 5, ``ge_control`` (and numeric-only) → AK9 4, ``gs_invalid`` → AK9 6. A
transaction set whose code is not in ``supported`` (when given) gets AK5 ``R``
with code 1 (not supported). A group with an error is rejected as a whole.

:func:`write_acknowledgments` writes one interchange back to the sender of
``interchange``: sender and receiver swapped, one FA group per received group
(application ids swapped too), each holding that group's 997.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from dagster_project.connectors.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from dagster_project.connectors.x12.errors import Issue
from dagster_project.connectors.x12.segments import Delimiters
from dagster_project.connectors.x12.writer import (
    Element,
    GroupHeader,
    InterchangeHeader,
    OutboundGroup,
    OutboundTransaction,
    write_interchange,
)

CODE = "997"
FUNCTIONAL_ID = "FA"
AK5_CODES = {"se_count": "4", "se_control": "3", "se_control_format": "3", "st_invalid": "6"}
AK9_CODES = {"ge_count": "5", "ge_control": "4", "ge_control_format": "4", "gs_invalid": "6"}
_MAX_CODES = 5


@dataclass(frozen=True, slots=True)
class TransactionVerdict:
    """What the 997 says about one transaction set."""

    code: str
    control_number: str
    status: str  # A, E or R
    syntax_codes: tuple[str, ...]


def transaction_verdict(
    transaction: TransactionSet, supported: Collection[str] | None = None
) -> TransactionVerdict:
    """Accepted, accepted with errors noted, or rejected — and the AK5 codes why."""
    if supported is not None and transaction.code not in supported:
        return TransactionVerdict(transaction.code, transaction.control_number, "R", ("1",))
    errors = _codes(transaction.issues, AK5_CODES, errors=True)
    if any(i.is_error for i in transaction.issues):
        return TransactionVerdict(
            transaction.code, transaction.control_number, "R", errors or ("5",)
        )
    noted = _codes(transaction.issues, AK5_CODES, errors=False)
    status = "E" if noted else "A"
    return TransactionVerdict(transaction.code, transaction.control_number, status, noted)


def acknowledgment_body(
    group: FunctionalGroup, supported: Collection[str] | None = None
) -> list[list[Element]]:
    """The 997 segments (AK1 … AK9) between ST and SE for one received group."""
    five_ten = group.version.startswith("005") or group.version.startswith("006")
    ak1: list[Element] = ["AK1", group.functional_id, group.control_number]
    if five_ten:
        ak1.append(group.version)
    body: list[list[Element]] = [ak1]
    accepted = 0
    noted = False
    for transaction in group.transactions:
        verdict = transaction_verdict(transaction, supported)
        ak2: list[Element] = ["AK2", transaction.code, transaction.control_number]
        if five_ten and transaction.implementation_reference:
            ak2.append(transaction.implementation_reference)
        body.append(ak2)
        body.append(["AK5", verdict.status, *verdict.syntax_codes[:_MAX_CODES]])
        if verdict.status != "R":
            accepted += 1
        noted = noted or verdict.status == "E"
    received = len(group.transactions)
    group_errors = _codes(group.issues, AK9_CODES, errors=True)
    group_noted = _codes(group.issues, AK9_CODES, errors=False)
    if not group.accepted:
        status, codes = "R", group_errors or ("6",)
        accepted = 0
    elif received and accepted == 0:
        status, codes = "R", group_noted
    elif accepted < received:
        status, codes = "P", group_noted
    else:
        status, codes = ("E" if noted or group_noted else "A"), group_noted
    declared = group.trailer.value(1)
    body.append(
        [
            "AK9",
            status,
            declared if declared.isdigit() else str(received),
            str(received),
            str(accepted),
            *codes[:_MAX_CODES],
        ]
    )
    return body


def write_acknowledgments(
    interchange: Interchange,
    *,
    control_number: int,
    first_group_control: int,
    created_at: datetime | None = None,
    delimiters: Delimiters | None = None,
    line_break: str = "\n",
    supported: Collection[str] | None = None,
    usage: str | None = None,
) -> str:
    """One interchange of 997s back to the sender of ``interchange`` (one per group).

    ``delimiters`` default to the ones the sender used; the ISA version is the
    sender's when it is 00401 or later, else 00401; ``usage`` (P/T) defaults to
    the sender's ISA15.
    """
    version = interchange.version if _modern(interchange.version) else "00401"
    header = InterchangeHeader(
        sender_qualifier=interchange.receiver_qualifier,
        sender_id=interchange.receiver_id,
        receiver_qualifier=interchange.sender_qualifier,
        receiver_id=interchange.sender_id,
        control_number=control_number,
        created_at=created_at,
        usage=usage or interchange.usage or "P",
        version=version,
    )
    groups = []
    for offset, group in enumerate(interchange.groups):
        gs = GroupHeader(
            FUNCTIONAL_ID,
            group.receiver,
            group.sender,
            first_group_control + offset,
            group.version or "004010",
        )
        groups.append(
            OutboundGroup(gs, [OutboundTransaction(CODE, 1, acknowledgment_body(group, supported))])
        )
    return write_interchange(
        header, groups, delimiters=delimiters or interchange.delimiters, line_break=line_break
    )


def _codes(issues: list[Issue], table: dict[str, str], *, errors: bool) -> tuple[str, ...]:
    found: list[str] = []
    for issue in issues:
        code = table.get(issue.code)
        if code and issue.is_error == errors and code not in found:
            found.append(code)
    return tuple(found)


def _modern(version: str) -> bool:
    return len(version) == 5 and version.isdigit() and int(version) >= 401
