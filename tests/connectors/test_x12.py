"""The X12 reader and document extraction against the real public X12 files (tests/realdata.py).

Every file there is read in place (never copied). All of them must tokenize into
the expected interchanges/groups/transaction sets; the two whose SE01 count is
genuinely wrong (a 204 and an 832, counted by hand) must be rejected in strict
mode with that precise error. Every file of the five sets we receive (846, 855,
856, 810, 945) must become documents, with values spot-checked against the file.
"""

from __future__ import annotations

import collections
import random
from datetime import date
from decimal import Decimal

import pytest

from dagster_project.connectors.x12 import (
    LINE_BREAK,
    RECEIVED_SETS,
    Document,
    X12Error,
    parse_file,
    parse_path,
    read_file,
)
from dagster_project.connectors.x12.inventory_advice import InventoryAdvice
from dagster_project.connectors.x12.invoice import Invoice
from dagster_project.connectors.x12.po_acknowledgment import PurchaseOrderAck
from dagster_project.connectors.x12.ship_notice import ShipNotice
from dagster_project.connectors.x12.warehouse_shipping_advice import WarehouseShippingAdvice
from tests.connectors.x12_samples import all_x12_files, x12_path

# file → (interchanges separated by " | ", groups "FUNCTIONAL_ID:sets"), issue codes recorded
STRUCTURE: dict[str, tuple[str, set[str]]] = {
    "edi_engine/850.Composite.SLN.OK.edi": ("PO:850", set()),
    "edi_engine/850.OK.edi": ("PO:850", set()),
    "edi_engine/856.Crossdock.OK.edi": ("SH:856", set()),
    "edi_engine/940.2.OK.edi": ("OW:940", set()),
    "edi_engine/940.OK.edi": ("OW:940", set()),
    "edi_engine/MultipleInterchangesAndGroups.edi": (
        "OW:940,940 OW:940 | OW:940,940 OW:940",
        {"iea_control_format"},
    ),
    "edinet/204-MGCTLYST-SAMPLE.EDI": ("SM:204", {"se_count"}),
    "edinet/210-MGCTLYST-SAMPLE.EDI": ("IM:210", set()),
    "edinet/214-MGCTLYST-SAMPLE.EDI": ("QM:214", set()),
    "edinet/990-MGCTLYST-SAMPLE.EDI": ("GF:990", set()),
    "edinet/x12.214.edi": ("QM:214", set()),
    "edinet/x12.810a.edi": ("IN:810", set()),
    "edinet/x12.810b.edi": ("IN:810", set()),
    "edinet/x12.820.issue140.edi": ("RA:820", set()),
    "edinet/x12.832.edi": ("SC:832", {"se_count"}),
    "edinet/x12.850.edi": ("PO:850", {"iea_control"}),
    "edinet/x12.850.issue135.edi": ("PO:850,850", {"missing_terminator", "isa16_missing"}),
    "edinet/x12.850a.edi": ("PO:850", {"iea_control"}),
    "node_x12/850.edi": ("PO:850", set()),
    "node_x12/850_2.edi": ("PO:850", set()),
    "node_x12/850_3.edi": ("PO:850", set()),
    "node_x12/855.edi": ("PR:855", set()),
    "node_x12/856.edi": ("SH:856", set()),
    "oopfactory/210_DBSchenker.txt": ("IM:210", {"ge_control"}),
    "oopfactory/810_MultiInvoice.txt": ("IN:810,810", set()),
    "oopfactory/810_Walmart.txt": ("IN:810", set()),
    "oopfactory/810_mattress_retailer.txt": ("IN:810", set()),
    "oopfactory/846_Example1.txt": ("IB:846", set()),
    "oopfactory/846_Example2.txt": ("IB:846", set()),
    "oopfactory/850_PGWGlass.txt": ("PO:850", set()),
    "oopfactory/855_Adobe.txt": ("PR:855", set()),
    "oopfactory/855_Simmons.txt": ("PR:855,855", set()),
    "oopfactory/856_Example1.txt": ("SH:856", set()),
    "oopfactory/856_Example3_ellipsis.txt": ("SH:856", set()),
    "oopfactory/856_jewelry_VICS.txt": ("SH:856", set()),
    "oopfactory/940_simplot.txt": ("OW:940", {"iea_control", "ge_control"}),
    "oopfactory/945_inter-americanproducts.txt": ("SW:945", {"gs_extra_elements", "ge_control"}),
    "staedi/invoice810_po850_dual.edi": ("IN:810,810 PO:850", set()),
    "staedi/multi_855.edi": ("PR:855,855", set()),
    "staedi/simple810.edi": ("IN:810,810", set()),
    "staedi/simple997-multiple-interchanges.edi": ("FA:997 | FA:997 | FA:997", set()),
    "staedi/simple997.edi": ("FA:997", set()),
    "staedi/ts210_80char.edi": ("IM:210", set()),
    "staedi/ts214_ellipses_segterm.edi": ("QM:214", set()),
    "stedi/855_inbound_5010.edi": ("PR:855", set()),
}

# files whose content is genuinely wrong beyond tolerance: strict reading rejects them
REJECTED_STRICT = {
    "edinet/204-MGCTLYST-SAMPLE.EDI": "SE01 says 41 segments but the transaction set has 38",
    "edinet/x12.832.edi": "SE01 says 17 segments but the transaction set has 12",
}

# (element, component, segment, repetition) the ISA declares, for the files that test detection
DELIMITERS = {
    "oopfactory/846_Example1.txt": ("~", ">", "}", None),
    "oopfactory/846_Example2.txt": ("~", ">", "*", None),
    "oopfactory/856_Example1.txt": ("~", "`", "*", None),
    "oopfactory/850_PGWGlass.txt": ("*", "~", "|", None),
    "oopfactory/210_DBSchenker.txt": ("*", ":", ".", None),
    "oopfactory/856_Example3_ellipsis.txt": ("*", ":", "\u2026", None),
    "staedi/ts214_ellipses_segterm.edi": ("*", ">", "\u2026", None),
    "oopfactory/855_Adobe.txt": ("*", ">", LINE_BREAK, None),
    "edi_engine/850.OK.edi": ("*", ">", LINE_BREAK, None),
    "edinet/x12.850.issue135.edi": ("*", ">", "~", None),  # ISA16 absent: '>' is the default
    "edinet/x12.850.edi": ("*", ">", "~", None),
    "node_x12/856.edi": ("*", ">", "~", "-"),
    "oopfactory/810_MultiInvoice.txt": ("*", ":", "~", "^"),
    "edinet/x12.820.issue140.edi": ("*", ">", LINE_BREAK, ":"),
    "staedi/multi_855.edi": ("*", "^", "~", None),
}


def _shape(interchanges) -> str:
    return " | ".join(
        " ".join(f"{g.functional_id}:{','.join(t.code for t in g.transactions)}" for g in ic.groups)
        for ic in interchanges
    )


# --------------------------------------------------------------------- every file tokenizes
def test_the_real_files_are_all_known():
    files = all_x12_files()
    assert sorted(STRUCTURE) == files, "a real file was added or removed: update STRUCTURE"


@pytest.mark.parametrize("relative", sorted(STRUCTURE))
def test_every_real_file_tokenizes(relative):
    interchanges = read_file(x12_path(relative), strict=False)
    shape, codes = STRUCTURE[relative]
    assert _shape(interchanges) == shape
    assert {i.code for ic in interchanges for i in ic.all_issues()} == codes
    for ic in interchanges:
        for group in ic.groups:
            for transaction in group.transactions:
                assert transaction.segments[0].id == "ST" and transaction.segments[-1].id == "SE"


@pytest.mark.parametrize("relative", sorted(set(STRUCTURE) - set(REJECTED_STRICT)))
def test_strict_reading_accepts_every_file_within_tolerance(relative):
    interchanges = read_file(x12_path(relative))
    assert all(ic.accepted for ic in interchanges)


@pytest.mark.parametrize("relative", sorted(REJECTED_STRICT))
def test_strict_reading_rejects_the_files_with_a_wrong_segment_count(relative):
    with pytest.raises(X12Error) as caught:
        read_file(x12_path(relative))
    error = caught.value
    assert error.code == "se_count"
    assert REJECTED_STRICT[relative] in str(error)
    assert error.source == relative.split("/")[-1]
    assert error.transaction_control is not None and error.segment_position is not None
    assert "What to do:" in str(error)


@pytest.mark.parametrize("relative", sorted(DELIMITERS))
def test_delimiters_come_from_each_isa(relative):
    (interchange, *_) = read_file(x12_path(relative), strict=False)
    d = interchange.delimiters
    assert (d.element, d.component, d.segment, d.repetition) == DELIMITERS[relative]


def test_isa_oddities_are_read_as_values():
    # NBSP padding: ISA06 'PARTNERID' padded with U+00A0
    (ic,) = read_file(x12_path("edinet/x12.850.edi"))
    assert (ic.sender_id, ic.receiver_id, ic.control_number) == (
        "000123456",
        "PARTNERID",
        "000000055",
    )
    # the ISA broken across two lines (and a BOM)
    (ic,) = read_file(x12_path("edinet/x12.214.edi"))
    assert (ic.receiver_id, ic.date, ic.time, ic.version) == ("MGCTLYST", "160726", "1303", "00403")
    # hard-wrapped at 80 columns, inside the ISA and inside elements
    (ic,) = read_file(x12_path("staedi/ts210_80char.edi"))
    assert ic.time == "0224"
    body = ic.groups[0].transactions[0].body
    assert body[0].elements[:3] == ("B3", "", "699751522")
    assert ["L5", "3", "FSC FUEL SURCHARGE 10.50%"] in [seg.data() for seg in body]
    # unpadded ISA06/ISA08
    (ic,) = read_file(x12_path("edinet/x12.810a.edi"))
    assert (ic.sender_id, ic.receiver_id) == ("ABCMUSICSUPPLY", "ARIBAEDI")


def test_missing_terminator_splits_the_fused_line():
    (ic,) = read_file(x12_path("edinet/x12.850.issue135.edi"))
    first = ic.groups[0].transactions[0]
    fused = next(k for k, seg in enumerate(first.body) if seg.line == 23)
    # 'DTM*038*20190309' + line break + 'PO1*30*…~' became two segments
    assert first.body[fused].elements == ("DTM", "038", "20190309")
    assert first.body[fused + 1].elements[:2] == ("PO1", "30")
    assert first.body[fused + 1].line == 24
    warning = next(i for i in ic.issues if i.code == "missing_terminator")
    assert warning.location.line == 23


def test_several_interchanges_keep_their_own_control_numbers():
    interchanges = read_file(x12_path("staedi/simple997-multiple-interchanges.edi"))
    assert [ic.control_number for ic in interchanges] == ["000000001", "000000002", "000000003"]
    positions = [ic.isa.position for ic in interchanges]
    assert positions == [1, 13, 25]


def test_trailing_padding_after_the_iea_is_ignored():
    (ic,) = read_file(x12_path("edinet/210-MGCTLYST-SAMPLE.EDI"))
    body = ic.groups[0].transactions[0].body
    assert ["L5", "2"] in [s.data() for s in body] and ["L0", "2"] in [s.data() for s in body]


def test_repetition_separator_is_not_applied_implicitly():
    (ic,) = read_file(x12_path("node_x12/856.edi"))
    ref = next(s for s in ic.groups[0].transactions[0].body if s.id == "REF")
    assert ref[2] == "999999-001"
    assert ref.repeats(2) == ("999999", "001")  # only when asked


def test_composites_split_on_request():
    (ic,) = read_file(x12_path("edi_engine/850.Composite.SLN.OK.edi"))
    sln = next(s for s in ic.groups[0].transactions[0].body if s.id == "SLN")
    assert sln.composite(5) == ("PC", "11.1", "12.2", "EA", "13.3", "14.4")


# --------------------------------------------------------------------- documents
RECEIVED_FILES = {
    "oopfactory/846_Example1.txt": ["846"],
    "oopfactory/846_Example2.txt": ["846"],
    "node_x12/855.edi": ["855"],
    "oopfactory/855_Adobe.txt": ["855"],
    "oopfactory/855_Simmons.txt": ["855", "855"],
    "staedi/multi_855.edi": ["855", "855"],
    "stedi/855_inbound_5010.edi": ["855"],
    "edi_engine/856.Crossdock.OK.edi": ["856"],
    "node_x12/856.edi": ["856"],
    "oopfactory/856_Example1.txt": ["856"],
    "oopfactory/856_Example3_ellipsis.txt": ["856"],
    "oopfactory/856_jewelry_VICS.txt": ["856"],
    "edinet/x12.810a.edi": ["810"],
    "edinet/x12.810b.edi": ["810"],
    "oopfactory/810_MultiInvoice.txt": ["810", "810"],
    "oopfactory/810_Walmart.txt": ["810"],
    "oopfactory/810_mattress_retailer.txt": ["810"],
    "staedi/simple810.edi": ["810", "810"],
    "staedi/invoice810_po850_dual.edi": ["810", "810"],
    "oopfactory/945_inter-americanproducts.txt": ["945"],
}


def test_every_real_file_of_a_received_set_is_listed():
    received = {
        name
        for name, (shape, _) in STRUCTURE.items()
        if any(f"{code}" in shape.replace(":", ",").split(",") for code in RECEIVED_SETS)
    }
    assert received == set(RECEIVED_FILES)


@pytest.mark.parametrize("relative", sorted(RECEIVED_FILES))
def test_every_received_real_file_becomes_documents(relative):
    parsed = parse_path(x12_path(relative))
    assert [d.transaction_set for d in parsed.documents] == RECEIVED_FILES[relative]
    assert not parsed.rejected
    for doc in parsed.documents:
        assert doc.key.business_number, "every document has its business number"
        assert doc.key.record_key().count("|") == 6
        payload = doc.to_payload()
        assert payload["segments"][0][0] == "ST" and payload["segments"][-1][0] == "SE"
        assert '"value": 1.5' not in doc.to_json()  # smoke: serialises without error


def _docs(relative: str) -> list[Document]:
    return parse_path(x12_path(relative)).documents


def test_846_sanmina_inventory_with_uit_units():
    (doc,) = _docs("oopfactory/846_Example1.txt")
    assert doc.key.sender_qualifier == "01" and doc.key.sender_id == "322341109"
    assert doc.key.receiver_id == "SANMINACORP"
    assert (
        doc.key.business_number,
        doc.key.interchange_control,
        doc.key.group_control,
        doc.key.transaction_control,
    ) == ("10353", "000001979", "1979", "1979")
    advice: InventoryAdvice = doc.content
    assert advice.date.value == date(2004, 8, 11) and advice.currency == "USD"
    assert [p.role for p in advice.parties] == ["ST", "SE"]
    assert advice.parties[0].name == "EMS PLANT E88"
    (item,) = advice.items
    assert item.id("BP") == "46L5055" and item.id("MG") == "1234123232"
    assert [(q.qualifier, q.quantity.value, q.unit) for q in item.quantities] == [
        ("34", Decimal(5250), "EA"),
        ("QH", Decimal(100), "EA"),
        ("QB", Decimal(50), "EA"),
        ("87", Decimal(75), "EA"),
    ]


def test_846_with_star_terminator_and_fused_segments_kept_as_sent():
    (doc,) = _docs("oopfactory/846_Example2.txt")
    advice: InventoryAdvice = doc.content
    assert advice.reference_number == "20030828234648"
    assert len(advice.items) == 5
    first = advice.items[0]
    assert first.line_id == "" and first.id("BP") == "38490-B" and first.id("VN") == "H304L0750040"
    assert first.prices[0].unit_price.value == Decimal("2.6")
    assert (first.quantity("17").quantity.text, first.quantity("17").unit) == ("1998.61", "FT")
    assert first.quantity("17").quantity.value == Decimal("1998.61")
    # 'REF~ZZ~ASIAQTY~17~403.32~FT': the partner fused REF and QTY; kept as sent
    third = advice.items[2]
    assert third.references[0].value == "ASIAQTY"
    assert [q.qualifier for q in third.quantities] == ["63"]
    assert third.quantities[0].dates[0].date.value == date(2003, 8, 22)
    assert advice.items[4].id("BP") == "35933" and advice.items[4].quantities[0].unit == "FTCTT"


def test_855_book_distributor_line_acks():
    (doc,) = _docs("node_x12/855.edi")
    ack: PurchaseOrderAck = doc.content
    assert (ack.po_number, ack.ack_type, ack.request_reference) == ("POTEST1112", "AD", "60169126")
    assert ack.ack_date.value == date(2020, 10, 15)
    assert [line.line_id for line in ack.lines] == ["1", "2", "3", "4"]
    first = ack.lines[0]
    assert (first.quantity.value, first.unit, first.unit_price.value) == (
        Decimal(3),
        "UN",
        Decimal("4.5"),
    )
    assert first.id("EN") == "9780446360265"
    assert [(a.status, a.quantity.value) for line in ack.lines for a in line.acks] == [
        ("IA", 3),
        ("IR", 0),
        ("IR", 0),
        ("IA", 2),
    ]
    assert first.schedules[0].date.value == date(2004, 12, 31)
    assert (ack.line_count.value, ack.hash_total.value) == (4, 5)


def test_855_adobe_crlf_terminated():
    (doc,) = _docs("oopfactory/855_Adobe.txt")
    ack: PurchaseOrderAck = doc.content
    assert ack.po_number == "0132710645" and ack.po_date.value == date(2009, 6, 12)
    assert [p.role for p in ack.parties] == ["BY", "BT", "PR", "CA", "II", "SE", "ST"]
    assert ack.parties[-1].city == "SEATTLE" and ack.parties[-1].contacts[0].name == "JOHN DOE"
    (line,) = ack.lines
    assert (line.line_id, line.unit_price.value, line.price_basis) == ("000010", 369, "CA")
    assert line.id("BP") == "T05249"
    assert line.descriptions == ["APRO,9.0,WIN,AOO,UE,1PK,N/A"]
    assert [(a.qualifier, a.amount.value) for a in ack.amounts] == [("TT", 369)]


def test_855_simmons_two_acks_prices_read_as_sent():
    first, second = _docs("oopfactory/855_Simmons.txt")
    assert (first.content.po_number, second.content.po_number) == ("7542", "99035")
    assert first.key.transaction_control == "0001" and second.key.transaction_control == "0002"
    prices = [line.unit_price for line in first.content.lines]
    assert [(p.text, p.value) for p in prices] == [
        ("7700", Decimal(7700)),
        ("23500", Decimal(23500)),
    ]
    assert first.content.lines[0].parties[0].name == "OJEDA, ROSA"
    assert first.content.seller_order_number == "83517234"


def test_855_minimal_and_5010():
    one, two = _docs("staedi/multi_855.edi")
    assert [one.content.po_number, two.content.po_number] == ["ORDER1", "ORDER2"]
    assert one.content.ack_type == "AC" and not one.content.lines
    (doc,) = _docs("stedi/855_inbound_5010.edi")
    ack: PurchaseOrderAck = doc.content
    assert ack.po_number == "365465413" and ack.ack_date.value == date(2022, 9, 13)
    assert [line.line_id for line in ack.lines] == ["item-1", "item-2"]
    assert ack.lines[0].id("SK") == "ACM/8900-400"
    assert ack.lines[0].acks[0].status == "IA" and ack.lines[0].acks[0].quantity.value == 8
    assert doc.envelope.group_version == "005010"


def test_856_crossdock_hierarchy_follows_parents():
    (doc,) = _docs("edi_engine/856.Crossdock.OK.edi")
    asn: ShipNotice = doc.content
    assert asn.shipment_id == "000009" and asn.date.value == date(2009, 9, 21)
    assert [len(asn.levels(x)) for x in "SOPI"] == [1, 2, 5, 5]
    shipment = asn.shipment()
    assert shipment.routing[0].carrier_id == "OVNT"
    assert (shipment.packaging[0].weight.value, shipment.packaging[0].weight_unit) == (24, "LB")
    assert [r.value for r in shipment.references if r.qualifier == "BM"] == ["000001"]
    assert [(i.hl_id, i.po_number, i.order_hl_id, i.pack_hl_id) for i in asn.items] == [
        ("4", "POREF00", "2", "3"),
        ("6", "POREF00", "2", "5"),
        ("8", "POREF00", "2", "7"),
        ("10", "POREF00", "2", "9"),
        ("13", "POREF01", "11", "12"),
    ]
    first = asn.items[0]
    assert first.id("UP") == "0000000000642" and first.quantity.value == 12 and first.unit == "EA"
    assert first.sscc == ["00000715670002152360"]
    assert asn.items[1].id("EN") == "0000000000831"
    assert asn.items[-1].sscc == ["00000715670002152111"]


def test_856_without_pack_level():
    (doc,) = _docs("node_x12/856.edi")
    asn: ShipNotice = doc.content
    assert asn.shipment_id == "829716" and asn.purpose == "14"
    assert [
        (i.id("VP"), i.quantity.value, i.po_number, i.pack_hl_id, i.sscc) for i in asn.items
    ] == [("87787D", 24, "99999817", "", []), ("99887D", 6, "99999817", "", [])]
    assert asn.shipment().packaging[0].weight.value == Decimal("60.310")
    assert (asn.line_count.value, asn.hash_total.value) == (4, 30)


def test_856_tilde_elements_star_terminator():
    (doc,) = _docs("oopfactory/856_Example1.txt")
    asn: ShipNotice = doc.content
    assert asn.shipment_id == "123456"
    assert [(i.line_id, i.id("CB"), i.quantity.value, i.unit) for i in asn.items] == [
        ("001", "1234-123456", 16, "PC"),
        ("002", "1234-654321", 23, "LB"),
        ("004", "1234-223456", 16, "PC"),
    ]
    assert {i.po_number for i in asn.items} == {"123456"}
    assert asn.levels("O")[0].order.release_number == "1234"


def test_856_ellipsis_terminated_with_item_level_orders():
    (doc,) = _docs("oopfactory/856_Example3_ellipsis.txt")
    asn: ShipNotice = doc.content
    assert asn.shipment_id == "146940"
    assert [(i.id("BP"), i.quantity.value) for i in asn.items] == [
        ("000 260 056 524", 1596),
        ("000 260 120 524", 1152),
        ("000 260 121 524", 1440),
    ]
    assert {i.po_number for i in asn.items} == {"5500005194"}
    shipment = asn.shipment()
    assert shipment.measurements[0].value.value == Decimal("5063.82")
    assert shipment.routing[0].carrier_id == "AVRT"


def test_856_vics_pack_with_sscc():
    (doc,) = _docs("oopfactory/856_jewelry_VICS.txt")
    asn: ShipNotice = doc.content
    (item,) = asn.items
    assert (item.id("UP"), item.quantity.value, item.po_number) == ("883932284904", 1, "SO/VINCE1")
    assert item.sscc == ["00007121610006156802"]
    assert asn.shipment().routing[0].carrier_id == "FED2"
    assert doc.envelope.group_version == "004010VICS"


def test_810_ariba_terms_sac_and_implied_decimals():
    (doc,) = _docs("edinet/x12.810a.edi")
    invoice: Invoice = doc.content
    assert (invoice.invoice_number, invoice.po_number) == ("DO091003TESTINV01", "DO091003")
    assert invoice.invoice_date.value == date(2003, 3, 10)
    assert invoice.total_amount.text == "36596"
    assert invoice.total_amount.value == Decimal("365.96")
    assert len(invoice.terms) == 5 and invoice.terms[3].discount_percent.value == Decimal(-5)
    first = invoice.lines[0]
    assert (first.quantity.value, first.unit, first.unit_price.value, first.id("VP")) == (
        2,
        "EA",
        Decimal("99.99"),
        "ID001",
    )
    assert [(s.indicator, s.code, s.amount.value) for s in first.allowances_charges] == [
        ("N", "B840", Decimal("199.98")),
        ("C", "G830", Decimal("3.00")),
    ]
    assert [p.role for p in first.parties] == ["SF", "ST"]
    assert [p.role for p in invoice.parties] == ["SO", "RI"]
    assert [(a.qualifier, a.amount.value) for a in invoice.amounts] == [
        ("1", Decimal("359.96")),
        ("N", Decimal("365.96")),
        ("BAP", Decimal("365.96")),
    ]
    assert [s.amount.value for s in invoice.allowances_charges] == [
        Decimal("6.00"),
        Decimal("0.00"),
    ]


def test_810_with_taxes():
    (doc,) = _docs("edinet/x12.810b.edi")
    invoice: Invoice = doc.content
    assert invoice.total_amount.value == Decimal("401.92")
    assert [(t.tax_type, t.amount.value) for t in invoice.taxes] == [
        ("ST", Decimal("28.78")),
        ("FD", Decimal("7.18")),
    ]
    assert invoice.lines[0].taxes[0].percent.value == 8


def test_810_multi_invoice():
    first, second = _docs("oopfactory/810_MultiInvoice.txt")
    assert (first.content.invoice_number, second.content.invoice_number) == ("465266", "465267")
    assert first.content.total_amount.value == Decimal("8432.02")
    assert second.content.total_amount.value == Decimal("1129.92")
    line = first.content.lines[0]
    assert (line.quantity.value, line.unit, line.unit_price.value, line.id("UA")) == (
        16,
        "CA",
        Decimal("52.56"),
        "001055503223",
    )
    assert line.allowances_charges[0].amount.value == Decimal("58.87")
    terms = first.content.terms[0]
    assert (terms.discount_percent.value, terms.discount_due_date.value, terms.net_days.value) == (
        1,
        date(2002, 6, 8),
        30,
    )


def test_810_walmart_crlf_and_trailing_spaces():
    (doc,) = _docs("oopfactory/810_Walmart.txt")
    invoice: Invoice = doc.content
    assert (invoice.invoice_number, invoice.po_number) == ("6463367", "3376103367")
    assert invoice.total_amount.value == Decimal("3875.30")
    (line,) = invoice.lines
    assert line.id("UK") == "00221089552284"  # sent with a trailing space
    it1 = next(seg for seg in doc.segments if seg[0] == "IT1")
    assert it1[-1] == "00221089552284 "  # …which the raw segments keep
    assert line.allowances_charges[0].amount.value == Decimal("23.50")
    assert invoice.carrier_scac == "RDWT"
    assert invoice.parties[1].postal_code == "72712"
    assert doc.envelope.interchange_version == "00040"


def test_810_total_matches_its_lines():
    (doc,) = _docs("oopfactory/810_mattress_retailer.txt")
    invoice: Invoice = doc.content
    assert invoice.total_amount.text == "5635800"
    assert invoice.total_amount.value == Decimal("56358.00")
    assert len(invoice.lines) == 7
    assert sum(line.quantity.value * line.unit_price.value for line in invoice.lines) == Decimal(
        "56358"
    )
    assert invoice.references[0].value == "vendornumber?"


def test_810_two_invoices_and_an_850_in_one_interchange():
    parsed = parse_path(x12_path("staedi/invoice810_po850_dual.edi"))
    assert [d.content.po_number for d in parsed.documents] == ["A99999-01", "A99999-04"]
    assert parsed.documents[0].content.total_amount.value == Decimal("2554.38")
    assert parsed.documents[0].content.terms[0].description == "1/15 NET 30"
    ((_, group, transaction),) = parsed.other
    assert (group.version, group.date, transaction.code) == ("003010", "020906", "850")
    assert [len(d.content.lines) for d in _docs("staedi/simple810.edi")] == [7, 2]


def test_945_shipping_advice():
    (doc,) = _docs("oopfactory/945_inter-americanproducts.txt")
    advice: WarehouseShippingAdvice = doc.content
    assert advice.depositor_order_number == "" and advice.shipment_id == "2144"
    assert doc.key.business_number == "2144"
    assert (doc.key.group_control, doc.key.transaction_control) == ("21", "0003100001")
    assert advice.date.value == date(2002, 9, 16)
    assert [
        (
            line.lx,
            line.status,
            line.quantity_ordered.value,
            line.quantity_shipped.value,
            line.id("IN"),
            line.lot,
        )
        for line in advice.lines
    ] == [
        ("1", "CL", 120, 120, "339408", "19284"),
        ("2", "CL", 400, 400, "100021", "82943"),
        ("3", "CL", 400, 400, "133848", "930345"),
    ]
    assert advice.lines[0].references[0].description == "TEST ITEM1"
    assert (advice.totals.units_shipped.value, advice.totals.weight.value) == (920, 46600)
    assert advice.carriers[0].scac == "NA"
    assert {i.code for i in doc.issues} == {"gs_extra_elements", "ge_control"}
    assert any("GE02 '31' differs from GS06 '21'" in w for w in doc.to_payload()["warnings"])


# --------------------------------------------------------------------- cut and corrupted copies
@pytest.mark.parametrize("relative", sorted(RECEIVED_FILES))
def test_every_cut_before_the_last_iea_is_refused_as_truncated(relative):
    data = x12_path(relative).read_bytes()
    last_iea = data.rindex(b"IEA")
    isa_end = data.index(b"GS")
    cuts = sorted({*range(isa_end, last_iea, 5), *range(max(isa_end, last_iea - 30), last_iea)})
    for cut in cuts:
        with pytest.raises(X12Error) as caught:
            parse_file(data[:cut], source=relative)
        assert caught.value.code == "truncated", (cut, str(caught.value))
        assert "truncated" in caught.value.message


def test_corrupted_copies_raise_x12error_or_read():
    rng = random.Random(20240305)
    files = sorted(RECEIVED_FILES)
    outcomes = collections.Counter()
    for trial in range(1500):
        data = bytearray(x12_path(files[trial % len(files)]).read_bytes())
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.choice(b"*~|:>\n\r ABC019\x00\xff^")
        try:
            parse_file(bytes(data), source="corrupted.edi", strict=rng.random() < 0.5)
            outcomes["read"] += 1
        except X12Error as error:
            outcomes[error.code] += 1
            assert "corrupted.edi" in str(error) and "What to do:" in str(error)
    assert outcomes["read"] < 1500 and len(outcomes) > 5
