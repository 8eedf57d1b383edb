"""The X12 writer: what it writes the reader reads back, with any delimiters; 850, 940
and 997 documents come out right."""

from __future__ import annotations

import random
import string
from datetime import date, datetime
from decimal import Decimal

import pytest

from dagster_project.connectors.x12 import (
    LINE_BREAK,
    RECEIVED_SETS,
    CarrierInstructions,
    Delimiters,
    GroupHeader,
    InterchangeHeader,
    OutboundGroup,
    OutboundTransaction,
    PartySpec,
    PurchaseOrder,
    PurchaseOrderLine,
    ShippingOrder,
    ShippingOrderLine,
    X12Error,
    purchase_order_transaction,
    read_file,
    read_interchanges,
    shipping_order_transaction,
    write_acknowledgments,
    write_interchange,
)
from tests.connectors.x12_samples import ASN, x12_path

AT = datetime(2024, 3, 5, 14, 7)
HUB = InterchangeHeader("ZZ", "DISTROHUB", "01", "123456789", control_number=42, created_at=AT)

# delimiter candidates; values below never use these characters
POOL = "*|^~}{!#$%&@`:;<>?+=\\\u2026"
VALUE_CHARS = string.ascii_uppercase + string.ascii_lowercase + string.digits + " .-/,É"
SEGMENT_IDS = ["BEG", "REF", "N1", "N3", "N4", "PO1", "PID", "DTM", "LIN", "SN1", "W01", "N9"]


def _value(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return ""
    return "".join(rng.choice(VALUE_CHARS) for _ in range(rng.randint(1, 12)))


def _expected(segment: list, component: str) -> list[str]:
    """What the reader must return for ``segment``: composites joined, trailing empties off."""
    texts = [segment[0]]
    for element in segment[1:]:
        if isinstance(element, list):
            parts = list(element)
            while parts and parts[-1] == "":
                parts.pop()
            texts.append(component.join(parts))
        else:
            texts.append(element)
    while len(texts) > 1 and texts[-1] == "":
        texts.pop()
    return texts


def _case(seed: int):
    rng = random.Random(seed)
    element, component, terminator, repetition = rng.sample(POOL, 4)
    if rng.random() < 0.2:
        terminator = LINE_BREAK
    version = rng.choice(["00401", "00501"])
    delimiters = Delimiters(element, component, terminator, repetition)
    groups = []
    for _group in range(rng.randint(1, 3)):
        transactions = []
        for _transaction in range(rng.randint(1, 3)):
            body = []
            for _ in range(rng.randint(0, 8)):
                seg: list = [rng.choice(SEGMENT_IDS)]
                for _ in range(rng.randint(1, 8)):
                    if rng.random() < 0.15:
                        seg.append([_value(rng) for _ in range(rng.randint(2, 4))])
                    else:
                        seg.append(_value(rng))
                body.append(seg)
            transactions.append(OutboundTransaction("856", rng.randint(1, 10**9 - 1), body))
        header = GroupHeader(
            "SH",
            "SENDER",
            "RECEIVER",
            rng.randint(1, 10**9 - 1),
            "005010" if version == "00501" else "004010",
        )
        groups.append(OutboundGroup(header, transactions))
    isa = InterchangeHeader(
        rng.choice(["ZZ", "01", "12"]),
        _value(rng).strip()[:15] or "X",
        "ZZ",
        "DISTROHUB",
        rng.randint(1, 10**9 - 1),
        created_at=AT,
        version=version,
        usage=rng.choice("PT"),
    )
    line_break = rng.choice(["", "\n", "\r\n"])
    return isa, groups, delimiters, line_break


@pytest.mark.parametrize("seed", range(300))
def test_random_interchanges_round_trip(seed):
    isa, groups, delimiters, line_break = _case(seed)
    text = write_interchange(isa, groups, delimiters=delimiters, line_break=line_break)
    assert text.startswith("ISA") and text[105] == delimiters.segment  # fixed-width ISA
    (ic,) = read_interchanges(text.encode("utf-8"), source=f"case{seed}.edi")
    assert ic.all_issues() == []
    assert (ic.delimiters.element, ic.delimiters.component, ic.delimiters.segment) == (
        delimiters.element,
        delimiters.component,
        delimiters.segment,
    )
    assert ic.delimiters.repetition == (delimiters.repetition if isa.version == "00501" else None)
    assert (ic.sender_qualifier, ic.sender_id, ic.receiver_id) == (
        isa.sender_qualifier,
        isa.sender_id,
        "DISTROHUB",
    )
    assert ic.control_number == f"{isa.control_number:09d}" and ic.usage == isa.usage
    assert len(ic.groups) == len(groups)
    for read_group, group in zip(ic.groups, groups, strict=True):
        assert read_group.control_number == str(group.header.control_number)
        assert read_group.version == group.header.version
        assert len(read_group.transactions) == len(group.transactions)
        for read_tx, tx in zip(read_group.transactions, group.transactions, strict=True):
            assert read_tx.control_number == f"{tx.control_number:04d}"
            assert [s.data() for s in read_tx.body] == [
                _expected(seg, delimiters.component) for seg in tx.body
            ]


def test_a_value_containing_a_delimiter_is_refused():
    body = [["PID", "F", "", "", "", "BOLT 1/4*20"]]
    with pytest.raises(X12Error) as caught:
        write_interchange(
            HUB,
            [OutboundGroup(GroupHeader("PO", "A", "B", 1), [OutboundTransaction("850", 1, body)])],
        )
    assert caught.value.code == "delimiter_in_value"
    assert "PID05 value 'BOLT 1/4*20' contains the element separator '*'" in str(caught.value)
    assert caught.value.transaction_control == "0001"


def test_isa_fields_must_fit_and_numbers_must_be_in_range():
    too_long = InterchangeHeader("ZZ", "A-VERY-LONG-SENDER-ID", "ZZ", "X", 1, created_at=AT)
    with pytest.raises(X12Error, match="ISA06 'A-VERY-LONG-SENDER-ID' is longer than its fixed"):
        write_interchange(too_long, [])
    with pytest.raises(ValueError, match="ISA13 control number 0"):
        write_interchange(InterchangeHeader("ZZ", "A", "ZZ", "B", 0, created_at=AT), [])
    with pytest.raises(ValueError, match="must differ"):
        write_interchange(HUB, [], delimiters=Delimiters("*", "*", "~"))
    with pytest.raises(ValueError, match="not a letter"):
        write_interchange(HUB, [], delimiters=Delimiters("A", ">", "~"))


def test_empty_interchange_reads_back():
    (ic,) = read_interchanges(write_interchange(HUB, []))
    assert ic.groups == [] and ic.iea.elements == ("IEA", "0", "000000042")


# --------------------------------------------------------------------- 850
def _po() -> PurchaseOrder:
    return PurchaseOrder(
        po_number="PO-10042",
        po_date=date(2024, 3, 5),
        order_type="DS",
        references=(("IA", "V12345"),),
        dates=(("002", date(2024, 3, 12)),),
        parties=(
            PartySpec("BY", "Distrohub Inc", "92", "DH"),
            PartySpec(
                "ST",
                "Jane Buyer",
                address=("1 Main St", "Suite 2", "Dock 3"),
                city="Fairfield",
                state="NJ",
                postal_code="07004",
                country="US",
            ),
        ),
        lines=(
            PurchaseOrderLine(
                "1",
                Decimal("12"),
                "EA",
                Decimal("9.250"),
                (("VP", "ACM-8900"), ("BP", "SKU-1")),
                "Anvil, 400 lb",
            ),
            PurchaseOrderLine(
                "2",
                Decimal("3.5"),
                "CA",
                Decimal("100"),
                (("VP", "ACM-1100"),),
                requested_delivery=date(2024, 3, 9),
            ),
            PurchaseOrderLine("3", Decimal("1"), "EA", Decimal("0.333"), (("BP", "SKU-3"),)),
        ),
    )


def test_850_is_written_and_reads_back():
    text = write_interchange(
        HUB,
        [
            OutboundGroup(
                GroupHeader("PO", "DISTROHUB", "123456789", 7),
                [purchase_order_transaction(_po(), 1)],
            )
        ],
    )
    (ic,) = read_interchanges(text, strict=True)
    (transaction,) = ic.groups[0].transactions
    assert transaction.code == "850" and ic.groups[0].functional_id == "PO"
    assert [s.data() for s in transaction.body] == [
        ["BEG", "00", "DS", "PO-10042", "", "20240305"],
        ["CUR", "BY", "USD"],
        ["REF", "IA", "V12345"],
        ["DTM", "002", "20240312"],
        ["N1", "BY", "Distrohub Inc", "92", "DH"],
        ["N1", "ST", "Jane Buyer"],
        ["N3", "1 Main St", "Suite 2"],
        ["N3", "Dock 3"],
        ["N4", "Fairfield", "NJ", "07004", "US"],
        ["PO1", "1", "12", "EA", "9.25", "PE", "VP", "ACM-8900", "BP", "SKU-1"],
        ["PID", "F", "", "", "", "Anvil, 400 lb"],
        ["PO1", "2", "3.5", "CA", "100", "PE", "VP", "ACM-1100"],
        ["DTM", "002", "20240309"],
        ["PO1", "3", "1", "EA", "0.333", "PE", "BP", "SKU-3"],
        ["CTT", "3", "16.5"],
        ["AMT", "TT", "461.33"],  # 111 + 350 + 0.333 → 461.333 → 461.33
    ]
    assert transaction.trailer.elements == ("SE", "18", "0001")
    assert text.splitlines()[0] == (
        "ISA*00*          *00*          *ZZ*DISTROHUB      *01*123456789      *240305*1407*U"
        "*00401*000000042*0*P*>~"
    )
    assert text.splitlines()[1] == "GS*PO*DISTROHUB*123456789*20240305*1407*7*X*004010~"


def test_850_in_a_supplier_dialect():
    # Boreal-style: '|' elements, ':' components, no line breaks, 00501
    header = InterchangeHeader(
        "ZZ", "DISTROHUB", "ZZ", "BOREALPKG", 9, created_at=AT, version="00501"
    )
    text = write_interchange(
        header,
        [
            OutboundGroup(
                GroupHeader("PO", "DISTROHUB", "BOREALPKG", 9, "005010"),
                [purchase_order_transaction(_po(), 1)],
            )
        ],
        delimiters=Delimiters("|", ":", "~", "^"),
        line_break="",
    )
    assert "\n" not in text and text[82:84] == "^|"  # ISA11 repetition separator
    (ic,) = read_interchanges(text)
    assert ic.delimiters == Delimiters("|", ":", "~", "^")
    assert ic.groups[0].transactions[0].body[9].data()[:4] == ["PO1", "1", "12", "EA"]


# --------------------------------------------------------------------- 940
def test_940_is_written_and_reads_back():
    order = ShippingOrder(
        depositor_order_number="SO-5001",
        po_number="CUST-PO-9",
        ship_to=PartySpec(
            "ST", "Acme Hardware", "92", "C100", ("9 Elm St",), "Denver", "CO", "80202", "US"
        ),
        parties=(PartySpec("WH", "3PL West", "91", "W1"),),
        references=(("SI", "SHIPREF1"),),
        dates=(("10", date(2024, 3, 6)),),
        carrier=CarrierInstructions("PP", "M", "UPS GROUND", "UPSN"),
        lines=(
            ShippingOrderLine(
                1,
                Decimal(12),
                "CA",
                (("VN", "V-1"), ("SK", "SKU-1")),
                upc="012345678905",
                description="Widget, blue",
            ),
            ShippingOrderLine(2, Decimal(3), "EA", (("SK", "SKU-2"),), references=(("LI", "2"),)),
        ),
        total_weight=Decimal("44.50"),
    )
    text = write_interchange(
        HUB,
        [
            OutboundGroup(
                GroupHeader("OW", "DISTROHUB", "3PLWEST", 11),
                [shipping_order_transaction(order, 5)],
            )
        ],
        delimiters=Delimiters("^", ">", "}"),
        line_break="\r\n",
    )
    (ic,) = read_interchanges(text)
    (transaction,) = ic.groups[0].transactions
    assert (transaction.code, transaction.control_number) == ("940", "0005")
    assert [s.data() for s in transaction.body] == [
        ["W05", "N", "SO-5001", "CUST-PO-9"],
        ["N1", "ST", "Acme Hardware", "92", "C100"],
        ["N3", "9 Elm St"],
        ["N4", "Denver", "CO", "80202", "US"],
        ["N1", "WH", "3PL West", "91", "W1"],
        ["N9", "SI", "SHIPREF1"],
        ["G62", "10", "20240306"],
        ["W66", "PP", "M", "", "", "UPS GROUND", "", "", "", "", "UPSN"],
        ["LX", "1"],
        ["W01", "12", "CA", "012345678905", "VN", "V-1", "SK", "SKU-1"],
        ["G69", "Widget, blue"],
        ["LX", "2"],
        ["W01", "3", "EA", "", "SK", "SKU-2"],
        ["N9", "LI", "2"],
        ["W76", "15", "44.5", "LB"],
    ]


# --------------------------------------------------------------------- 997
def _ack(interchange, **kwargs):
    text = write_acknowledgments(
        interchange, control_number=500, first_group_control=600, created_at=AT, **kwargs
    )
    (ack,) = read_interchanges(text)
    return ack


def _ak(group):
    (transaction,) = group.transactions
    assert transaction.code == "997"
    return [s.data() for s in transaction.body]


@pytest.mark.parametrize(
    "relative",
    [
        "oopfactory/846_Example1.txt",
        "oopfactory/855_Simmons.txt",
        "node_x12/856.edi",
        "oopfactory/810_MultiInvoice.txt",
        "staedi/invoice810_po850_dual.edi",
        "oopfactory/856_Example3_ellipsis.txt",
        "oopfactory/855_Adobe.txt",
    ],
)
def test_a_997_per_received_group(relative):
    (interchange,) = read_file(x12_path(relative))
    ack = _ack(interchange)
    assert ack.delimiters.element == interchange.delimiters.element
    assert ack.delimiters.segment == interchange.delimiters.segment
    assert (ack.sender_id, ack.receiver_id) == (interchange.receiver_id, interchange.sender_id)
    assert [g.control_number for g in ack.groups] == [
        str(600 + k) for k in range(len(interchange.groups))
    ]
    for received, group in zip(interchange.groups, ack.groups, strict=True):
        assert group.functional_id == "FA"
        assert (group.sender, group.receiver) == (received.receiver, received.sender)
        body = _ak(group)
        assert body[0][:3] == ["AK1", received.functional_id, received.control_number]
        assert [s[1:3] for s in body if s[0] == "AK2"] == [
            [t.code, t.control_number] for t in received.transactions
        ]
        assert [s for s in body if s[0] == "AK5"] == [["AK5", "A"]] * len(received.transactions)
        n = str(len(received.transactions))
        assert body[-1] == ["AK9", "A", n, n, n]


def test_997_rejects_a_wrong_segment_count():
    (interchange,) = read_file(x12_path("edinet/204-MGCTLYST-SAMPLE.EDI"), strict=False)
    body = _ak(_ack(interchange).groups[0])
    assert body == [
        ["AK1", "SM", "17878"],
        ["AK2", "204", "178780001"],
        ["AK5", "R", "4"],
        ["AK9", "R", "1", "1", "0"],
    ]


def test_997_notes_a_tolerated_group_control_mismatch_and_5010_elements():
    (interchange,) = read_file(x12_path("oopfactory/945_inter-americanproducts.txt"))
    ack = _ack(interchange)
    assert ack.version == "00501" and ack.delimiters.repetition is not None
    assert _ak(ack.groups[0]) == [
        ["AK1", "SW", "21", "005010"],
        ["AK2", "945", "0003100001"],
        ["AK5", "A"],
        ["AK9", "E", "1", "1", "1", "4"],
    ]


def test_997_partial_acceptance_and_unsupported_sets():
    two = ASN.replace("GE*1*42", "ST*856*0002~\nBSN*00*S2~\nSE*2*0002~\nGE*2*42")
    (interchange,) = read_interchanges(two, strict=False)
    body = _ak(_ack(interchange).groups[0])
    assert body[-3:] == [["AK2", "856", "0002"], ["AK5", "R", "4"], ["AK9", "P", "2", "2", "1"]]
    (dual,) = read_file(x12_path("staedi/invoice810_po850_dual.edi"))
    ack = _ack(dual, supported=RECEIVED_SETS)
    assert _ak(ack.groups[1]) == [
        ["AK1", "PO", "165"],
        ["AK2", "850", "000191240"],
        ["AK5", "R", "1"],
        ["AK9", "R", "1", "1", "0"],
    ]
    assert _ak(ack.groups[0])[-1] == ["AK9", "A", "2", "2", "2"]


def test_997_rejects_a_group_with_a_wrong_transaction_count():
    (interchange,) = read_interchanges(ASN.replace("GE*1*42", "GE*3*42"), strict=False)
    assert _ak(_ack(interchange).groups[0])[-1] == ["AK9", "R", "3", "1", "0", "5"]
