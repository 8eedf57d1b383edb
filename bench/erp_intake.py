"""Measurement 5, ERP intake: storefront orders per second into Tryton, the product's way.

What runs, in order (only the delivery counts in the rate):

1. the ERP as the product runs it (:class:`dagster_project.erp.server.ErpServer`) on the
   bench's cluster: the ``tryton_template`` database is built once (about a minute; reused
   by later runs while its stamp is current, and reported on its own), cloned fresh into
   ``bench_erp`` for every run, trytond started on 127.0.0.1 (``DISTROHUB_TRYTON_WORKERS``
   processes, as the demo runs it), and seeded from the sandbox world through the
   sandbox's own command (``python -m sandbox.erp_seed``): the ERP knows the world's
   customers and items;
2. the same world served by the sandbox, its storefronts holding about
   ``scale.erp_orders`` orders placed after the epoch (the ERP holds only the history
   before it); the world's ``orders_per_day`` × ``days`` are chosen for that count;
3. a fresh hub: every raw stream landed and every dbt model built with its tests and gates
   through Dagster, as a run of the product does (steps 1-3 are the world the events
   measurement shares, :mod:`bench.sandbox_world`: made once per bench run);
4. timed: the gate (:func:`~dagster_project.publish.gate.evaluate`) and the publish of the
   target (:func:`~dagster_project.publish.run.publish`: verdict, diff, enqueue into
   ``ops.outbox``, then delivery by ``publish/deliver.py`` through the Tryton transport).
   The delivery's own seconds make the rate; gate + diff + enqueue are reported beside it;
5. checked in Tryton over JSON-RPC: every delivered order is one sale with its reference,
   confirmed (``processing``), totalling what the storefront charged; no held order is
   there.

Beside the rate: the CPU each side spent per order during the delivery (trytond's processes,
the PostgreSQL cluster, this process) and the machine's load average, because the rate is
trytond's CPU work per order shared out over the cores that are free.

Orders with a ``hold_reason`` (credit hold, payment pending, unknown customer) are not sent:
they are counted, not delivered.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg

from bench.context import BenchContext, environment
from bench.erp import SEED, SKUS, BenchErp, world_knobs
from bench.memory import Stopwatch, postmaster_pid, tree
from bench.report import Measurement
from bench.sandbox_world import sandbox_world
from dagster_project.connectors.tryton import (
    TrytonClient,
)

TARGET = "erp_sales_orders"
TARGET_RATE = 20.0  # orders/s (issue 10)
CONFIRMED = ("confirmed", "processing")  # Tryton moves a confirmed sale on to processing


@dataclass(frozen=True)
class ModelCounts:
    orders: int  # distinct orders in publish.erp_sales_orders
    held: Counter  # hold_reason -> orders
    sendable: int
    item_lines: int  # lines of the sendable orders

    @property
    def held_total(self) -> int:
        return sum(self.held.values())


def model_counts(hub: str) -> ModelCounts:
    with psycopg.connect(hub) as conn:
        held = Counter(
            dict(
                conn.execute(
                    """select hold_reason, count(distinct order_key) from publish.erp_sales_orders
                         where hold_reason is not null group by hold_reason"""
                ).fetchall()
            )
        )
        orders, sendable, lines = conn.execute(
            """select count(distinct order_key),
                       count(distinct order_key) filter (where hold_reason is null),
                       count(*) filter (where hold_reason is null)
                  from publish.erp_sales_orders"""
        ).fetchone()
    return ModelCounts(orders, held, sendable, lines)


@dataclass(frozen=True)
class Verified:
    orders: int
    erp_lines: int


def verify_in_tryton(hub: str, erp: BenchErp) -> Verified:
    """Every delivered order is one confirmed sale in Tryton with the storefront's total; no
    held order is there. Raises, naming the orders, when not."""
    with psycopg.connect(hub) as conn:
        delivered = dict(
            conn.execute(
                """select distinct o.record_key, m.order_total
                      from ops.outbox o
                      join publish.erp_sales_orders m on m.order_key = o.record_key
                     where o.target = %s and o.status in ('delivered', 'existed')""",
                (TARGET,),
            ).fetchall()
        )
        held = [
            r[0]
            for r in conn.execute(
                """select distinct order_key from publish.erp_sales_orders
                    where hold_reason is not null"""
            )
        ]
    with TrytonClient(erp.credentials) as client:
        rows = client.read_all(
            "sale.sale",
            [["reference", "in", sorted(delivered)]],
            ["reference", "state", "total_amount", "lines"],
        )
        held_found = (
            client.read_all("sale.sale", [["reference", "in", held]], ["reference"]) if held else []
        )
    count = Counter(r["reference"] for r in rows)
    problems = []
    missing = sorted(set(delivered) - set(count))
    twice = sorted(ref for ref, n in count.items() if n > 1)
    unconfirmed = sorted(r["reference"] for r in rows if r["state"] not in CONFIRMED)
    totals = sorted(
        r["reference"]
        for r in rows
        if Decimal(str(r["total_amount"])) != Decimal(str(delivered[r["reference"]]))
    )
    for what, refs in (
        ("acknowledged as delivered but not in Tryton", missing),
        ("in Tryton more than once", twice),
        ("not confirmed in Tryton", unconfirmed),
        ("with a Tryton total other than the storefront's", totals),
        ("held by the hub but in Tryton", sorted(r["reference"] for r in held_found)),
    ):
        if refs:
            problems.append(f"{len(refs)} orders {what} (e.g. {', '.join(refs[:3])})")
    if problems:
        raise RuntimeError(
            "erp bench: the ERP does not hold what was delivered: " + "; ".join(problems)
        )
    return Verified(len(rows), sum(len(r["lines"]) for r in rows))


def _cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds spent so far by these processes (those alive now)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / tick


@dataclass
class CpuSplit:
    """Where the CPU of the delivery went: trytond (all its processes), PostgreSQL (the
    cluster holding the hub and the ERP database), this process (deliver, transport, acks)."""

    trytond_pid: int
    postmaster: int | None
    start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    spent: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        pg = _cpu_seconds(tree([self.postmaster])) if self.postmaster else 0.0
        return _cpu_seconds(tree([self.trytond_pid])), pg, time.process_time()

    def begin(self) -> None:
        self.start = self._now()

    def end(self) -> None:
        self.spent = tuple(b - a for a, b in zip(self.start, self._now(), strict=True))


def run(ctx: BenchContext) -> Measurement:
    from dagster_project.ingest.registry import declared_systems
    from dagster_project.publish.gate import evaluate
    from dagster_project.publish.run import publish
    from dagster_project.publish.targets import target
    from dagster_project.publish.transports.tryton import CONCURRENCY_SETTING

    wanted = ctx.scale.erp_orders
    knobs = world_knobs(wanted)
    m = Measurement(
        "erp",
        "ERP intake (Tryton)",
        params={
            "orders": wanted,
            "seed": SEED,
            "skus": SKUS,
            "orders_per_day": knobs.orders_per_day,
            "days": knobs.days,
        },
    )
    cfg = target(TARGET)
    erp_system = declared_systems()[cfg.system or "tryton"][0]
    concurrency = erp_system.settings.get(CONCURRENCY_SETTING, 1)
    world = sandbox_world(ctx, knobs)
    erp, hub = world.erp, world.hub
    with environment(world.env()):
        counts = model_counts(hub)
        ctx.step(
            f"hub: publish.{TARGET} holds {counts.orders} orders: {counts.sendable} to send, "
            f"{counts.held_total} held ({dict(counts.held) or 'none'})"
        )
        if not counts.sendable:
            raise RuntimeError(
                f"erp bench: publish.{TARGET} holds no order to send (all held or already "
                "delivered): nothing to measure"
            )
        ctx.step("publish: gate")
        with Stopwatch() as gate_sw:
            verdict = evaluate(hub, cfg)
        if not verdict.passed:
            raise RuntimeError(f"erp bench: {verdict.summary}")
        marks: dict[str, float] = {}
        cpu = CpuSplit(erp.info.pid, postmaster_pid(ctx.pg().data_dir))

        def log(line: str) -> None:
            if "messages enqueued" in line:  # delivery starts now
                marks["enqueued"] = time.perf_counter()
                cpu.begin()
            ctx.step(f"publish: {line}")

        ctx.step("publish: diff, enqueue, deliver into Tryton")
        with Stopwatch() as publish_sw:
            result = publish(hub, cfg, log=log)
        cpu.end()
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        delivery = result.delivery
        assert delivery is not None and result.enqueued is not None
        enqueue_s = marks.get("enqueued", publish_sw.started) - publish_sw.started
        ctx.step("verify: every delivered order in Tryton, once, confirmed, same total")
        verified = verify_in_tryton(hub, erp)

    sent = delivery.outcomes["delivered"] + delivery.outcomes["existed"]
    rate = sent / delivery.seconds if delivery.seconds > 0 else None
    m.add(
        "orders delivered per second",
        round(rate, 1) if rate is not None else None,
        "orders/s",
        target=f"≥ {TARGET_RATE:.0f}",
        met=rate is not None and rate >= TARGET_RATE,
        note="created, quoted and confirmed in Tryton; from the first send to the last ack; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs",
    )
    m.add("delivery into Tryton", round(delivery.seconds, 2), "s")
    m.add("gate", round(gate_sw.seconds, 2), "s")
    m.add("verdict + diff + enqueue", round(enqueue_s, 2), "s")
    m.add("orders delivered", sent, "orders", note=f"{verified.orders} found in Tryton")
    m.add(
        "held orders skipped",
        counts.held_total,
        "orders",
        note=", ".join(f"{k} {v}" for k, v in sorted(counts.held.items())) or "none",
    )
    m.add(
        "lines per order",
        round(verified.erp_lines / verified.orders, 2) if verified.orders else None,
        "lines",
        note=(
            f"Tryton sale lines; {counts.item_lines / max(counts.sendable, 1):.2f} item lines "
            "plus one for shipping, tax and discounts when the order has them"
        ),
    )
    m.add("dead letters", delivery.outcomes["dead"], "orders")
    per_order = 1000 / max(sent, 1)
    trytond_cpu, pg_cpu, own_cpu = cpu.spent
    m.add(
        "trytond CPU per order",
        round(trytond_cpu * per_order),
        "ms",
        note=f"{trytond_cpu:.1f} s in all; {erp.workers} trytond process(es), "
        f"{concurrency} batch(es) at once",
    )
    m.add("PostgreSQL CPU per order", round(pg_cpu * per_order), "ms")
    m.add("hub side CPU per order", round(own_cpu * per_order), "ms", note="deliver, acks, RPC")
    m.add(
        "Tryton template build (once)",
        round(erp.template_seconds, 1) if erp.template_seconds is not None else None,
        "s",
        note="built now" if erp.template_seconds is not None else "reused (built earlier)",
    )
    m.add("ERP clone + start", round(erp.up_seconds, 1), "s")
    for step, seconds in world.setup_seconds.items():
        m.add(f"setup: {step}", round(seconds, 1), "s", note="shared with the events bench")
    made = (
        f"world seed {SEED}, {SKUS} SKUs, {knobs.orders_per_day} orders/day × {knobs.days} day(s)"
        if world.knobs is not None
        else "a world the caller made"
    )
    m.notes.append(
        f"{sent} storefront orders of {counts.orders} ({made}) sent through ops.outbox by "
        f"publish/deliver.py with the Tryton transport (batches of {cfg.batch_size}, "
        f"{concurrency} in the ERP at once); trytond with {erp.workers} process(es) on the "
        f"bench cluster; every delivered order checked in Tryton by reference"
    )
    if delivery.outcomes["dead"] or delivery.outcomes["retry"]:
        m.notes.append(f"not delivered: {delivery.dead[:3]} ({delivery.outcomes})")
    return m
