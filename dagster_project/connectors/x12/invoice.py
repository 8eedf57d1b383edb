"""810 Invoice: what a supplier bills us.

Header: BIG (invoice date, invoice number — the business number —, PO date, PO
number, release, change sequence, transaction type, purpose), CUR, REF, N1
parties, ITD terms (several allowed: ``x12.810a.edi`` sends five), DTM, and SAC
charges before the first line.

One :class:`InvoiceLine` per IT1 loop: line id (often empty), quantity, unit,
unit price (R), price basis, ID pairs, and what follows it: PID, REF, SAC,
TXI, CTP, DTM, N1 parties.

Summary (from TDS on): TDS amounts are N2 — implied two decimals (``5635800``
is 56,358.00; see :func:`values.implied`) —, TXI taxes, AMT amounts, CAD carrier, SAC
allowances/charges of the whole invoice, ISS, CTT. SAC05 (amount) and ITD08
(discount amount) are N2 as well; percentages and TXI amounts are R.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster_project.connectors.x12.document import (
    Amount,
    DateRef,
    ItemId,
    Party,
    PartyLoop,
    Reference,
    amount,
    date_ref,
    find_id,
    item_ids,
    reference,
    require,
)
from dagster_project.connectors.x12.envelope import TransactionSet
from dagster_project.connectors.x12.segments import Segment
from dagster_project.connectors.x12.values import Day, Num, day, implied, num

CODE = "810"


@dataclass(slots=True)
class Terms:
    """ITD: terms type, basis date code, discount %, discount due date/days, net due
    date/days, discount amount (N2), description."""

    terms_type: str
    basis_date_code: str
    discount_percent: Num | None
    discount_due_date: Day | None
    discount_days: Num | None
    net_due_date: Day | None
    net_days: Num | None
    discount_amount: Num | None
    description: str


@dataclass(slots=True)
class AllowanceCharge:
    """SAC: ``A`` allowance / ``C`` charge / ``N`` neither, code, amount (N2), percent
    qualifier and percent, rate, unit, quantity, handling code, description."""

    indicator: str
    code: str
    amount: Num | None
    percent_qualifier: str
    percent: Num | None
    rate: Num | None
    unit: str
    quantity: Num | None
    handling_code: str
    description: str


@dataclass(slots=True)
class Tax:
    """TXI: tax type, amount (R), percent, jurisdiction qualifier and code, exemption code."""

    tax_type: str
    amount: Num | None
    percent: Num | None
    jurisdiction_qualifier: str
    jurisdiction_code: str
    exempt_code: str


@dataclass(slots=True)
class InvoiceLine:
    line_id: str
    quantity: Num | None
    unit: str
    unit_price: Num | None
    price_basis: str
    ids: list[ItemId]
    descriptions: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)
    taxes: list[Tax] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)

    def id(self, *qualifiers: str) -> str | None:
        return find_id(self.ids, *qualifiers)


@dataclass(slots=True)
class Invoice:
    invoice_date: Day | None
    invoice_number: str
    po_date: Day | None
    po_number: str
    release_number: str
    change_sequence: str
    transaction_type: str
    purpose: str
    currency: str = ""
    references: list[Reference] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    terms: list[Terms] = field(default_factory=list)
    dates: list[DateRef] = field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)
    lines: list[InvoiceLine] = field(default_factory=list)
    total_amount: Num | None = None
    amount_subject_to_discount: Num | None = None
    discounted_amount: Num | None = None
    terms_discount_amount: Num | None = None
    taxes: list[Tax] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    carrier_scac: str = ""
    carrier_routing: str = ""
    line_count: Num | None = None
    hash_total: Num | None = None

    @property
    def business_number(self) -> str:
        return self.invoice_number


def parse(transaction: TransactionSet) -> Invoice:
    """The invoice in an 810 transaction set."""
    big = require(transaction, "BIG", "invoice number (BIG)")
    doc = Invoice(
        day(big[1]),
        big.value(2),
        day(big[3]),
        big.value(4),
        big.value(5),
        big.value(6),
        big.value(7),
        big.value(8),
    )
    parties = PartyLoop()
    line: InvoiceLine | None = None
    summary = False
    for seg in transaction.body:
        sid = seg.id
        if sid == "IT1" and not summary:
            parties.close()
            line = InvoiceLine(
                seg.value(1), num(seg[2]), seg.value(3), num(seg[4]), seg.value(5), item_ids(seg, 6)
            )
            doc.lines.append(line)
        elif sid == "TDS":
            parties.close()
            summary, line = True, None
            doc.total_amount, doc.amount_subject_to_discount = implied(seg[1]), implied(seg[2])
            doc.discounted_amount, doc.terms_discount_amount = implied(seg[3]), implied(seg[4])
        elif summary:
            if sid == "SAC":
                doc.allowances_charges.append(_sac(seg))
            elif sid == "TXI":
                doc.taxes.append(_txi(seg))
            elif sid == "CAD":
                doc.carrier_scac, doc.carrier_routing = seg.value(4), seg.value(5)
            elif sid == "AMT":
                doc.amounts.append(amount(seg))
            elif sid == "CTT":
                doc.line_count, doc.hash_total = num(seg[1]), num(seg[2])
        elif parties.take(seg, doc.parties if line is None else line.parties):
            continue
        elif line is None:
            _header(doc, seg)
        elif sid == "PID":
            if seg.value(5):
                line.descriptions.append(seg.value(5))
        elif sid == "REF":
            line.references.append(reference(seg))
        elif sid == "SAC":
            line.allowances_charges.append(_sac(seg))
        elif sid == "TXI":
            line.taxes.append(_txi(seg))
        elif sid == "DTM":
            line.dates.append(date_ref(seg))
    return doc


def _header(doc: Invoice, seg: Segment) -> None:
    sid = seg.id
    if sid == "CUR":
        doc.currency = seg.value(2)
    elif sid == "REF":
        doc.references.append(reference(seg))
    elif sid == "ITD":
        doc.terms.append(
            Terms(
                terms_type=seg.value(1),
                basis_date_code=seg.value(2),
                discount_percent=num(seg[3]),
                discount_due_date=day(seg[4]),
                discount_days=num(seg[5]),
                net_due_date=day(seg[6]),
                net_days=num(seg[7]),
                discount_amount=implied(seg[8]),
                description=seg.value(12),
            )
        )
    elif sid == "DTM":
        doc.dates.append(date_ref(seg))
    elif sid == "SAC":
        doc.allowances_charges.append(_sac(seg))
    elif sid == "CAD":
        doc.carrier_scac, doc.carrier_routing = seg.value(4), seg.value(5)


def _sac(seg: Segment) -> AllowanceCharge:
    return AllowanceCharge(
        indicator=seg.value(1),
        code=seg.value(2),
        amount=implied(seg[5]),
        percent_qualifier=seg.value(6),
        percent=num(seg[7]),
        rate=num(seg[8]),
        unit=seg.value(9),
        quantity=num(seg[10]),
        handling_code=seg.value(12),
        description=seg.value(15),
    )


def _txi(seg: Segment) -> Tax:
    return Tax(seg.value(1), num(seg[2]), num(seg[3]), seg.value(4), seg.value(5), seg.value(6))
