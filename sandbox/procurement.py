"""Suppliers over simulated time: purchase orders in (world POs and 850s from
the hub's outbox), 855 acknowledgments, 856 ship notices, 810 invoices and
846 availability out, written in each supplier's own X12 dialect and batching
(`EdiProfile.transactions_per_group`, `groups_per_interchange`).

Timing: 855 two hours after a PO arrives; ship on the expected date minus a
day (drop-ship: the next day); 810 two hours after shipping; receipt at the
ship-to location on the expected date; 846 for drop-ship items daily at
05:00 UTC. A drop-ship PO (ship-to not one of our locations) ships straight
to the customer with a carrier tracker.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox.edi_documents import (
    AsnInfo,
    EdiLine,
    Party,
    read_orders,
    ts_810,
    ts_846,
    ts_855,
    ts_856,
)
from sandbox.ids import hex_id
from sandbox.records import PoLine, PurchaseOrderRec, ShipmentLine
from sandbox.warehouse import queues
from sandbox.world import HUB_EDI, Supplier
from sandbox.x12_envelope import TransactionSet, X12FormatError, build_interchange

if TYPE_CHECKING:
    from sandbox.simulation import Simulation

EXTENSIONS = {"ACME": "edi", "BOREAL": "x12", "CASCADE": "txt"}
SUPPLIER_CARRIER = {
    "ACME": ("UPSN", "UPS Ground"),
    "BOREAL": ("ODFL", "Old Dominion Freight"),
    "CASCADE": ("FDEG", "FedEx Ground"),
}


@dataclass
class ProcurementQueues:
    """Due times of acknowledgments, shipments and invoices; documents waiting
    to be batched into files."""

    ack: list[tuple[int, str]] = field(default_factory=list)
    ship: list[tuple[int, str]] = field(default_factory=list)
    invoice: list[tuple[int, str]] = field(default_factory=list)
    pending: dict[str, list[TransactionSet]] = field(default_factory=dict)


def _state(sim: Simulation) -> ProcurementQueues:
    return sim.procurement


def _loc_party(sim: Simulation, code: str | None, ship_to: dict[str, Any]) -> Party:
    if code and code in sim.locations:
        loc = sim.locations[code]
        a = loc.address
        return Party(code, loc.name, a.line1, a.city, a.region, a.postal_code, a.country)
    return Party(
        "",
        ship_to.get("name", ""),
        ship_to.get("line1", ""),
        ship_to.get("city", ""),
        ship_to.get("region", ""),
        ship_to.get("postal_code", ""),
        ship_to.get("country", ""),
    )


def load_world_purchase_orders(sim: Simulation) -> None:
    st = _state(sim)
    for po in sim.world.open_purchase_orders:
        ordered = int(po.order_date.timestamp())
        arrive = int(po.expected_date.timestamp())
        rec = PurchaseOrderRec(
            number=po.number,
            supplier=po.supplier,
            location=po.location,
            ship_to={},
            lines=[
                PoLine(
                    ln.line_no,
                    ln.sku,
                    sim.sku_index[ln.sku],
                    ln.quantity,
                    int(ln.unit_cost * 100),
                    acked=ln.quantity,
                )
                for ln in po.lines
            ],
            ordered_at=ordered,
            ack_at=ordered + 2 * 3600,
            ship_at=arrive - 86400,
            arrive_at=arrive,
            source="world",
            state="acknowledged",
        )
        sim.purchase_orders[po.number] = rec
        if po.state == "shipped":
            _mark_shipped(sim, rec, rec.ship_at)
        else:
            heapq.heappush(st.ship, (rec.ship_at, po.number))


def _mark_shipped(sim: Simulation, po: PurchaseOrderRec, at: int) -> None:
    for ln in po.lines:
        ln.shipped = ln.acked
    po.asn_id = f"ASN-{po.supplier}-{po.number.removeprefix('PO-')}"
    po.state = "shipped"
    if po.location:
        queues(sim, po.location).inbound.append((po.arrive_at, po.number))
    heapq.heappush(_state(sim).invoice, (at + 2 * 3600, po.number))


def opening_documents(sim: Simulation) -> None:
    """The documents partners had sent before the epoch and 846s at the epoch,
    dropped when the sandbox starts (dated when they were sent)."""
    for po in sorted(sim.purchase_orders.values(), key=lambda p: p.ordered_at):
        _queue_doc(sim, po.supplier, _855(sim, po, po.ack_at))
        if po.state == "shipped":
            _queue_doc(sim, po.supplier, _856(sim, po))
    for sup in sim.world.suppliers:
        if sup.drop_ships:
            for ts in _846(sim, sup, sim.epoch_ts, sim.epoch_ts):
                _queue_doc(sim, sup.code, ts)
    _flush(sim, sim.epoch_ts)
    _invoices_due(sim, sim.epoch_ts + 1)


def supplier_hour(sim: Simulation, t0: int, t1: int, rng) -> None:
    st = _state(sim)
    while st.ack and st.ack[0][0] < t1:
        at, number = heapq.heappop(st.ack)
        po = sim.purchase_orders[number]
        for ln in po.lines:
            if ln.ack_code == "IR":
                continue
            r = rng.random()
            if r < 0.07 and ln.quantity > 1:
                ln.ack_code, ln.acked = "IQ", ln.quantity - rng.randint(1, max(1, ln.quantity // 4))
            elif r < 0.10:
                ln.ack_code, ln.acked = "IR", 0
            else:
                ln.ack_code, ln.acked = "IA", ln.quantity
        po.state = "acknowledged"
        _queue_doc(sim, po.supplier, _855(sim, po, at))
        heapq.heappush(st.ship, (max(po.ship_at, at + 3600), number))
    while st.ship and st.ship[0][0] < t1:
        at, number = heapq.heappop(st.ship)
        po = sim.purchase_orders[number]
        if not any(ln.acked for ln in po.lines):
            po.state = "rejected"
            continue
        po.arrive_at = max(po.arrive_at, at + 3600)
        _mark_shipped(sim, po, at)
        if po.drop_ship:
            lines = [
                ShipmentLine(str(ln.line_no), ln.sku, ln.shipped, ln.quantity)
                for ln in po.lines
                if ln.shipped
            ]
            sh = sim.new_shipment(
                po.supplier,
                "supplier",
                po.order_ref or po.number,
                None,
                lines,
                at,
                po.ship_to,
                None,
                rng,
            )
            _queue_doc(sim, po.supplier, _856(sim, po, tracking=(sh.tracking_number, sh.carrier)))
        else:
            _queue_doc(sim, po.supplier, _856(sim, po))
    _invoices_due(sim, t1)
    if sim.hour % 24 == 5:
        for sup in sim.world.suppliers:
            if sup.drop_ships:
                for ts in _846(sim, sup, t0 + 5 * 60, t0, rng):
                    _queue_doc(sim, sup.code, ts)
    _flush(sim, t0 + 50 * 60)


def _invoices_due(sim: Simulation, t1: int) -> None:
    st = _state(sim)
    while st.invoice and st.invoice[0][0] < t1:
        at, number = heapq.heappop(st.invoice)
        po = sim.purchase_orders[number]
        _queue_doc(sim, po.supplier, _810(sim, po, at))
        po.invoiced = True
        po.invoice_no = f"INV-{po.supplier}-{number.replace('PO-', '')}"
        po.state = "invoiced"


def _queue_doc(sim: Simulation, supplier: str, ts: TransactionSet) -> None:
    _state(sim).pending.setdefault(supplier, []).append(ts)


def _flush(sim: Simulation, at: int) -> None:
    """Write the queued transaction sets as files, batched per the supplier's profile."""
    pending: dict[str, list[TransactionSet]] = _state(sim).pending
    for code in sorted(pending):
        sets = pending[code]
        if not sets:
            continue
        sup = sim.world.supplier(code)
        per_group = max(1, sup.edi.transactions_per_group)
        per_ic = max(1, sup.edi.groups_per_interchange)
        by_type: dict[str, list[TransactionSet]] = {}
        for ts in sets:
            by_type.setdefault(ts.code, []).append(ts)
        groups = [
            lst[i : i + per_group]
            for _, lst in sorted(by_type.items())
            for i in range(0, len(lst), per_group)
        ]
        for i in range(0, len(groups), per_ic):
            chunk = groups[i : i + per_ic]
            n_sets = sum(len(g) for g in chunk)
            ctrl = sim.x12_next(f"supplier:{code}")
            gctrl = sim.x12_next(f"supplier:{code}:gs", len(chunk))
            sctrl = sim.x12_next(f"supplier:{code}:st", n_sets)
            text = build_interchange(
                sup.edi,
                HUB_EDI,
                chunk,
                interchange_control=ctrl,
                first_group_control=gctrl,
                first_set_control=sctrl,
                at=datetime.fromtimestamp(at, UTC),
            )
            kinds = "-".join(sorted({g[0].code for g in chunk}))
            stamp = datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%S")
            name = f"{code}_{kinds}_{stamp}_{ctrl:06d}.{EXTENSIONS.get(code, 'edi')}"
            sim.add_file(f"supplier:{code}", name, text.encode(), kinds, at)
        pending[code] = []


def _edi_lines(
    sim: Simulation, po: PurchaseOrderRec, qty_of, price_bump: dict[str, int] | None = None
) -> list[EdiLine]:
    out = []
    for ln in po.lines:
        item = sim.items[ln.item] if ln.item >= 0 else None
        out.append(
            EdiLine(
                ln.line_no,
                ln.sku,
                item.supplier_part if item else "",
                qty_of(ln),
                ln.unit_cost_cents + (price_bump or {}).get(ln.sku, 0),
                item.name if item else "",
                ln.ack_code,
                ln.acked,
                ln.quantity,
            )
        )
    return out


def _855(sim: Simulation, po: PurchaseOrderRec, at: int) -> TransactionSet:
    return ts_855(
        po.number,
        po.ordered_at,
        at,
        _loc_party(sim, po.location, po.ship_to),
        _edi_lines(sim, po, lambda ln: ln.acked),
        f"SO-{po.supplier}-{po.number[-6:]}",
    )


def _856(
    sim: Simulation, po: PurchaseOrderRec, tracking: tuple[str, str] | None = None
) -> TransactionSet:
    sup = sim.world.supplier(po.supplier)
    scac, carrier = SUPPLIER_CARRIER.get(po.supplier, ("UPSN", "UPS Ground"))
    digits = int(hex_id(sim.seed, "pro", po.number, length=12), 16)
    code = tracking[0] if tracking else f"PRO{digits % 10**9:09d}"
    lines = [ln for ln in _edi_lines(sim, po, lambda ln: ln.shipped) if ln.quantity]
    weight = (
        sum(sim.items[ln.item].weight_grams * ln.shipped for ln in po.lines if ln.item >= 0) // 454
        + 1
    )
    info = AsnInfo(
        po.asn_id or "",
        po.number,
        po.ordered_at,
        po.ship_at,
        po.arrive_at,
        scac,
        carrier,
        code,
        weight,
        _loc_party(sim, po.location, po.ship_to),
        Party(sup.code, sup.name),
        lines,
        with_pack_level=sup.code == "CASCADE",
        sscc=f"00{digits % 10**17:017d}7",
    )
    return ts_856(info)


def _810(sim: Simulation, po: PurchaseOrderRec, at: int) -> TransactionSet:
    sup = sim.world.supplier(po.supplier)
    term = next(t for t in sim.world.payment_terms if t.code == sup.payment_term)
    bump: dict[str, int] = {}
    for d in sim.world.discrepancies:
        if d.kind == "invoice_po_mismatch" and d.key == po.number:
            bump[d.detail["sku"]] = 50
    lines = [ln for ln in _edi_lines(sim, po, lambda ln: ln.shipped, bump) if ln.quantity]
    pct = str(term.discount_percent) if term.discount_percent else ""
    return ts_810(
        f"INV-{po.supplier}-{po.number.replace('PO-', '')}",
        at,
        po.number,
        po.ordered_at,
        po.ship_at,
        Party(sup.code, sup.name),
        _loc_party(sim, po.location, po.ship_to),
        lines,
        term.net_days,
        pct,
        term.discount_days,
        sup.currency,
    )


def _846(sim: Simulation, sup: Supplier, at: int, t0: int, rng=None) -> list[TransactionSet]:
    items = [i for i, it in enumerate(sim.items) if it.drop_ship_supplier == sup.code]
    sets = []
    for start in range(0, len(items), 500):
        lines = []
        for n, i in enumerate(items[start : start + 500], start=1):
            key = (sup.code, i)
            cur = sim.availability.get(key)
            if cur is None:
                cur = (i * 37 + sim.seed * 11) % 400
            elif rng is not None:
                cur = max(0, cur + rng.randint(-30, 25))
            sim.availability[key] = cur
            lines.append(EdiLine(n, sim.items[i].sku, sim.items[i].supplier_part, cur))
        ref = f"AV{datetime.fromtimestamp(t0, UTC):%Y%m%d}{start // 500 + 1:02d}"
        sets.append(ts_846(ref, at, Party(sup.code, sup.name), lines))
    return sets


def accept_850(sim: Simulation, supplier: str, name: str, data: bytes) -> dict[str, Any]:
    """Take the 850 purchase orders in a file from the hub's outbox for a supplier.

    A repeated PO number is ignored as a duplicate. Lines with an unknown SKU,
    or a drop-ship line for an item the supplier does not drop-ship, are
    rejected in the 855 (ACK*IR)."""
    entry: dict[str, Any] = {
        "file": name,
        "at": datetime.fromtimestamp(sim.now, UTC).isoformat(),
        "orders": [],
    }
    try:
        orders = read_orders(data.decode("utf-8", errors="replace"))
    except X12FormatError as exc:
        entry.update(status="rejected", reason=str(exc))
        sim.log_file(f"supplier:{supplier}", entry)
        return entry
    entry["status"] = "accepted"
    sup = sim.world.supplier(supplier)
    st = _state(sim)
    for o in orders:
        if o.code != "850":
            entry["orders"].append(
                {"number": o.number, "status": "rejected", "reason": f"a {o.code}, not an 850"}
            )
            continue
        if o.number in sim.purchase_orders:
            entry["orders"].append({"number": o.number, "status": "duplicate"})
            continue
        location = o.ship_to_code if o.ship_to_code in sim.locations else None
        drop = location is None
        lines: list[PoLine] = []
        for k, ln in enumerate(o.lines, start=1):
            idx = sim.sku_index.get(ln.sku, -1)
            try:
                cents = round(float(ln.unit_price or 0) * 100)
            except ValueError:
                cents = 0
            pl = PoLine(
                int(ln.line_no) if ln.line_no.isdigit() else k, ln.sku, idx, ln.quantity, cents
            )
            if idx < 0 or (drop and sim.items[idx].drop_ship_supplier != supplier):
                pl.ack_code = "IR"
            lines.append(pl)
        lead = 1 if drop else sup.lead_time_days
        po = PurchaseOrderRec(
            number=o.number,
            supplier=supplier,
            location=location,
            ship_to=dict(o.ship_to),
            lines=lines,
            ordered_at=sim.now,
            ack_at=sim.now + 2 * 3600,
            ship_at=sim.now + max(1, lead - 1) * 86400,
            arrive_at=sim.now + lead * 86400,
            source="850",
            drop_ship=drop,
            order_ref=o.reference or None,
        )
        sim.purchase_orders[o.number] = po
        heapq.heappush(st.ack, (po.ack_at, o.number))
        entry["orders"].append(
            {
                "number": o.number,
                "status": "accepted",
                "drop_ship": drop,
                "ship_to": location or o.ship_to,
                "lines": [
                    {
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "unit_price": ln.unit_cost_cents / 100,
                        "rejected": ln.ack_code == "IR",
                    }
                    for ln in lines
                ],
            }
        )
    sim.log_file(f"supplier:{supplier}", entry)
    return entry
