"""ANSI X12 codec: read what suppliers and the 3PL send, write what we send them.

Reading (inbound 846, 855, 856, 810, 945)::

    parsed = parse_path(path)                 # or parse_file(data, source=name)
    for doc in parsed.documents:              # Document: key, content, envelope, segments
        row = (doc.key.record_key(), doc.to_json())

``read_interchanges`` / ``read_file`` give the envelope tree (interchanges →
groups → transaction sets → segments) for any transaction set. Problems raise
:class:`X12Error` (file, control numbers, segment, line, what to do); tolerated
deviations are recorded as :class:`Issue` warnings. The rules are in
:mod:`.reader`.

Writing (outbound 850, 940 and 997)::

    text = write_interchange(
        InterchangeHeader("ZZ", "DISTROHUB", "01", "123456789", control_number=42),
        [OutboundGroup(GroupHeader("PO", "DISTROHUB", "123456789", 42),
                       [purchase_order_transaction(po, 1)])],
        delimiters=Delimiters("*", ">", "~"),
    )
    ack = write_acknowledgments(interchange, control_number=43, first_group_control=43)

Modules: ``errors`` (X12Error, Issue), ``segments`` (Delimiters, Segment),
``envelope`` (Interchange, FunctionalGroup, TransactionSet), ``source_text``
(decoding, lines, padding), ``isa`` (delimiters from the ISA), ``envelope_checks``
(SE/GE/IEA counts and control numbers), ``reader``,
``values`` (Num, Day: exact text + Decimal/date), ``document`` (Document,
DocumentKey, shared N1/REF/DTM readers), one module per received set
(``inventory_advice`` 846, ``po_acknowledgment`` 855, ``ship_notice`` 856,
``invoice`` 810, ``warehouse_shipping_advice`` 945), ``documents`` (file →
documents), ``writer`` (envelopes), ``purchase_order`` 850,
``warehouse_shipping_order`` 940, ``acknowledgment`` 997.
"""

from dagster_project.connectors.x12.acknowledgment import (
    acknowledgment_body,
    transaction_verdict,
    write_acknowledgments,
)
from dagster_project.connectors.x12.document import Document, DocumentKey
from dagster_project.connectors.x12.documents import (
    RECEIVED_SETS,
    ParsedFile,
    extract_document,
    parse_file,
    parse_path,
)
from dagster_project.connectors.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from dagster_project.connectors.x12.errors import Issue, Location, Severity, X12Error
from dagster_project.connectors.x12.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    purchase_order_body,
    purchase_order_transaction,
)
from dagster_project.connectors.x12.reader import read_file, read_interchanges
from dagster_project.connectors.x12.segments import LINE_BREAK, Delimiters, Segment
from dagster_project.connectors.x12.source_text import decode
from dagster_project.connectors.x12.values import Day, Num
from dagster_project.connectors.x12.warehouse_shipping_order import (
    CarrierInstructions,
    ShippingOrder,
    ShippingOrderLine,
    shipping_order_body,
    shipping_order_transaction,
)
from dagster_project.connectors.x12.writer import (
    DEFAULT_DELIMITERS,
    GroupHeader,
    InterchangeHeader,
    OutboundGroup,
    OutboundTransaction,
    PartySpec,
    serialize,
    write_interchange,
)

__all__ = [
    "DEFAULT_DELIMITERS",
    "LINE_BREAK",
    "RECEIVED_SETS",
    "CarrierInstructions",
    "Day",
    "Delimiters",
    "Document",
    "DocumentKey",
    "FunctionalGroup",
    "GroupHeader",
    "Interchange",
    "InterchangeHeader",
    "Issue",
    "Location",
    "Num",
    "OutboundGroup",
    "OutboundTransaction",
    "ParsedFile",
    "PartySpec",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Segment",
    "Severity",
    "ShippingOrder",
    "ShippingOrderLine",
    "TransactionSet",
    "X12Error",
    "acknowledgment_body",
    "decode",
    "extract_document",
    "parse_file",
    "parse_path",
    "purchase_order_body",
    "purchase_order_transaction",
    "read_file",
    "read_interchanges",
    "serialize",
    "shipping_order_body",
    "shipping_order_transaction",
    "transaction_verdict",
    "write_acknowledgments",
    "write_interchange",
]
