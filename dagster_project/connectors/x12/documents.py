"""From a file to business documents: the entry point the EDI ingest uses.

:func:`parse_file` reads a file (:func:`reader.read_interchanges`) and turns
every accepted transaction set of a set we receive (846, 855, 856, 810, 945)
into a :class:`Document`. Transaction sets of other kinds are listed in
``ParsedFile.other`` (the ingest decides whether that is a quarantine reason);
with ``strict=False``, transaction sets the reader rejected are listed in
``ParsedFile.rejected`` with their issues, and the 997 reports them.

Each document carries the warnings of its interchange, group and transaction
set (``Document.issues``; ``warnings`` in the payload).

Errors found while extracting a document (no BSN in an 856, an HL naming an
unknown parent …) raise :class:`X12Error` with the transaction's location.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_project.connectors.x12 import (
    inventory_advice,
    invoice,
    po_acknowledgment,
    ship_notice,
    warehouse_shipping_advice,
)
from dagster_project.connectors.x12.document import Document, envelope_info, make_key
from dagster_project.connectors.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from dagster_project.connectors.x12.reader import read_interchanges

#: Transaction set code → the parser of its business content.
PARSERS: dict[str, Callable[[TransactionSet], Any]] = {
    inventory_advice.CODE: inventory_advice.parse,
    po_acknowledgment.CODE: po_acknowledgment.parse,
    ship_notice.CODE: ship_notice.parse,
    invoice.CODE: invoice.parse,
    warehouse_shipping_advice.CODE: warehouse_shipping_advice.parse,
}
#: The transaction sets the hub receives and lands in raw tables.
RECEIVED_SETS = frozenset(PARSERS)


@dataclass(slots=True)
class ParsedFile:
    """Everything one file held."""

    source: str | None
    interchanges: list[Interchange]
    documents: list[Document] = field(default_factory=list)
    #: (interchange, group, transaction) of sets we do not receive (e.g. an 850 sent to us)
    other: list[tuple[Interchange, FunctionalGroup, TransactionSet]] = field(default_factory=list)
    #: (interchange, group, transaction) the reader rejected (only with strict=False)
    rejected: list[tuple[Interchange, FunctionalGroup, TransactionSet]] = field(
        default_factory=list
    )


def extract_document(
    interchange: Interchange, group: FunctionalGroup, transaction: TransactionSet
) -> Document:
    """The business document of one transaction set of a received kind."""
    parser = PARSERS.get(transaction.code)
    if parser is None:
        raise KeyError(
            f"transaction set {transaction.code} is not one the hub receives "
            f"({', '.join(sorted(RECEIVED_SETS))})"
        )
    content = parser(transaction)
    return Document(
        key=make_key(interchange, group, transaction, content.business_number),
        content=content,
        envelope=envelope_info(interchange, group, transaction),
        segments=[seg.data() for seg in transaction.segments],
        issues=[*interchange.issues, *group.issues, *transaction.issues],
    )


def parse_file(data: bytes | str, *, source: str | None = None, strict: bool = True) -> ParsedFile:
    """Read ``data`` and extract the documents of every received transaction set in it."""
    interchanges = read_interchanges(data, source=source, strict=strict)
    parsed = ParsedFile(source, interchanges)
    for interchange in interchanges:
        for group in interchange.groups:
            accepted = {id(t) for t in group.accepted_transactions()}
            for transaction in group.transactions:
                unit = (interchange, group, transaction)
                if id(transaction) not in accepted or not interchange.accepted:
                    parsed.rejected.append(unit)
                elif transaction.code in PARSERS:
                    parsed.documents.append(extract_document(*unit))
                else:
                    parsed.other.append(unit)
    return parsed


def parse_path(path: str | Path, *, strict: bool = True) -> ParsedFile:
    """:func:`parse_file` on a file, named by its file name in every message."""
    path = Path(path)
    return parse_file(path.read_bytes(), source=path.name, strict=strict)
