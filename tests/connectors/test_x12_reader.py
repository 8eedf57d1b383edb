"""The X12 reader on small made-up interchanges: every error names what and where,
every tolerance is recorded, truncation and corruption are caught."""

from __future__ import annotations

import pytest

from dagster_project.connectors.x12 import (
    LINE_BREAK,
    Severity,
    X12Error,
    parse_file,
    read_interchanges,
)
from tests.connectors.x12_samples import ASN


def read(text: str, **kwargs):
    return read_interchanges(text.encode("utf-8"), source="asn.edi", **kwargs)


def error_of(text: str, **kwargs) -> X12Error:
    with pytest.raises(X12Error) as caught:
        read(text, **kwargs)
    return caught.value


def test_the_sample_is_valid():
    (ic,) = read(ASN)
    assert ic.all_issues() == []
    (transaction,) = ic.groups[0].transactions
    assert [s.id for s in transaction.segments] == [
        "ST",
        "BSN",
        "HL",
        "HL",
        "PRF",
        "HL",
        "LIN",
        "SN1",
        "SE",
    ]
    assert transaction.segments[-1].position == 11 and transaction.segments[-1].line == 11


# --------------------------------------------------------------------- truncation
@pytest.mark.parametrize(
    ("cut_at", "expected"),
    [
        ("*ZZ*DISTROHUB", "is truncated: it ends inside the ISA segment (found 5 of 16 elements)"),
        ("GS*SH", "the file is truncated: it ends right after the ISA segment"),
        (
            "SN1**5*EA~",
            "transaction set 856 ST02='0001' has no SE; group GS06='42' has no GE; "
            "interchange ISA13='000000042' has no IEA",
        ),
        ("GE*1*42", "group GS06='42' has no GE; interchange ISA13='000000042' has no IEA"),
        ("IEA*1", "interchange ISA13='000000042' has no IEA"),
    ],
)
def test_a_truncated_file_names_what_is_missing(cut_at, expected):
    text = ASN[: ASN.index(cut_at) + (len(cut_at) if cut_at.endswith("~") else 0)]
    error = error_of(text)
    assert error.code == "truncated"
    assert expected in error.message
    assert "asn.edi" in str(error) and "resend" in error.action


def test_a_segment_cut_mid_way_is_reported_with_its_text():
    error = error_of(ASN[: ASN.index("SN1**5") + 5])
    assert "ends after segment 10 ('SN1**'" in error.message
    assert error.transaction_control == "0001" and error.segment_position == 10


def test_a_transaction_without_se_before_the_ge():
    error = error_of(ASN.replace("SE*9*0001~\n", ""), strict=False)
    assert error.code == "missing_se"
    assert (
        "transaction set 856 ST02='0001' (begun at segment 3, line 3) has no SE trailer: "
        "GE follows its segment 8" in error.message
    )
    assert (error.group_control, error.transaction_control) == ("42", "0001")


def test_a_group_without_ge():
    error = error_of(ASN.replace("GE*1*42~\n", ""), strict=False)
    assert error.code == "missing_ge" and "has no GE trailer before the IEA" in error.message


# --------------------------------------------------------------------- counts and controls
def test_wrong_segment_count_is_an_error_with_its_location():
    text = ASN.replace("SE*9*0001", "SE*8*0001")
    error = error_of(text)
    assert error.code == "se_count"
    assert error.message.startswith("SE01 says 8 segments but the transaction set has 9")
    text_of_error = str(error)
    for part in (
        "file asn.edi",
        "interchange ISA13='000000042'",
        "group GS06='42'",
        "transaction set 856 ST02='0001'",
        "segment 11 (SE) on line 11",
        "What to do:",
    ):
        assert part in text_of_error
    (ic,) = read(text, strict=False)
    (transaction,) = ic.groups[0].transactions
    assert not transaction.accepted and ic.groups[0].accepted_transactions() == []
    ((_, _, rejected),) = parse_file(text, strict=False).rejected
    assert rejected.control_number == "0001" and rejected.issues[0].code == "se_count"


def test_more_errors_are_counted_in_the_message():
    text = ASN.replace("SE*9*0001", "SE*8*0002")
    error = error_of(text)
    assert "(and 1 more error(s) in this file)" in error.message
    assert {i.code for i in error.issues} == {"se_count", "se_control"}


def test_trailer_control_number_mismatch():
    assert error_of(ASN.replace("SE*9*0001", "SE*9*0002")).code == "se_control"
    (ic,) = read(ASN.replace("SE*9*0001", "SE*9*1"))
    assert [i.code for i in ic.all_issues()] == ["se_control_format"]
    assert ic.groups[0].transactions[0].accepted


def test_group_count_is_an_error_group_control_a_warning():
    error = error_of(ASN.replace("GE*1*42", "GE*2*42"))
    assert error.code == "ge_count" and "GE01 says '2' transaction sets" in error.message
    (ic,) = read(ASN.replace("GE*1*42", "GE*1*43"))
    (issue,) = ic.all_issues()
    assert (issue.code, issue.severity) == ("ge_control", Severity.WARNING)
    assert ic.groups[0].accepted


def test_interchange_count_is_an_error_control_a_warning():
    assert error_of(ASN.replace("IEA*1*", "IEA*2*")).code == "iea_count"
    (ic,) = read(ASN.replace("IEA*1*000000042", "IEA*1*42"))
    assert [(i.code, i.severity) for i in ic.issues] == [("iea_control_format", Severity.WARNING)]
    (ic,) = read(ASN.replace("IEA*1*000000042", "IEA*1*000000099"))
    assert [i.code for i in ic.issues] == ["iea_control"]


# --------------------------------------------------------------------- corruption
def test_not_x12_at_all():
    assert error_of("hello world").code == "no_isa"
    assert error_of("").code == "empty"
    assert error_of("\ufeff  \r\n").code == "empty"
    assert error_of("ISAX00*").code == "isa_invalid"


def test_data_after_the_last_iea():
    error = error_of(ASN + "garbage")
    assert error.code == "no_isa" and "after the last IEA" in error.message


def test_a_corrupted_segment_id():
    error = error_of(ASN.replace("PRF*PO123", "P\x00F*PO123"))
    assert error.code == "bad_segment"
    assert "is not a segment ID" in error.message and error.segment_position == 7


def test_a_terminator_other_than_the_isa_declares_is_caught():
    isa_end = ASN.index("GS*")
    error = error_of(ASN[:isa_end] + ASN[isa_end:].replace("~\n", "|"))
    assert error.code == "truncated"
    assert "ends after segment 2 ('GS*SH*SUPPLIER*DISTROHUB*20240102*0304*42*X*004010'" in str(
        error
    )
    assert "that last segment has no terminator '~'" in error.message


def test_a_fused_envelope_segment_is_split_and_reported():
    (ic,) = read(ASN.replace("004010~\nST", "004010\nST"))
    assert ic.groups[0].version == "004010"
    assert [i.code for i in ic.issues] == ["missing_terminator"]


def test_st_outside_a_group_and_stray_segments():
    no_gs = ASN.replace("GS*SH*SUPPLIER*DISTROHUB*20240102*0304*42*X*004010~\n", "")
    assert error_of(no_gs).code == "st_outside_group"
    stray = ASN.replace("ST*856", "REF*ZZ*X~\nST*856")
    error = error_of(stray)
    assert error.code == "stray_segment" and "segment REF appears inside group" in error.message


def test_document_errors_name_the_transaction():
    broken = ASN.replace("HL*3*2*I", "HL*3*9*I")
    with pytest.raises(X12Error) as caught:
        parse_file(broken, source="asn.edi")
    assert caught.value.code == "hl_parent"
    assert "HL '3' names parent '9'" in caught.value.message
    assert caught.value.transaction_control == "0001" and caught.value.segment_position == 8
    no_bsn = ASN.replace("BSN*00*SHIP1*20240102*0304~\n", "").replace("SE*9", "SE*8")
    with pytest.raises(X12Error, match="has no BSN segment"):
        parse_file(no_bsn)


# --------------------------------------------------------------------- tolerances
def test_bom_indentation_crlf_and_latin1():
    text = ASN.replace("\n", "\r\n\t  ").replace("SUPPLIER*DIS", "SUPPLI\xe9R*DIS")
    (ic,) = read_interchanges(b"\xef\xbb\xbf" + text.encode("latin-1"))
    assert ic.groups[0].sender == "SUPPLI\xe9R"


def test_line_break_terminators_cr_lf_or_crlf():
    for line_break in ("\n", "\r\n", "\r"):
        (ic,) = read(ASN.replace("~\n", line_break))
        assert ic.delimiters.segment == LINE_BREAK
        assert ic.groups[0].transactions[0].segments[-1].elements == ("SE", "9", "0001")


def test_isa16_absent_with_line_breaks():
    text = ASN.replace("*P*>~\n", "*P*\n", 1).replace("~\n", "\n")
    (ic,) = read(text)
    assert ic.delimiters.segment == LINE_BREAK and ic.delimiters.component == ">"
    assert ic.isa[16] == "" and [i.code for i in ic.issues] == ["isa16_missing"]


def test_isa16_absent_without_line_breaks():
    text = ASN.replace("*P*>~\n", "*P*~", 1).replace("~\n", "~")
    (ic,) = read(text)
    assert ic.delimiters.segment == "~" and [i.code for i in ic.issues] == ["isa16_missing"]


def test_gs_with_extra_elements_is_read_from_the_end():
    (ic,) = read(ASN.replace("GS*SH*SUPPLIER*DISTROHUB", "GS*SH*SUPPLIER**000*DISTROHUB"))
    group = ic.groups[0]
    assert (group.sender, group.receiver, group.control_number, group.version) == (
        "SUPPLIER",
        "DISTROHUB",
        "42",
        "004010",
    )
    assert [i.code for i in group.issues] == ["gs_extra_elements"]


def test_ta1_between_envelopes_and_two_interchanges_with_their_own_delimiters():
    second = (
        ASN.replace("*", "|")
        .replace("~\n", "\n")
        .replace("|>\n", "|:\n", 1)
        .replace("000000042", "000000043")
    )
    with_ta1 = ASN.replace("GS*SH", "TA1*000000041*240102*0304*A*000~\nGS*SH")
    first, other = read(with_ta1 + second)
    assert [s.id for s in first.extra] == ["TA1"]
    assert (other.delimiters.element, other.delimiters.component, other.delimiters.segment) == (
        "|",
        ":",
        LINE_BREAK,
    )
    assert other.control_number == "000000043"
    assert other.isa.position == 15  # 14 segments in the first interchange


def test_an_empty_segment_is_skipped_with_a_warning():
    (ic,) = read(ASN.replace("PRF*PO123~", "PRF*PO123~~"))
    assert [i.code for i in ic.issues] == ["empty_segment"] and ic.accepted


def test_trailing_padding_nul_and_sub():
    (ic,) = read(ASN + "   \x00\x1a\n")
    assert ic.accepted


@pytest.mark.parametrize("width", [50, 60, 80, 104, 105])
def test_wrapped_file_is_unwrapped(width):
    flat = ASN.replace("\n", "")
    wrapped = "\r\n".join(flat[k : k + width] for k in range(0, len(flat), width))
    (ic,) = read(wrapped)
    assert ic.delimiters.component == ">" and ic.delimiters.segment == "~"
    assert ic.groups[0].transactions[0].segments[1].elements == (
        "BSN",
        "00",
        "SHIP1",
        "20240102",
        "0304",
    )
