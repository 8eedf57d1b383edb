"""`distrohub bench` (`make bench`): run the measurements, print a table, save JSON and a plot."""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import click
from rich.console import Console

from bench.context import PRESETS, BenchContext, scale_from
from bench.report import Measurement, print_table, save

console = Console(width=None if sys.stdout.isatty() else 120)

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: key → (module, what it measures). Each module has ``run(ctx) -> Measurement``.
MEASUREMENTS: dict[str, tuple[str, str]] = {
    "ingest": ("bench.ingest", "storefront orders into raw, beside dlt's rest_api source"),
    "rebuild": ("bench.rebuild", "full rebuild: staging → marts → publish, gates and diff"),
    "incremental": ("bench.incremental", "1% of stock changed: time and messages sent"),
    # erp before events: they share one sandbox world (bench/sandbox_world.py), and the ERP
    # intake is measured on orders not delivered yet; events then publishes the rest
    "erp": ("bench.erp_intake", "storefront orders per second into Tryton"),
    "erp_shipments": ("bench.erp_shipments", "shipments and invoices posted per second in Tryton"),
    "events": ("bench.events", "WMS stock event → storefront inventory level set, gated"),
    # last: it plays the shared world's clock forward
    "oversell": ("bench.oversell", "a simulated period, a pass every few hours: oversold units"),
}


def run_measurements(ctx: BenchContext, keys: list[str]) -> list[Measurement]:
    results: list[Measurement] = []
    for key in keys:
        module_name, what = MEASUREMENTS[key]
        ctx.step(f"[{key}] {what}")
        started = time.monotonic()
        try:
            module = importlib.import_module(module_name)
            measurement = module.run(ctx)
        except Exception as exc:  # one measurement failing must not lose the others
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            ctx.step(f"[{key}] did not complete: {detail}")
            if os.environ.get("DISTROHUB_BENCH_TRACEBACK"):
                traceback.print_exc()
            measurement = Measurement(key, key, error=detail)
        measurement.seconds = round(time.monotonic() - started, 1)
        ctx.step(f"[{key}] done in {measurement.seconds:.0f} s")
        results.append(measurement)
    return results


def _ints(value: str | None) -> tuple[int, ...]:
    if not value:
        return ()
    return tuple(int(v.replace("_", "")) for v in value.split(","))


@click.command("bench")
@click.option(
    "--scale",
    "preset",
    type=click.Choice(sorted(PRESETS)),
    default="default",
    show_default=True,
    help="smoke: seconds; default: the figures in the README.",
)
@click.option("--only", help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
@click.option("--skus", type=int, help="rebuild: SKUs in the catalog")
@click.option("--locations", type=int, help="rebuild/incremental: stocking locations")
@click.option("--channels", type=int, help="rebuild/incremental: storefront channels")
@click.option("--orders", help="ingest: storefront orders per run, comma-separated (20000,200000)")
@click.option("--incremental-skus", help="incremental: catalog sizes, comma-separated")
@click.option("--events", type=int, help="event latency: how many stock events")
@click.option("--erp-orders", type=int, help="ERP intake: how many orders")
@click.option("--oversell-days", type=int, help="oversell: simulated days (a fortnight: 14)")
@click.option("--oversell-every", type=int, help="oversell: simulated hours between passes")
@click.option("--no-dlt", is_flag=True, help="ingest: skip the dlt comparison")
@click.option("--out", type=click.Path(path_type=Path), default=RESULTS_DIR, show_default=True)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="where the bench's cluster lives (default: $DISTROHUB_STATE_DIR/bench)",
)
def bench(
    preset,
    only,
    skus,
    locations,
    channels,
    orders,
    incremental_skus,
    events,
    erp_orders,
    oversell_days,
    oversell_every,
    no_dlt,
    out,
    state_dir,
) -> None:
    """Measure ingest, rebuild, incremental, event latency, ERP intake and oversell on this
    machine."""
    from dagster_project.hub import settings

    keys = [k.strip() for k in only.split(",")] if only else list(MEASUREMENTS)
    unknown = [k for k in keys if k not in MEASUREMENTS]
    if unknown:
        raise click.BadParameter(f"unknown measurement(s) {unknown}; known: {list(MEASUREMENTS)}")
    scale = scale_from(
        preset,
        skus=skus,
        locations=locations,
        channels=channels,
        orders=_ints(orders),
        incremental_skus=_ints(incremental_skus),
        events=events,
        erp_orders=erp_orders,
        oversell_days=oversell_days,
        oversell_every_hours=oversell_every,
        dlt=False if no_dlt else None,
    )
    ctx = BenchContext(
        scale=scale,
        state_dir=(state_dir or settings.state_dir() / "bench").resolve(),
        progress=lambda m: console.log(m),
    )
    ctx.state_dir.mkdir(parents=True, exist_ok=True)
    console.log(f"bench at scale {preset}: {scale.as_dict()}")
    try:
        results = run_measurements(ctx, keys)
    finally:
        ctx.close()
    print_table(results, console)
    paths = save(results, {"preset": preset, **scale.as_dict()}, out)
    console.print(f"results: {paths['json']} (and {paths['latest'].name}, {paths['png'].name})")
    if any(m.error for m in results):
        sys.exit(1)
