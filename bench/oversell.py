"""Measurement 6, the business figure: does a distributor running the hub oversell?

A simulated period of the world the ERP-intake and event-latency measurements use
(:mod:`bench.sandbox_world`: the sandbox systems, the real ERP seeded from the same world, a
hub with every stream landed and every model built). The pipeline runs one whole pass (every
asset, landing to deliveries, as ``distrohub demo``'s ``materialize_all`` runs it) at the
start and then after every ``oversell_every_hours`` simulated hours, the sandbox's clock
advanced in between (``advance``), for ``oversell_days`` days. Every figure but the end ones
comes from the sandbox's truth, not from the hub's tables:

* **oversold units**: release lines (received by a WMS or the 3PL during the period) that are
  finished (shipped, short-shipped, closed short after their backorder window, rejected) and
  were never covered by stock: ``quantity - allocated``. Units allocated and then not picked
  (the WMSs' short picks, a bin that held less than its count: the sandbox's bin errors) are
  left out and shown apart, as are lines the scenario's ``discrepancies`` section names;
* **store side**: units the stores took beyond the level they showed (a level below zero),
  from the truth's ``storefront_levels`` just before each pass (only orders move a level
  between passes) against those just after the previous one;
* **longest stale listing**: after each pass, per (store, SKU, location), whether the store
  shows more than the hub computed in that pass (``marts.sellable_inventory.
  published_quantity``); the longest run of such passes times the pass interval;
* **at the end**, after one more landing and build (no clock move, no delivery) so the
  reconciliation sees what the last pass delivered: the hub's ``marts.recon_shipments``
  ``not_posted`` rows (the ERP's posting as the hub reads it), ``core.shipment`` rows with no
  order, and ``marts.recon_prices`` / ``marts.recon_availability`` rows (drift unhealed).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from bench.context import BenchContext, environment
from bench.erp import QUIET, world_knobs
from bench.report import Measurement
from bench.sandbox_world import sandbox_world

LAYERS = ("raw", "staging", "core", "marts", "publish", "deliver")
#: a finished release: nothing more will ship from it
DONE_RELEASES = ("shipped", "short_shipped", "closed_short")
#: a finished line, whatever its release's status
DONE_LINES = ("closed_short", "rejected")
Key = tuple[str, str, str]  # (store, SKU, location)


def _ts(value: str | None) -> float | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class Oversold:
    """What the warehouses could not ship, from the truth's ``releases``."""

    units: int = 0  # ordered, never covered by stock
    lines: int = 0  # lines with such units
    by_location: dict[str, int] = field(default_factory=dict)
    short_picked: int = 0  # allocated, not picked: bin errors (left out of ``units``)
    planted: int = 0  # units on lines the scenario's discrepancies name (left out)
    backordered_open: int = 0  # still waiting for stock at the end (not counted yet)
    released_lines: int = 0  # lines released in the period


def oversold(truth: dict[str, Any], since: str | None) -> Oversold:
    """Units ordered beyond what could ship, on releases received at or after ``since`` (ISO;
    None: every release). ``truth`` holds the ``releases`` and ``discrepancies`` sections."""
    start = _ts(since)
    planted = {str(d.get("key")) for d in truth.get("discrepancies", [])}
    out = Oversold()
    for rel in truth["releases"]:
        if rel["status"] == "cancelled":
            continue
        received = _ts(rel.get("received_at"))
        if start is not None and received is not None and received < start:
            continue
        finished = rel["status"] in DONE_RELEASES
        for ln in rel["lines"]:
            out.released_lines += 1
            missing = max(0, ln["quantity"] - ln["allocated"])
            if not (finished or ln["status"] in DONE_LINES):
                out.backordered_open += missing
                continue
            if rel.get("order_ref") in planted or f"{ln['sku']}@{rel['location']}" in planted:
                out.planted += missing
                continue
            out.short_picked += max(0, ln["allocated"] - ln["shipped"])
            if missing:
                out.units += missing
                out.lines += 1
                out.by_location[rel["location"]] = out.by_location.get(rel["location"], 0) + missing
    return out


def store_levels(truth: dict[str, Any]) -> dict[Key, int]:
    """(store, SKU, location) → the level the store shows (the truth's ``storefront_levels``)."""
    return {
        (r["channel"], r["sku"], r["location"]): r["available"] for r in truth["storefront_levels"]
    }


def oversold_at_store(before: dict[Key, int], after_previous: dict[Key, int]) -> int:
    """Units taken beyond the level shown since the previous pass: how much further below
    zero each level went (only orders move a store's level between passes)."""
    return sum(
        max(0, max(0, -level) - max(0, -after_previous.get(key, 0)))
        for key, level in before.items()
    )


@dataclass
class Staleness:
    """Per (store, SKU, location), runs of consecutive passes after which the store showed more
    than the hub had just computed for it."""

    run: dict[Key, int] = field(default_factory=dict)
    longest: int = 0  # passes
    longest_key: Key | None = None
    ever: set[Key] = field(default_factory=set)
    compared: int = 0  # (store, SKU, location) compared in the last pass

    def observe(self, store: dict[Key, int], hub_knew: dict[Key, int]) -> int:
        """One pass: the store's levels after it and the hub's published quantities; how many
        listings show more than the hub knew."""
        stale = {k for k, q in hub_knew.items() if k in store and store[k] > q}
        self.compared = sum(1 for k in hub_knew if k in store)
        self.run = {k: self.run.get(k, 0) + 1 for k in stale}
        self.ever |= stale
        for k, n in self.run.items():
            if n > self.longest:
                self.longest, self.longest_key = n, k
        return len(stale)


def hub_knew(hub: str) -> dict[Key, int]:
    """What the hub computed in its latest pass: the published quantity per channel, SKU and
    location (rows it holds back, published_quantity null, are left out)."""
    with psycopg.connect(hub) as conn:
        rows = conn.execute(
            """select channel, sku, location, published_quantity
                 from marts.sellable_inventory where published_quantity is not null"""
        ).fetchall()
    return {(c, s, loc): int(q) for c, s, loc, q in rows}


def _count(conn: psycopg.Connection, query: str) -> int:
    return int(conn.execute(query).fetchone()[0])


def end_state(hub: str) -> dict[str, int]:
    """The hub's reconciliation at the end."""
    with psycopg.connect(hub) as conn:
        return {
            "not_posted": _count(
                conn, "select count(*) from marts.recon_shipments where discrepancy = 'not_posted'"
            ),
            "recon_unmatched": _count(
                conn, "select count(*) from marts.recon_shipments where discrepancy = 'unmatched'"
            ),
            "shipments": _count(conn, "select count(*) from core.shipment"),
            "unmatched": _count(conn, "select count(*) from core.shipment where order_key is null"),
            "price_drift": _count(conn, "select count(*) from marts.recon_prices"),
            "level_drift": _count(conn, "select count(*) from marts.recon_availability"),
        }


def pipeline_pass(ctx: BenchContext, layers: Iterable[str] = LAYERS) -> tuple[float, list[str]]:
    """Every asset of ``layers`` once, in process, as ``materialize_all`` runs them (an
    ephemeral instance; dbt's output to a log): its seconds and its failed steps."""
    import dagster as dg

    from dagster_project.definitions import defs

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    wanted = set(layers)
    keys = [k for k in definitions.resolve_all_asset_keys() if k.path[0] in wanted]
    log = ctx.state_dir / "oversell.log"
    started = time.monotonic()
    with (
        dg.DagsterInstance.ephemeral() as instance,
        log.open("a") as sink,
        contextlib.redirect_stdout(sink),
    ):
        result = job.execute_in_process(
            run_config=QUIET, instance=instance, asset_selection=keys, raise_on_error=False
        )
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    return time.monotonic() - started, failed


def run(ctx: BenchContext) -> Measurement:
    days, every = ctx.scale.oversell_days, ctx.scale.oversell_every_hours
    passes = max(1, math.ceil(days * 24 / every))
    m = Measurement(
        "oversell",
        "Oversell: a simulated period, a pipeline pass every few hours",
        params={"days": days, "every_hours": every, "passes": passes},
    )
    world = sandbox_world(ctx, world_knobs(ctx.scale.erp_orders))
    sb, hub = world.sandbox, world.hub
    staleness = Staleness()
    at_store = 0
    failed_passes: list[str] = []
    pass_seconds: list[float] = []
    with environment(world.env()):
        start = sb.control.truth(["clock", "storefront_levels"])
        since = start["clock"]["now"]
        after = store_levels(start)  # the levels after the previous pass
        for k in range(passes + 1):
            if k:
                sb.control.advance(hours=every)
                at_store += oversold_at_store(
                    store_levels(sb.control.truth(["storefront_levels"])), after
                )
            seconds, failed = pipeline_pass(ctx)
            pass_seconds.append(seconds)
            if failed:
                failed_passes.append(f"pass {k}: {', '.join(failed)}")
            now = sb.control.truth(["clock", "storefront_levels"])
            after = store_levels(now)
            stale = staleness.observe(after, hub_knew(hub))
            ctx.step(
                f"oversell: pass {k} of {passes} at simulated {now['clock']['now']} "
                f"(+{k * every} h): {seconds:.0f} s, {stale} listing(s) above what the hub "
                f"knew, {at_store} unit(s) taken below zero so far"
                + (f", failed steps {failed}" if failed else "")
            )
        if not staleness.compared:
            raise RuntimeError(
                "oversell bench: no store listing matched marts.sellable_inventory's "
                "(channel, sku, location): nothing to compare"
            )
        seconds, failed = pipeline_pass(ctx, ("raw", "staging", "core", "marts"))
        ctx.step(f"oversell: the closing landing and build, {seconds:.0f} s")
        if failed:
            failed_passes.append(f"closing build: {', '.join(failed)}")
        truth = sb.control.truth(["releases", "shipments", "discrepancies"])
        end = end_state(hub)

    sold = oversold(truth, since)
    shipped = [s for s in truth["shipments"] if (_ts(s["shipped_at"]) or 0) >= (_ts(since) or 0)]
    m.add("oversold units (warehouses could not ship)", sold.units, "units", "0", sold.units == 0)
    m.add("order lines oversold", sold.lines, "lines", note=f"of {sold.released_lines} released")
    m.add("units taken below a store's level", at_store, "units")
    m.add(
        "longest a store showed stock the hub knew was gone",
        staleness.longest * every,
        "h (simulated)",
        note=f"{staleness.longest_key}" if staleness.longest_key else "",
    )
    m.add("listings ever above what the hub knew", len(staleness.ever), "listings")
    m.add(
        "confirmed shipments unposted in the ERP (hub's recon)",
        end["not_posted"],
        "shipments",
        "0",
        end["not_posted"] == 0,
    )
    m.add(
        "confirmations unmatched to an order",
        end["unmatched"],
        "shipments",
        "0",
        end["unmatched"] == 0 and end["recon_unmatched"] == 0,
    )
    drift = end["price_drift"] + end["level_drift"]
    m.add("drift unhealed at the end (prices + levels)", drift, "rows", "0", drift == 0)
    m.add("pipeline pass p50", round(sorted(pass_seconds)[len(pass_seconds) // 2], 1), "s")
    m.add("passes with failed steps", len(failed_passes), "passes")
    where = ", ".join(f"{loc} {n}" for loc, n in sorted(sold.by_location.items())) or "none"
    m.notes += [
        f"{days} simulated day(s), a whole pipeline pass (landing to deliveries) at the start and "
        f"every {every} h ({passes + 1} passes, p50 "
        f"{sorted(pass_seconds)[len(pass_seconds) // 2]:.0f} s); figures from the sandbox's "
        f"truth from {since}, the end figures from the hub's reconciliation after a closing "
        "landing and build",
        f"oversold by location: {where}; left out: {sold.short_picked} unit(s) short-picked "
        f"(bin errors), {sold.planted} on planted discrepancies, {sold.backordered_open} still "
        "backordered at the end",
        f"shipments confirmed in the period: {len(shipped)} (truth); the hub holds "
        f"{end['shipments']}; recon_shipments lists {end['not_posted']} not_posted and "
        f"{end['recon_unmatched']} unmatched; the ERP itself is not read",
        f"drift at the end: {end['price_drift']} recon_prices row(s), {end['level_drift']} "
        "recon_availability row(s)",
        f"store levels compared with what the hub knew after each pass: {staleness.compared} "
        "(store, SKU, location) (those the hub holds back, published_quantity null, are not)",
        *failed_passes,
    ]
    return m
