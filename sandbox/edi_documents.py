"""X12 transaction set bodies the sandbox sends (846, 855, 856, 810, 945)
and reads (850, 940).

Quantities are in base units ("EA"); prices carry an explicit decimal point
(IT1/PO1 unit prices) and TDS01 is an implied-two-decimal amount, as the X12
N2 rule says. Our SKU travels with qualifier ``SK`` (buyer's item number),
the supplier's part with ``VP``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.x12_envelope import TransactionSet, X12FormatError, transaction_sets


def d8(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d")


def t4(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H%M")


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else "-" + money(-cents)


@dataclass(slots=True)
class EdiLine:
    line_no: int
    sku: str
    vendor_part: str
    quantity: int
    unit_cents: int = 0
    description: str = ""
    ack_code: str = "IA"
    ack_quantity: int = 0
    ordered: int = 0


@dataclass(slots=True)
class Party:
    code: str
    name: str
    line1: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


def _n1(qualifier: str, p: Party, with_address: bool = False) -> list[list[str]]:
    segs = [["N1", qualifier, p.name, "92", p.code] if p.code else ["N1", qualifier, p.name]]
    if with_address and p.line1:
        segs.append(["N3", p.line1])
        segs.append(["N4", p.city, p.region, p.postal_code, p.country])
    return segs


def ts_846(ref: str, at: int, supplier: Party, lines: list[EdiLine]) -> TransactionSet:
    """Inventory inquiry/advice: QTY*33 (available for sale) per item."""
    segs: list[list[str]] = [["BIA", "00", "MM", ref, d8(at), t4(at)], ["DTM", "405", d8(at)]]
    segs += _n1("SU", supplier)
    for ln in lines:
        segs.append(["LIN", str(ln.line_no), "SK", ln.sku, "VP", ln.vendor_part])
        segs.append(["QTY", "33", str(ln.quantity), "EA"])
    segs.append(["CTT", str(len(lines))])
    return TransactionSet("846", segs)


def ts_855(
    po_number: str, po_date: int, at: int, ship_to: Party, lines: list[EdiLine], vendor_order: str
) -> TransactionSet:
    """Purchase order acknowledgment, line detail with ACK (IA accepted, IQ
    quantity changed, IB backordered, IR rejected)."""
    changed = any(ln.ack_code != "IA" for ln in lines)
    segs: list[list[str]] = [
        ["BAK", "00", "AC" if changed else "AD", po_number, d8(po_date), "", "", "", "", d8(at)],
        ["REF", "VN", vendor_order],
    ]
    segs += _n1("ST", ship_to)
    for ln in lines:
        segs.append(
            [
                "PO1",
                str(ln.line_no),
                str(ln.ordered),
                "EA",
                money(ln.unit_cents),
                "",
                "SK",
                ln.sku,
                "VP",
                ln.vendor_part,
            ]
        )
        segs.append(["ACK", ln.ack_code, str(ln.ack_quantity), "EA", "068", d8(at)])
    segs.append(["CTT", str(len(lines))])
    return TransactionSet("855", segs)


@dataclass(slots=True)
class AsnInfo:
    asn_id: str
    po_number: str
    po_date: int
    shipped_at: int
    arrive_at: int
    carrier_scac: str
    carrier_name: str
    tracking: str
    weight_lb: int
    ship_to: Party
    ship_from: Party
    lines: list[EdiLine] = field(default_factory=list)
    with_pack_level: bool = False
    sscc: str = ""


def ts_856(a: AsnInfo) -> TransactionSet:
    """Ship notice: HL shipment > order > (pack >) items, SN1 per item."""
    segs: list[list[str]] = [["BSN", "00", a.asn_id, d8(a.shipped_at), t4(a.shipped_at), "0001"]]
    segs.append(["HL", "1", "", "S"])
    segs.append(
        ["TD1", "CTN25", str(max(1, len(a.lines))), "", "", "", "G", str(a.weight_lb), "LB"]
    )
    segs.append(["TD5", "", "2", a.carrier_scac, "M", a.carrier_name])
    segs.append(["REF", "BM", f"BOL{a.asn_id}"])
    segs.append(["REF", "CN", a.tracking])
    segs.append(["DTM", "011", d8(a.shipped_at), t4(a.shipped_at)])
    segs.append(["DTM", "017", d8(a.arrive_at)])
    segs += _n1("ST", a.ship_to, with_address=True)
    segs += _n1("SF", a.ship_from)
    segs.append(["HL", "2", "1", "O"])
    segs.append(["PRF", a.po_number, "", "", d8(a.po_date)])
    hl = 2
    parent = 2
    if a.with_pack_level:
        hl += 1
        segs.append(["HL", str(hl), "2", "P"])
        segs.append(["MAN", "GM", a.sscc])
        parent = hl
    for ln in a.lines:
        hl += 1
        segs.append(["HL", str(hl), str(parent), "I"])
        segs.append(["LIN", str(ln.line_no), "SK", ln.sku, "VP", ln.vendor_part])
        segs.append(["SN1", str(ln.line_no), str(ln.quantity), "EA", "", str(ln.ordered), "EA"])
    segs.append(["CTT", str(hl)])
    return TransactionSet("856", segs)


def ts_810(
    invoice_no: str,
    at: int,
    po_number: str,
    po_date: int,
    shipped_at: int,
    remit_to: Party,
    ship_to: Party,
    lines: list[EdiLine],
    net_days: int,
    discount_percent: str = "",
    discount_days: int = 0,
    currency: str = "USD",
) -> TransactionSet:
    """Invoice: IT1 per line (explicit decimal unit price), TDS01 total in
    implied cents."""
    segs: list[list[str]] = [
        ["BIG", d8(at), invoice_no, d8(po_date), po_number],
        ["CUR", "SE", currency],
    ]
    segs += _n1("RE", remit_to)
    segs += _n1("ST", ship_to)
    segs.append(
        [
            "ITD",
            "01" if not discount_percent else "08",
            "3",
            discount_percent,
            "",
            str(discount_days) if discount_days else "",
            "",
            str(net_days),
        ]
    )
    segs.append(["DTM", "011", d8(shipped_at)])
    total = 0
    for ln in lines:
        segs.append(
            [
                "IT1",
                str(ln.line_no),
                str(ln.quantity),
                "EA",
                money(ln.unit_cents),
                "",
                "SK",
                ln.sku,
                "VP",
                ln.vendor_part,
            ]
        )
        if ln.description:
            segs.append(["PID", "F", "", "", "", ln.description[:80]])
        total += ln.quantity * ln.unit_cents
    segs.append(["TDS", str(total)])
    segs.append(["CTT", str(len(lines))])
    return TransactionSet("810", segs)


def ts_945(
    order_no: str,
    shipment_id: str,
    at: int,
    ship_to: Party,
    warehouse: Party,
    scac: str,
    tracking: str,
    lines: list[EdiLine],
    weight_lb: int,
) -> TransactionSet:
    """Warehouse shipping advice answering a 940: W12 per line with ordered,
    shipped and difference."""
    segs: list[list[str]] = [["W06", "N", order_no, d8(at), shipment_id, tracking]]
    segs += _n1("ST", ship_to, with_address=True)
    segs += _n1("WH", warehouse)
    segs.append(["G62", "11", d8(at), "8", t4(at)])
    segs.append(["W27", "M", scac, "GROUND"])
    shipped_total = 0
    for ln in lines:
        segs.append(["LX", str(ln.line_no)])
        status = "CC" if ln.quantity >= ln.ordered else "CP"
        segs.append(
            [
                "W12",
                status,
                str(ln.ordered),
                str(ln.quantity),
                str(ln.ordered - ln.quantity),
                "EA",
                "",
                "SK",
                ln.sku,
            ]
        )
        shipped_total += ln.quantity
    segs.append(["W03", str(shipped_total), str(weight_lb), "LB"])
    return TransactionSet("945", segs)


# ---------------------------------------------------------------------------
# reading what the hub sends


@dataclass(slots=True)
class InboundLine:
    line_no: str
    sku: str
    quantity: int
    unit: str
    unit_price: str


@dataclass(slots=True)
class InboundOrder:
    """An 850 purchase order or a 940 shipping order, as far as the sandbox needs."""

    code: str  # "850" or "940"
    number: str
    purpose: str
    order_date: str
    ship_to_code: str
    ship_to: dict[str, str]
    lines: list[InboundLine]
    carrier: str = ""
    reference: str = ""


def _product_id(elements: list[str], start: int) -> str:
    """The SKU among qualifier/value pairs from ``start``: SK preferred, then
    VN/BP/IN/VP, else the first value."""
    pairs = [(elements[i], elements[i + 1]) for i in range(start, len(elements) - 1, 2)]
    for wanted in ("SK", "VN", "BP", "IN", "VP", "UP"):
        for q, v in pairs:
            if q == wanted and v:
                return v.strip()
    return pairs[0][1].strip() if pairs else ""


def read_orders(text: str) -> list[InboundOrder]:
    """The 850s and 940s in an X12 file. Raises `X12FormatError` when the
    envelope is broken or a set is neither."""
    out: list[InboundOrder] = []
    for ts in transaction_sets(text):
        if ts.code not in ("850", "940"):
            raise X12FormatError(f"expected 850 or 940, got transaction set {ts.code}")
        order = InboundOrder(ts.code, "", "", "", "", {}, [])
        in_st = False
        for s in ts.segments:
            tag = s[0]
            el = s + [""] * 12
            if tag == "BEG":
                order.purpose, order.number, order.order_date = el[2], el[3], el[5]
            elif tag == "W05":
                order.purpose, order.number, order.reference = el[1], el[2], el[3]
            elif tag == "G62" and not order.order_date:
                order.order_date = el[2]
            elif tag == "N1":
                in_st = el[1] == "ST"
                if in_st:
                    order.ship_to["name"] = el[2]
                    order.ship_to_code = el[4] if el[3] else ""
            elif tag == "N3" and in_st:
                order.ship_to["line1"] = el[1]
            elif tag == "N4" and in_st:
                order.ship_to.update(city=el[1], region=el[2], postal_code=el[3], country=el[4])
            elif tag in ("TD5", "W66"):
                order.carrier = el[3] if tag == "TD5" else el[5]
            elif tag == "PO1":
                order.lines.append(
                    InboundLine(el[1], _product_id(s, 6), _int(el[2], tag), el[3], el[4])
                )
            elif tag == "W01":
                sku = _product_id(s, 4) or el[3]
                order.lines.append(
                    InboundLine(str(len(order.lines) + 1), sku, _int(el[1], tag), el[2], "")
                )
        if not order.number:
            raise X12FormatError(f"{ts.code} set {ts.control} has no order number (BEG03/W0502)")
        out.append(order)
    return out


def _int(value: str, tag: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        raise X12FormatError(f"{tag}: quantity {value!r} is not a number") from None
