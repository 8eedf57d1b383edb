"""The scale world's drop-folder streams, landed by the product's own folder sync.

The planning tool's CSV exports (item policy, kits, promotions, contract prices), the 3PL's
stock snapshot CSV and its X12 945 shipping advices, and each supplier's X12 documents (846
availability for its drop-ship items, 855, 856 and 810 for the open purchase orders) are written
as files in the format their senders use (the sandbox's writers: :mod:`sandbox.planning`'s
columns, :func:`sandbox.x12_envelope.build_interchange` with each partner's delimiters), into a
drop folder per system, then :func:`dagster_project.ingest.files.sync_folder` reads, validates,
lands, archives and acknowledges them exactly as a run of the product does.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench.context import environment
from bench.world_plan import DROP_SHIP_SUPPLIERS, Plan
from dagster_project.connectors.base import StreamConfig
from dagster_project.ingest.files import sync_folder
from dagster_project.ingest.readers import SystemConfig
from sandbox.edi_documents import AsnInfo, EdiLine, Party, ts_810, ts_846, ts_855, ts_856, ts_945
from sandbox.warehouse import TPL_EDI
from sandbox.world import HUB_EDI
from sandbox.worldgen.parties import SUPPLIERS as SUPPLIER_PROFILES

Progress = Callable[[str], None]
EXTENSIONS = {"ACME": "edi", "BOREAL": "x12", "CASCADE": "txt"}
SETS_PER_846 = 500
TPL_PRESENCE = 0.6  # share of stocked SKUs the 3PL holds


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _csv(header: tuple[str, ...], rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def _land(
    conn: psycopg.Connection,
    config: SystemConfig,
    streams: list[StreamConfig],
    files: dict[str, bytes],
    folder: Path,
    progress: Progress,
) -> dict[str, int]:
    drop = folder / config.system / "drop"
    outbox = folder / config.system / "outbox"
    drop.mkdir(parents=True, exist_ok=True)
    outbox.mkdir(parents=True, exist_ok=True)
    for i, (name, data) in enumerate(files.items()):
        path = drop / name
        path.write_bytes(data)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # the folder sync takes oldest first
    env = {config.folder_env or "": str(drop)}
    if config.settings.get("outbox_env"):
        env[config.settings["outbox_env"]] = str(outbox)
    with environment(env):
        result = sync_folder(conn, config, streams, progress)
    if result.files_quarantined:
        raise RuntimeError(
            f"{config.system}: {result.files_quarantined} generated file(s) were quarantined by "
            f"the folder sync (see {drop.parent}/drop/quarantine); fix bench/world_files.py"
        )
    quarantined = {k: c.quarantined for k, c in result.counts.items() if c.quarantined}
    if quarantined:
        raise RuntimeError(
            f"{config.system}: generated rows were quarantined {quarantined}; see ops.quarantine"
        )
    counts = {f"{config.system}__{k}": c.read for k, c in result.counts.items()}
    progress(
        f"{config.system}: {result.files_loaded} files, "
        + ", ".join(f"{k.split('__')[1]} {v:,}" for k, v in counts.items())
    )
    return counts


# ------------------------------------------------------------------------------ planning
def planning_files(plan: Plan) -> dict[str, bytes]:
    day = plan.epoch.strftime("%Y%m%d")
    epoch = _iso(plan.epoch)
    policy = (
        (it.sku, it.case_pack, it.safety_stock, it.drop_supplier or "", epoch) for it in plan.items
    )
    kits = ((it.sku, comp, q) for it in plan.items if it.kind == "kit" for comp, q in it.components)
    codes = [s.code for s in plan.stores]
    d2c = codes.index("D2C") if "D2C" in codes else 0
    mkt = codes.index("MARKETPLACE") if "MARKETPLACE" in codes else d2c
    d2c_items = [it.sku for it in plan.items if it.listed[d2c]]
    mkt_items = [it.sku for it in plan.items if it.listed[mkt]]
    e = plan.epoch
    promotions = [
        (
            "SPRING-BULK",
            "Spring bulk savings",
            ("D2C", "MARKETPLACE"),
            d2c_items[::10],
            ((1, "5"), (3, "10"), (6, "15")),
            e - timedelta(days=7),
            e + timedelta(days=21),
        ),
        (
            "FLASH-48H",
            "48 hour flash sale",
            ("D2C",),
            d2c_items[3::33],
            ((1, "20"),),
            e + timedelta(days=2),
            e + timedelta(days=4),
        ),
        (
            "WINTER-CLEAR",
            "Winter clearance (ended)",
            ("MARKETPLACE",),
            mkt_items[7::20],
            ((1, "25"),),
            e - timedelta(days=60),
            e - timedelta(days=1),
        ),
    ]
    promo_rows = (
        (code, name, channel, sku, q, pct, _iso(start), _iso(end))
        for code, name, channels, skus, breaks, start, end in promotions
        for channel in channels
        if channel in codes
        for sku in skus
        for q, pct in breaks
    )
    contracts = (
        (
            c.code,
            it.sku,
            min_q,
            f"{cents // 100}.{cents % 100:02d}",
            c.currency,
            _iso(start),
            _iso(end),
        )
        for c, it, min_q, cents, start, end in plan.contracts
    )
    return {
        f"item_policy_{day}.csv": _csv(
            ("sku", "case_pack", "safety_stock", "drop_ship_supplier", "updated_at"), policy
        ),
        f"kit_components_{day}.csv": _csv(("kit_sku", "component_sku", "quantity"), kits),
        f"promotions_{day}.csv": _csv(
            (
                "promotion_code",
                "name",
                "channel",
                "sku",
                "min_quantity",
                "discount_percent",
                "valid_from",
                "valid_to",
            ),
            promo_rows,
        ),
        f"contract_prices_{day}.csv": _csv(
            ("customer", "sku", "min_quantity", "price", "currency", "valid_from", "valid_to"),
            contracts,
        ),
    }


# ------------------------------------------------------------------------------ 3PL
TPL_STOCK = """
select i.n, i.sku, i.name,
       1 + floor(pg_temp.w_rnd('qty', i.n, %(k)s) * 400)::integer as on_hand,
       case when pg_temp.w_rnd('dmg', i.n, %(k)s) < 0.05
            then 1 + floor(pg_temp.w_rnd('dmg-qty', i.n, %(k)s) * 6)::integer end as damaged
  from w_item i
 where i.kind = 'stocked' and pg_temp.w_rnd('present', i.n, %(k)s) < %(presence)s
 order by i.n
"""


def tpl_files(conn: psycopg.Connection, plan: Plan, orders) -> dict[str, bytes]:
    """The 3PL's stock snapshot (its committed column: what its open orders hold) and a 945
    for each order it shipped."""
    k = next(i for i, loc in enumerate(plan.locations, start=1) if loc.kind == "3pl")
    committed: dict[str, int] = {}
    for order in orders:
        if order.state == "released":
            for line in order.lines:
                for sku, units in _parts(line):
                    committed[sku] = committed.get(sku, 0) + units
    stamp = _iso(plan.epoch - timedelta(hours=1))
    rows = []
    for _n, sku, name, on_hand, damaged in conn.execute(
        TPL_STOCK, {"k": k, "presence": TPL_PRESENCE}
    ):
        held = min(on_hand, committed.get(sku, 0))
        rows.append(
            (stamp, "MIDWAY-COL", sku, name, "AVAILABLE", on_hand, held, on_hand - held, "EA")
        )
        if damaged:
            rows.append((stamp, "MIDWAY-COL", sku, name, "DAMAGED", damaged, 0, 0, "EA"))
    snapshot_at = plan.epoch - timedelta(hours=1)
    files = {
        f"stock_snapshot_{snapshot_at:%Y%m%dT%H%M}Z.csv": _csv(
            (
                "snapshot_at",
                "warehouse",
                "sku",
                "description",
                "status",
                "on_hand",
                "committed",
                "available",
                "uom",
            ),
            rows,
        )
    }
    control = 0
    for order in orders:
        if not order.shipped:
            continue
        control += 1
        shipped_at = order.created_at + timedelta(hours=3)
        c = order.customer
        lines = []
        for line in order.lines:
            for sku, units in _parts(line):
                lines.append(EdiLine(len(lines) + 1, sku, "", units, ordered=units))
        ts = ts_945(
            order.key,
            f"SHP-3PL-{control:07d}",
            _ts(shipped_at),
            Party(
                "",
                f"{c.first_name} {c.last_name}",
                c.street,
                c.city[0],
                c.city[1],
                c.postal_code,
                c.city[3],
            ),
            Party("3PL", "Midway Fulfilment"),
            "USPS",
            f"9400{control:018d}",
            lines,
            1 + sum(ln.quantity for ln in lines) // 3,
        )
        text = _interchange(TPL_EDI, [[ts]], control, shipped_at)
        files[f"945_{shipped_at:%Y%m%dT%H%M%S}_{control:06d}.edi"] = text.encode()
    return files


def _parts(line) -> list[tuple[str, int]]:
    if line.item.kind == "kit":
        return [(comp, q * line.quantity) for comp, q in line.item.components]
    return [(line.item.sku, line.quantity * line.units_per)]


def _interchange(sender, groups, control: int, at: datetime) -> str:
    from sandbox.x12_envelope import build_interchange

    return build_interchange(
        sender,
        HUB_EDI,
        groups,
        interchange_control=control,
        first_group_control=control,
        first_set_control=control,
        at=at,
    )


# ------------------------------------------------------------------------------ suppliers
def supplier_files(plan: Plan, code: str, conn: psycopg.Connection) -> dict[str, bytes]:
    profile = next(s for s in SUPPLIER_PROFILES if s.code == code)
    supplier = Party(code, profile.name)
    ext = EXTENSIONS.get(code, "edi")
    files: dict[str, bytes] = {}
    control = 0

    def add(kind: str, sets: list, at: datetime) -> None:
        nonlocal control
        if not sets:
            return
        control += 1
        text = _interchange(profile.edi, [sets], control, at)
        files[f"{code}_{kind}_{at:%Y%m%dT%H%M%S}_{control:06d}.{ext}"] = text.encode()

    def vendor_part(n: int) -> str:
        return f"{code[:2]}-{(n * 7919) % 100000:05d}-1"

    if code in DROP_SHIP_SUPPLIERS:
        at = plan.epoch - timedelta(hours=2)
        items = [it for it in plan.items if it.drop_supplier == code]
        sets = []
        for chunk in range(0, len(items), SETS_PER_846):
            lines = [
                EdiLine(i + 1, it.sku, vendor_part(it.n), int((it.n * 2654435761) % 301))
                for i, it in enumerate(items[chunk : chunk + SETS_PER_846])
            ]
            ref = f"AV{at:%Y%m%d}{chunk // SETS_PER_846 + 1:03d}"
            sets.append(ts_846(ref, _ts(at), supplier, lines))
        add("846", sets, at)
    acks, asns, invoices = [], [], []
    for po in plan.purchases:
        if po.supplier != code:
            continue
        ship_to = Party(po.location.code, po.location.name)
        lines = [
            EdiLine(
                ln.number,
                ln.item.sku,
                vendor_part(ln.item.n),
                ln.quantity,
                ln.unit_cents,
                ack_code="IA",
                ack_quantity=ln.quantity,
                ordered=ln.quantity,
            )
            for ln in po.lines
        ]
        po_at = _ts(po.purchase_date)
        acks.append(
            ts_855(
                po.reference, po_at, po_at + 3600 * 6, ship_to, lines, f"SO-{code}-{100000 + po.n}"
            )
        )
        if po.stage in ("shipped", "received"):
            shipped = po.purchase_date + timedelta(days=1, hours=16)
            asns.append(
                ts_856(
                    AsnInfo(
                        asn_id=f"ASN-{code}-{100000 + po.n}",
                        po_number=po.reference,
                        po_date=po_at,
                        shipped_at=_ts(shipped),
                        arrive_at=_ts(shipped + timedelta(days=1)),
                        carrier_scac="UPSN",
                        carrier_name="UPS Ground",
                        tracking=f"PRO{po.n:09d}",
                        weight_lb=1 + sum(ln.quantity for ln in lines) // 4,
                        ship_to=ship_to,
                        ship_from=supplier,
                        lines=lines,
                    )
                )
            )
        if po.stage == "received":
            invoices.append(
                ts_810(
                    f"INV-{code}-{100000 + po.n}",
                    po_at + 86400 * 3,
                    po.reference,
                    po_at,
                    po_at + 86400,
                    supplier,
                    ship_to,
                    lines,
                    30,
                )
            )
    add("855", acks, plan.epoch - timedelta(hours=20))
    add("856", asns, plan.epoch - timedelta(hours=10))
    add("810", invoices, plan.epoch - timedelta(hours=5))
    return files


def land_files(
    conn: psycopg.Connection,
    plan: Plan,
    systems: dict,
    folder: Path,
    tpl_orders,
    progress: Progress,
) -> dict[str, int]:
    """Every drop-folder system of the declarations, through the product's folder sync."""
    counts: dict[str, int] = {}
    for name, (config, streams) in sorted(systems.items()):
        if config.kind == "file_drop_csv":
            files = planning_files(plan)
        elif config.kind == "file_drop_3pl":
            files = tpl_files(conn, plan, tpl_orders)
        elif config.kind == "x12_supplier":
            code = name.removeprefix("supplier_").upper()
            files = supplier_files(plan, code, conn)
        else:
            continue
        counts.update(_land(conn, config, streams, files, folder, progress))
    return counts
