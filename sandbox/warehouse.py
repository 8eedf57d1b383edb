"""Warehouse work over simulated time: the two WMSs and the 3PL.

WMS, per hour: allocate released orders (free stock only; the rest is
backordered and retried each hour for 48 hours, then closed short), open a
pick per release two hours after allocation, complete picks two hours later
(3% of pick lines come up short: the missing units are written off), confirm
a shipment per completed pick (carrier tracker starts), receive purchase
orders into QC and release them four hours later (a few units to damaged),
receive returns into returns inspection and inspect them a day later.

3PL: 940 shipping orders are committed on arrival and shipped four hours
later with a 945 advice; a stock snapshot CSV is dropped daily at 06:00 UTC.

Cancellations: a WMS release not yet picked is cancelled by ``POST
/v1/releases/{id}/cancel`` (:func:`cancel_wms_release`: its allocations and any open pick
are cancelled, the stock un-committed; 409 once a pick is completed or it shipped). A 940
with the cancel purpose (W05-01 ``F``) cancels a 3PL order not yet shipped, and the 3PL
confirms it with a 945 that ships nothing (every W12 shipped 0); one already shipped is
logged ``too_late`` (its 945 was the shipment).
"""

from __future__ import annotations

import csv
import io
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox.edi_documents import EdiLine, Party, read_orders, ts_945
from sandbox.records import (
    AllocationRec,
    Pick,
    Receipt,
    ReceiptLine,
    Release,
    ReleaseLine,
    ShipmentLine,
)
from sandbox.world import HUB_EDI, EdiProfile, StockStatus
from sandbox.worldgen.stock import bin_for, pick_bin
from sandbox.x12_envelope import X12FormatError, build_interchange

if TYPE_CHECKING:
    from sandbox.simulation import Simulation

TPL_EDI = EdiProfile(
    isa_qualifier="ZZ",
    isa_id="MIDWAY3PL",
    gs_id="MIDWAY3PL",
    element_separator="*",
    component_separator=":",
    segment_terminator="~",
    segment_suffix="\r\n",
    repetition_separator="U",
    isa_version="00401",
    gs_version="004010",
)

BACKORDER_HOURS = 48
#: W05-01 (Order Status Code, X12 element 473) of a 940 that cancels an earlier one
CANCEL_PURPOSE = "F"
#: WMS release states a cancel may still stop (nothing picked, nothing shipped)
CANCELLABLE = ("accepted", "backordered", "partially_allocated", "allocated", "picking")


@dataclass
class Queues:
    """Per-location work queues, so an hour touches only what is due."""

    allocate: list[str] = field(default_factory=list)  # release ids awaiting (more) allocation
    pick_ready: deque[tuple[int, str]] = field(default_factory=deque)  # (ready at, release id)
    picks: deque[tuple[int, int]] = field(default_factory=deque)  # (due, pick id)
    inbound: list[tuple[int, str]] = field(default_factory=list)  # (arrive at, PO number)
    qc: list[Receipt] = field(default_factory=list)
    ship_3pl: deque[tuple[int, str]] = field(default_factory=deque)  # (due, release id)
    allocs_of: dict[str, list[int]] = field(default_factory=dict)


def queues(sim: Simulation, loc: str) -> Queues:
    return sim.queues[loc]


def init_queues(sim: Simulation) -> dict[str, Queues]:
    """Work queues seeded from the history (releases, allocations, open picks)."""
    q = {name: Queues() for name in ("DC-EAST", "DC-WEST", "3PL")}
    for aid, a in sim.allocations.items():
        q[a.location].allocs_of.setdefault(a.release_id, []).append(aid)
    for (loc, rid), rel in sim.releases.items():
        if loc == "3PL":
            q[loc].ship_3pl.append((sim.epoch_ts + 2 * 3600, rid))
        elif rel.status == "allocated":
            q[loc].pick_ready.append((rel.received_at + 2 * 3600, rid))
    for pid, p in sorted(sim.picks.items()):
        q[p.location].picks.append((p.created + 2 * 3600, pid))
    return q


def enqueue_release(sim: Simulation, rel: Release) -> None:
    if rel.location == "3PL":
        queues(sim, "3PL").ship_3pl.append((rel.received_at + 4 * 3600, rel.release_id))
    else:
        queues(sim, rel.location).allocate.append(rel.release_id)


def release_summary(rel: Release) -> dict[str, Any]:
    return {
        "release_id": rel.release_id,
        "order_ref": rel.order_ref,
        "status": rel.status,
        "lines": [
            {
                "line_ref": ln.line_ref,
                "sku": ln.sku,
                "quantity": ln.quantity,
                "allocated": ln.allocated,
                "shipped": ln.shipped,
                "status": ln.status,
            }
            for ln in rel.lines
        ],
    }


# ---------------------------------------------------------------------------
# WMS


def wms_hour(sim: Simulation, loc: str, t0: int, t1: int, rng) -> None:
    q = queues(sim, loc)
    _allocate(sim, loc, q, t0 + 5 * 60)
    _open_picks(sim, loc, q, t0 + 15 * 60)
    _complete_picks(sim, loc, q, t0 + 40 * 60, rng)
    _receive(sim, loc, q, t0, t1, rng)
    _release_qc(sim, loc, q, t1, rng)
    _returns(sim, loc, t0, t1, rng)


def _allocate(sim: Simulation, loc: str, q: Queues, at: int) -> None:
    still: list[str] = []
    for rid in q.allocate:
        rel = sim.releases[(loc, rid)]
        if rel.status in ("cancelled", "shipped", "short_shipped", "closed_short"):
            continue
        newly = False
        for ln in rel.lines:
            if ln.status in ("rejected", "shipped", "short_shipped", "closed_short"):
                continue
            need = ln.quantity - ln.allocated
            if need <= 0:
                continue
            take = min(need, max(0, sim.ledger.free(ln.item, loc)))
            if take > 0:
                sim.ledger.commit(ln.item, loc, take)
                aid = sim.next_n()
                bin_ = pick_bin(ln.item, loc)
                sim.allocations[aid] = AllocationRec(
                    aid, rid, ln.line_ref, ln.item, loc, take, bin_, at, at
                )
                q.allocs_of.setdefault(rid, []).append(aid)
                ln.allocated += take
                newly = True
                sim.wms_event(
                    loc,
                    "allocation.created",
                    at,
                    {
                        "allocation_id": aid,
                        "release_id": rid,
                        "line_ref": ln.line_ref,
                        "sku": ln.sku,
                        "bin": bin_,
                        "quantity": take,
                    },
                )
            if ln.allocated < ln.quantity:
                if at - rel.received_at > BACKORDER_HOURS * 3600:
                    ln.status = "closed_short"
                    sim.wms_event(
                        loc,
                        "release.backorder_cancelled",
                        at,
                        {
                            "release_id": rid,
                            "line_ref": ln.line_ref,
                            "sku": ln.sku,
                            "quantity": ln.quantity - ln.allocated,
                        },
                    )
                else:
                    if ln.status != "backordered" or take:
                        sim.wms_event(
                            loc,
                            "allocation.backordered",
                            at,
                            {
                                "release_id": rid,
                                "line_ref": ln.line_ref,
                                "sku": ln.sku,
                                "quantity": ln.quantity - ln.allocated,
                            },
                        )
                    ln.status = "backordered" if not ln.allocated else "partially_allocated"
            else:
                ln.status = "allocated"
        if _outstanding(rel):
            still.append(rid)
            any_alloc = any(ln.allocated for ln in rel.lines)
            if rel.status in ("accepted", "backordered", "partially_allocated"):
                rel.status = "partially_allocated" if any_alloc else "backordered"
        elif rel.status in ("accepted", "backordered", "partially_allocated"):
            rel.status = "allocated"
        _settle(sim, queues(sim, loc), rel)
        rel.updated = at
        if newly:
            q.pick_ready.append((at + 2 * 3600, rid))
    q.allocate = still


def _outstanding(rel: Release) -> bool:
    """Whether some line still waits for stock (backordered, not closed)."""
    return any(
        ln.status not in ("rejected", "closed_short") and ln.allocated < ln.quantity
        for ln in rel.lines
    )


def _settle(sim: Simulation, q: Queues, rel: Release) -> None:
    """Mark a release shipped / short_shipped once nothing is outstanding or in flight."""
    in_flight = any(
        sim.allocations[a].state in ("allocated", "picking")
        for a in q.allocs_of.get(rel.release_id, [])
    )
    if in_flight or _outstanding(rel):
        if rel.shipment_id and rel.status not in ("backordered", "partially_allocated"):
            rel.status = "partially_shipped"
        return
    if not any(ln.allocated for ln in rel.lines):
        rel.status = "closed_short"
        return
    for ln in rel.lines:
        if ln.status != "rejected":
            ln.status = "shipped" if ln.shipped >= ln.quantity else "short_shipped"
    rel.status = "shipped" if all(ln.status == "shipped" for ln in rel.lines) else "short_shipped"


def _open_picks(sim: Simulation, loc: str, q: Queues, at: int) -> None:
    while q.pick_ready and q.pick_ready[0][0] <= at:
        _, rid = q.pick_ready.popleft()
        rel = sim.releases[(loc, rid)]
        ids = [aid for aid in q.allocs_of.get(rid, []) if sim.allocations[aid].state == "allocated"]
        if not ids:
            continue
        pid = sim.next_n()
        sim.picks[pid] = Pick(pid, loc, rid, ids, at)
        for aid in ids:
            a = sim.allocations[aid]
            a.state, a.pick_id, a.updated = "picking", pid, at
        if rel.status == "allocated":
            rel.status = "picking"
        q.picks.append((at + 2 * 3600, pid))
        sim.wms_event(
            loc,
            "pick.created",
            at,
            {
                "pick_id": pid,
                "release_id": rid,
                "lines": [
                    {
                        "allocation_id": aid,
                        "line_ref": sim.allocations[aid].line_ref,
                        "sku": sim.items[sim.allocations[aid].item].sku,
                        "bin": sim.allocations[aid].bin,
                        "quantity": sim.allocations[aid].quantity,
                    }
                    for aid in ids
                ],
            },
        )


def _complete_picks(sim: Simulation, loc: str, q: Queues, at: int, rng) -> None:
    while q.picks and q.picks[0][0] <= at:
        _, pid = q.picks.popleft()
        pick = sim.picks[pid]
        if pick.state == "cancelled":  # its release was cancelled while it was open
            continue
        rel = sim.releases[(loc, pick.release_id)]
        lines: list[ShipmentLine] = []
        short_any = False
        for aid in pick.allocation_ids:
            a = sim.allocations[aid]
            short = 0
            if rng.random() < 0.03:
                short = rng.randint(1, min(a.quantity, 3))
            picked = a.quantity - short
            sim.ledger.ship(a.item, loc, a.quantity, a.quantity)  # short units are written off
            a.picked, a.state, a.updated = picked, "picked", at
            sku = sim.items[a.item].sku
            if short:
                short_any = True
                sim.wms_event(
                    loc,
                    "pick.short",
                    at,
                    {
                        "pick_id": pid,
                        "release_id": rel.release_id,
                        "allocation_id": aid,
                        "line_ref": a.line_ref,
                        "sku": sku,
                        "bin": a.bin,
                        "expected": a.quantity,
                        "picked": picked,
                    },
                )
                sim.wms_event(
                    loc,
                    "stock.adjusted",
                    at,
                    {
                        "sku": sku,
                        "bin": a.bin,
                        "status": "sellable",
                        "quantity_change": -short,
                        "reason": "short_pick",
                    },
                )
            for ln in rel.lines:
                if ln.line_ref == a.line_ref:
                    ln.shipped += picked
            if picked:
                lines.append(ShipmentLine(a.line_ref, sku, picked, a.quantity))
        pick.state, pick.completed = ("short" if short_any else "done"), at
        sim.wms_event(
            loc,
            "pick.completed",
            at,
            {
                "pick_id": pid,
                "release_id": rel.release_id,
                "short": short_any,
                "lines": [
                    {
                        "allocation_id": aid,
                        "sku": sim.items[sim.allocations[aid].item].sku,
                        "quantity": sim.allocations[aid].quantity,
                        "picked": sim.allocations[aid].picked,
                    }
                    for aid in pick.allocation_ids
                ],
            },
        )
        if not lines:
            continue
        shipped_at = at + 20 * 60
        sh = sim.new_shipment(
            loc,
            "wms",
            rel.order_ref,
            rel.release_id,
            lines,
            shipped_at,
            rel.ship_to or {},
            rel.channel,
            rng,
        )
        rel.shipment_id = sh.id
        _settle(sim, q, rel)
        rel.updated = shipped_at
        sim.wms_event(loc, "shipment.confirmed", shipped_at, shipment_payload(sh))


def shipment_payload(sh) -> dict[str, Any]:
    return {
        "shipment_id": sh.id,
        "release_id": sh.release_id,
        "order_ref": sh.order_ref,
        "carrier": sh.carrier,
        "service": sh.service,
        "tracking_number": sh.tracking_number,
        "tracker_id": sh.tracker_id,
        "shipped_at": datetime.fromtimestamp(sh.shipped_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ship_to": sh.ship_to,
        "lines": [
            {"line_ref": ln.line_ref, "sku": ln.sku, "quantity": ln.quantity, "ordered": ln.ordered}
            for ln in sh.lines
        ],
    }


def _receive(sim: Simulation, loc: str, q: Queues, t0: int, t1: int, rng) -> None:
    q.inbound.sort()
    while q.inbound and q.inbound[0][0] < t1:
        arrive, number = q.inbound.pop(0)
        po = sim.purchase_orders[number]
        at = max(arrive, t0)
        lines = []
        for ln in po.lines:
            if ln.shipped <= 0:
                continue
            got = ln.shipped
            if rng.random() < 0.05:
                got = max(0, got - rng.randint(1, 2))
            lines.append(ReceiptLine(ln.sku, ln.item, ln.shipped, got))
        rid = f"RCV-{loc}-{len(sim.receipts) + 1:06d}"
        status = StockStatus.QC if loc != "3PL" else StockStatus.SELLABLE
        for rl in lines:
            if rl.received:
                sim.ledger.add(rl.item, loc, status, rl.received)
        rec = Receipt(rid, loc, number, po.asn_id, lines, at, at + 4 * 3600, qc_done=loc == "3PL")
        sim.receipts.append(rec)
        po.received = True
        po.state = "received" if not po.invoiced else "invoiced"
        if loc != "3PL":
            q.qc.append(rec)
            sim.wms_event(
                loc,
                "receipt.posted",
                at,
                {
                    "receipt_id": rid,
                    "po_number": number,
                    "asn_id": po.asn_id,
                    "lines": [
                        {
                            "sku": rl.sku,
                            "expected": rl.expected,
                            "received": rl.received,
                            "bin": "QC-01",
                            "status": "qc",
                        }
                        for rl in lines
                    ],
                },
            )


def _release_qc(sim: Simulation, loc: str, q: Queues, t1: int, rng) -> None:
    keep = []
    for rec in q.qc:
        if rec.qc_release_at >= t1:
            keep.append(rec)
            continue
        for rl in rec.lines:
            if not rl.received:
                continue
            damaged = rng.randint(1, min(2, rl.received)) if rng.random() < 0.05 else 0
            if damaged:
                sim.ledger.move(rl.item, loc, StockStatus.QC, StockStatus.DAMAGED, damaged)
                _status_event(
                    sim,
                    loc,
                    rl.item,
                    StockStatus.QC,
                    StockStatus.DAMAGED,
                    damaged,
                    rec.qc_release_at,
                    "qc_failed",
                )
            if rl.received - damaged:
                sim.ledger.move(
                    rl.item, loc, StockStatus.QC, StockStatus.SELLABLE, rl.received - damaged
                )
                _status_event(
                    sim,
                    loc,
                    rl.item,
                    StockStatus.QC,
                    StockStatus.SELLABLE,
                    rl.received - damaged,
                    rec.qc_release_at,
                    "qc_passed",
                )
        rec.qc_done = True
    q.qc = keep


def _status_event(
    sim: Simulation,
    loc: str,
    item: int,
    src: StockStatus,
    dst: StockStatus,
    qty: int,
    at: int,
    reason: str,
) -> None:
    sim.wms_event(
        loc,
        "stock.status_changed",
        at,
        {
            "sku": sim.items[item].sku,
            "from_status": str(src),
            "to_status": str(dst),
            "from_bin": bin_for(item, loc, src),
            "to_bin": bin_for(item, loc, dst),
            "quantity": qty,
            "reason": reason,
        },
    )


def _returns(sim: Simulation, loc: str, t0: int, t1: int, rng) -> None:
    for r in sim.returns:
        if r.location != loc or r.state == "closed":
            continue
        if r.state == "expected" and r.arrives_at < t1:
            at = max(r.arrives_at, t0)
            for _sku, item, qty in r.lines:
                sim.ledger.add(item, loc, StockStatus.RETURNS_INSPECTION, qty)
            r.state, r.received_at, r.inspect_at = "inspection", at, at + 24 * 3600
            sim.wms_event(
                loc,
                "return.received",
                at,
                {
                    "rma": r.id,
                    "order_ref": r.order_ref,
                    "shipment_id": r.shipment_id,
                    "bin": "RET-01",
                    "status": "returns_inspection",
                    "lines": [{"sku": s, "quantity": q} for s, _, q in r.lines],
                },
            )
        elif r.state == "inspection" and r.inspect_at is not None and r.inspect_at < t1:
            outcome = []
            for sku, item, qty in r.lines:
                dst = StockStatus.SELLABLE if rng.random() < 0.8 else StockStatus.DAMAGED
                sim.ledger.move(item, loc, StockStatus.RETURNS_INSPECTION, dst, qty)
                _status_event(
                    sim,
                    loc,
                    item,
                    StockStatus.RETURNS_INSPECTION,
                    dst,
                    qty,
                    r.inspect_at,
                    "inspected",
                )
                outcome.append((sku, qty, str(dst)))
            r.state, r.outcome = "closed", outcome
            sim.wms_event(
                loc,
                "return.inspected",
                r.inspect_at,
                {
                    "rma": r.id,
                    "order_ref": r.order_ref,
                    "lines": [{"sku": s, "quantity": q, "disposition": d} for s, q, d in outcome],
                },
            )


# ---------------------------------------------------------------------------
# 3PL


def tpl_hour(sim: Simulation, t0: int, t1: int, rng) -> None:
    q = queues(sim, "3PL")
    _receive(sim, "3PL", q, t0, t1, rng)
    while q.ship_3pl and q.ship_3pl[0][0] < t1:
        due, rid = q.ship_3pl.popleft()
        rel = sim.releases[("3PL", rid)]
        if rel.status == "cancelled":  # a 940 cancel arrived before it shipped
            continue
        _ship_3pl(sim, rel, max(due, t0), rng)
    if sim.hour % 24 == 6:
        snapshot_3pl(sim, t0)


def _ship_3pl(sim: Simulation, rel: Release, at: int, rng) -> None:
    lines: list[ShipmentLine] = []
    edi_lines: list[EdiLine] = []
    for n, ln in enumerate(rel.lines, start=1):
        qty = ln.allocated
        if qty:
            sim.ledger.ship(ln.item, "3PL", qty, qty)
        ln.shipped = qty
        ln.status = "shipped" if qty >= ln.quantity else "short_shipped"
        if qty:
            lines.append(ShipmentLine(ln.line_ref, ln.sku, qty, ln.quantity))
        edi_lines.append(EdiLine(n, ln.sku, "", qty, ordered=ln.quantity))
    rel.status = "shipped" if all(ln.status == "shipped" for ln in rel.lines) else "short_shipped"
    rel.updated = at
    if lines:
        sh = sim.new_shipment(
            "3PL",
            "3pl",
            rel.order_ref,
            rel.release_id,
            lines,
            at,
            rel.ship_to or {},
            rel.channel,
            rng,
        )
        rel.shipment_id = sh.id
        sid, tracking, scac = sh.id, sh.tracking_number, "USPS"
    else:
        sid, tracking, scac = f"NOSHIP-{rel.release_id}", "", ""
    _write_945(sim, rel, at, sid, scac, tracking, edi_lines)


def _write_945(
    sim: Simulation,
    rel: Release,
    at: int,
    sid: str,
    scac: str,
    tracking: str,
    edi_lines: list[EdiLine],
) -> None:
    """Drop the 945 shipping advice of ``rel`` into the 3PL's outbox."""
    st = rel.ship_to or {}
    ship_to = Party(
        "",
        st.get("name", ""),
        st.get("line1", ""),
        st.get("city", ""),
        st.get("region", ""),
        st.get("postal_code", ""),
        st.get("country", ""),
    )
    weight = sum(sim.items[ln.item].weight_grams * ln.shipped for ln in rel.lines) // 454 + 1
    ts = ts_945(
        rel.release_id,
        sid,
        at,
        ship_to,
        Party("3PL", "Midway Fulfilment"),
        scac,
        tracking,
        edi_lines,
        weight,
    )
    ctrl = sim.x12_next("3PL")
    text = build_interchange(
        TPL_EDI,
        HUB_EDI,
        [[ts]],
        interchange_control=ctrl,
        first_group_control=ctrl,
        first_set_control=ctrl,
        at=datetime.fromtimestamp(at, UTC),
    )
    name = f"945_{datetime.fromtimestamp(at, UTC):%Y%m%dT%H%M%S}_{ctrl:06d}.edi"
    sim.add_file("3pl", name, text.encode(), "945", at)


def snapshot_3pl(sim: Simulation, at: int) -> None:
    """Drop the 3PL stock snapshot CSV (sellable and damaged per SKU)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(
        [
            "snapshot_at",
            "warehouse",
            "sku",
            "description",
            "status",
            "on_hand",
            "committed",
            "available",
            "uom",
        ]
    )
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = sorted(
        (item, status, q)
        for (item, loc, status), q in sim.ledger.on_hand.items()
        if loc == "3PL" and q
    )
    for item, status, q in rows:
        it = sim.items[item]
        committed = sim.ledger.committed_qty(item, "3PL") if status is StockStatus.SELLABLE else 0
        w.writerow(
            [
                stamp,
                "MIDWAY-COL",
                it.sku,
                it.name,
                "AVAILABLE" if status is StockStatus.SELLABLE else "DAMAGED",
                q,
                committed,
                q - committed if status is StockStatus.SELLABLE else 0,
                "EA",
            ]
        )
    if sim.faults.on("malformed_records"):
        w.writerow(
            [
                stamp,
                "MIDWAY-COL",
                rows[0] and sim.items[rows[0][0]].sku if rows else "SKU-X",
                "adjust",
                "AVAILABLE",
                -4,
                0,
                -4,
                "EA",
            ]
        )
        w.writerow(
            [stamp, "MIDWAY-COL", "UNKNOWN-3PL-1", "not in catalogue", "AVAILABLE", 7, 0, 7, "EA"]
        )
        buf.write(f'{stamp},MIDWAY-COL,"broken row\r\n')
        sim.faults.record(
            "malformed_records",
            "3pl",
            "snapshot with a negative quantity, an unknown SKU and a garbled row",
            at=stamp,
        )
    name = f"stock_snapshot_{datetime.fromtimestamp(at, UTC):%Y%m%dT%H%M}Z.csv"
    sim.add_file("3pl", name, buf.getvalue().encode(), "stock_csv", at, edi=False)


def accept_940(sim: Simulation, name: str, data: bytes) -> dict[str, Any]:
    """Take the 940 shipping orders in a file from the hub's outbox.

    Each order becomes a 3PL release keyed by its W05 order number (a repeat
    of the same number is ignored as a duplicate). An order with an unknown
    or unstocked SKU is rejected as a whole; the log says why. A 940 with the
    cancel purpose (W05-01 ``F``) cancels the order of that number instead
    (:func:`_cancel_3pl`)."""
    entry: dict[str, Any] = {"file": name, "at": _iso(sim.now), "orders": []}
    try:
        orders = read_orders(data.decode("utf-8", errors="replace"))
    except X12FormatError as exc:
        entry.update(status="rejected", reason=str(exc))
        sim.log_file("3pl", entry)
        return entry
    entry["status"] = "accepted"
    for o in orders:
        if o.code != "940":
            entry["orders"].append(
                {"number": o.number, "status": "rejected", "reason": f"a {o.code}, not a 940"}
            )
            continue
        if o.purpose == CANCEL_PURPOSE:
            entry["orders"].append(_cancel_3pl(sim, o.number))
            continue
        if ("3PL", o.number) in sim.releases:
            entry["orders"].append({"number": o.number, "status": "duplicate"})
            continue
        bad = [
            ln.sku
            for ln in o.lines
            if ln.sku not in sim.sku_index or not sim.items[sim.sku_index[ln.sku]].is_stocked
        ]
        if bad or not o.lines:
            reason = f"unknown or unstocked SKU(s) {', '.join(bad)}" if bad else "no W01 lines"
            entry["orders"].append({"number": o.number, "status": "rejected", "reason": reason})
            continue
        lines = []
        for ln in o.lines:
            idx = sim.sku_index[ln.sku]
            take = min(ln.quantity, max(0, sim.ledger.free(idx, "3PL")))
            if take:
                sim.ledger.commit(idx, "3PL", take)
            lines.append(
                ReleaseLine(
                    ln.line_no,
                    ln.sku,
                    idx,
                    ln.quantity,
                    allocated=take,
                    status="allocated" if take == ln.quantity else "partially_allocated",
                )
            )
        ship_to = dict(o.ship_to)
        rel = Release(
            o.number,
            "3PL",
            o.reference or o.number,
            None,
            ship_to,
            o.carrier or None,
            lines,
            sim.now,
            "",
            "940",
            updated=sim.now,
            payload={"file": name},
        )
        sim.releases[("3PL", o.number)] = rel
        enqueue_release(sim, rel)
        entry["orders"].append(
            {
                "number": o.number,
                "status": "accepted",
                "lines": [
                    {"sku": ln.sku, "quantity": ln.quantity, "committed": ln.allocated}
                    for ln in lines
                ],
            }
        )
    sim.log_file("3pl", entry)
    return entry


def _cancel_3pl(sim: Simulation, number: str) -> dict[str, Any]:
    """A 940 cancel of order ``number``: un-commit and close it, confirmed by a 945 that
    ships nothing; an order already shipped (its 945 sent) cannot be stopped: too_late."""
    rel = sim.releases.get(("3PL", number))
    if rel is None:
        return {"number": number, "status": "rejected", "reason": "no such order to cancel"}
    if rel.status == "cancelled":
        return {"number": number, "status": "duplicate", "reason": "already cancelled"}
    if rel.status in ("shipped", "short_shipped"):
        return {
            "number": number,
            "status": "too_late",
            "reason": f"already shipped ({rel.shipment_id or 'nothing on hand'}); a return",
        }
    edi_lines: list[EdiLine] = []
    for n, ln in enumerate(rel.lines, start=1):
        if ln.allocated:
            sim.ledger.release(ln.item, "3PL", ln.allocated)
        ln.allocated, ln.shipped, ln.status = 0, 0, "cancelled"
        edi_lines.append(EdiLine(n, ln.sku, "", 0, ordered=ln.quantity))
    rel.status, rel.updated = "cancelled", sim.now
    _write_945(sim, rel, sim.now, f"CANCEL-{rel.release_id}", "", "", edi_lines)
    return {"number": number, "status": "cancelled"}


class CancelRefused(ValueError):
    """A WMS cancel that cannot be done: ``status`` (404, 409), ``code`` and ``details``."""

    def __init__(self, message: str, status: int, code: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.details = status, code, details


def cancel_wms_release(sim: Simulation, loc: str, release_id: str) -> tuple[bool, Release]:
    """Cancel a WMS release not yet picked: (cancelled by this call, release); a release
    already cancelled is answered as it is (False), so a repeat is harmless.

    Its allocations (and an open pick) are cancelled and their stock un-committed. Raises
    :class:`CancelRefused` 404 for an unknown release, 409 ``already_picked`` /
    ``already_shipped`` once a pick completed or a shipment left (a cancel cannot stop it)."""
    rel = sim.releases.get((loc, release_id))
    if rel is None:
        raise CancelRefused(f"no release {release_id!r} at {loc}", 404, "not_found")
    if rel.status == "cancelled":
        return False, rel
    q = queues(sim, loc)
    allocs = [sim.allocations[a] for a in q.allocs_of.get(release_id, [])]
    if rel.shipment_id is not None or rel.status not in CANCELLABLE:
        raise CancelRefused(
            f"release {release_id!r} at {loc} has shipped ({rel.shipment_id or rel.status}); "
            "it cannot be cancelled: take it back as a return",
            409,
            "already_shipped",
            {"status": rel.status, "shipment_id": rel.shipment_id},
        )
    if any(a.state == "picked" for a in allocs):
        raise CancelRefused(
            f"release {release_id!r} at {loc} is already picked; it cannot be cancelled",
            409,
            "already_picked",
            {"status": rel.status},
        )
    at = sim.now
    for a in allocs:
        if a.state in ("allocated", "picking"):
            sim.ledger.release(a.item, loc, a.quantity)
            a.state, a.updated = "cancelled", at
            if a.pick_id is not None and sim.picks[a.pick_id].state == "open":
                sim.picks[a.pick_id].state = "cancelled"
    for ln in rel.lines:
        if ln.status != "rejected":
            ln.status = "cancelled"
    rel.status, rel.updated = "cancelled", at
    q.allocate = [r for r in q.allocate if r != release_id]
    sim.wms_event(loc, "release.cancelled", at, release_summary(rel))
    return True, rel


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
