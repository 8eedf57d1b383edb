"""`distrohub demo|ui|stop`: the whole pipeline once on the embedded default."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import click
from rich.console import Console
from rich.table import Table

from dagster_project.hub import settings
from dagster_project.hub.cluster import ClusterError
from dagster_project.hub.lifecycle import start_hub, stop_hub

# piped output (CI logs, `make demo | tee`) gets room for the summary table
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

UI_HOST = "127.0.0.1"
DEFAULT_UI_PORT = 3000


def _ui_port() -> int:
    return int(os.environ.get("DISTROHUB_UI_PORT", DEFAULT_UI_PORT))


def _start_hub_or_exit() -> None:
    try:
        state = start_hub(lambda m: console.log(m))
    except (ClusterError, settings.HubNotConfigured) as exc:
        err.print(f"[bold red]hub:[/] {exc}")
        sys.exit(1)
    verb = "started" if state.started_now else "running"
    console.log(f"hub {verb} ({state.mode}) at {state.urls.server}")


def materialize_all() -> tuple[bool, list[tuple[str, dict]], list[str]]:
    """Materialize every asset once into the Dagster instance (dagster-postgres).

    Returns (success, [(asset key, metadata)], [failed step messages]).
    """
    import dagster as dg

    from dagster_project.definitions import defs

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
    materialized = []
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        materialized.append((mat.asset_key.to_user_string(), meta))
    failures = [
        f"{ev.step_key}: {ev.event_specific_data.error.message.strip()}"
        for ev in result.all_events
        if ev.is_step_failure and ev.event_specific_data and ev.event_specific_data.error
    ]
    return result.success, materialized, failures


def _step(title: str, *args: str) -> None:
    console.rule(f"[bold]{title}")
    result = run_plugin(*args)
    if result.returncode != 0:
        err.print(
            f"[bold red]{title} failed[/] (`distrohub {' '.join(args)}`, exit "
            f"{result.returncode}); see its output above. `make stop` stops what started."
        )
        sys.exit(result.returncode)


@click.command()
@click.option("--seed", default=1, show_default=True, help="The sandbox world's seed.")
@click.option("--skus", default=50, show_default=True, help="Items in the sandbox world.")
@click.option("--orders-per-day", default=20, show_default=True)
@click.option("--days", default=3, show_default=True)
@click.option(
    "--scenario",
    type=click.Choice(("clean", "discrepancies")),
    default="clean",
    show_default=True,
    help="clean: every system agrees; discrepancies: planted differences to reconcile.",
)
def demo(seed: int, skus: int, orders_per_day: int, days: int, scenario: str) -> None:
    """Start everything on this machine and run the whole pipeline once."""
    started = time.monotonic()
    console.rule("distrohub demo")
    _start_hub_or_exit()
    world = [
        "--seed",
        str(seed),
        "--skus",
        str(skus),
        "--orders-per-day",
        str(orders_per_day),
        "--days",
        str(days),
        "--scenario",
        scenario,
    ]
    _step("sandbox systems (storefronts, WMS, 3PL, carrier, suppliers)", "sandbox", "up", *world)
    _step("the ERP (Tryton), seeded from the same world", "erp", "up", *world)
    settings.load_generated_environment()
    console.rule("[bold]the pipeline")
    log_path = settings.state_dir() / "demo-run.log"
    with console.status(f"materializing every asset once… (dbt's output: {log_path})"):
        with log_path.open("w") as log, contextlib.redirect_stdout(log):
            ok, materialized, failures = materialize_all()
    console.print(summary_table(materialized))
    deliveries = delivery_table(materialized)
    if deliveries is not None:
        console.print(deliveries)
    for failure in failures:
        err.print(f"[red]failed[/] {failure}")
    console.print(
        f"{'[green]done' if ok else '[red]finished with failures'}[/] in "
        f"{time.monotonic() - started:.1f} s. Open the UI with [bold]make ui[/] "
        f"(http://{UI_HOST}:{_ui_port()}); stop everything with [bold]make stop[/]."
    )
    sys.exit(0 if ok else 1)


COUNTS = ("read", "inserted", "updated", "unchanged", "quarantined")


def summary_table(materialized: list[tuple[str, dict]]) -> Table:
    """One row per system: streams landed and what became of their records."""
    per_system: dict[str, dict[str, int]] = {}
    others: list[str] = []
    for key, meta in materialized:
        if key.startswith("deliver/"):
            continue
        if not key.startswith("raw/"):
            others.append(key)
            continue
        system = key.removeprefix("raw/").split("__", 1)[0]
        row = per_system.setdefault(system, dict.fromkeys(("streams", *COUNTS), 0))
        row["streams"] += 1
        for name in COUNTS:
            row[name] += int(meta.get(name) or 0)
    table = Table(title="what the pipeline loaded")
    table.add_column("system", no_wrap=True)
    for name in ("streams", *COUNTS):
        table.add_column(name, justify="right")
    for system, row in sorted(per_system.items()):
        style = "yellow" if row["quarantined"] else None
        table.add_row(system, *(str(row[c]) for c in ("streams", *COUNTS)), style=style)
    if others:
        layers = Counter(key.split("/", 1)[0] if "/" in key else key for key in others)
        table.caption = "also materialized: " + ", ".join(
            f"{n} {layer}" if n > 1 else layer for layer, n in sorted(layers.items())
        )
    return table


#: (metadata key, column label) of each delivery's figures
DELIVERY_COUNTS = (
    ("records_added", "new"),
    ("records_changed", "changed"),
    ("records_held", "held"),
    ("messages_enqueued", "queued"),
    ("suppressed_loop", "in target"),
    ("delivered", "sent"),
    ("already_there", "existed"),
    ("retry_scheduled", "retry"),
    ("dead_letters", "dead"),
)


def delivery_table(materialized: list[tuple[str, dict]]) -> Table | None:
    """One row per publish target: what its gated delivery sent."""
    rows = [(k.removeprefix("deliver/"), m) for k, m in materialized if k.startswith("deliver/")]
    if not rows:
        return None
    table = Table(
        title="what the pipeline published (gated; ops.outbox)",
        caption="in target: already held by the system (loop suppression, not sent); "
        "existed: found there on a resend",
    )
    table.add_column("target", no_wrap=True)
    for _, label in DELIVERY_COUNTS:
        table.add_column(label, justify="right")
    for target, meta in sorted(rows):
        style = "yellow" if meta.get("dead_letters") else None
        table.add_row(target, *(str(meta.get(key, 0)) for key, _ in DELIVERY_COUNTS), style=style)
    return table


@click.command()
@click.option("--port", type=int, default=None, help="Port (default 3000, DISTROHUB_UI_PORT).")
def ui(port: int | None) -> None:
    """Serve the Dagster UI (dagster dev) on 127.0.0.1."""
    _start_hub_or_exit()
    port = port or _ui_port()
    exe = shutil.which("dagster", path=os.path.dirname(sys.executable)) or shutil.which("dagster")
    if exe is None:
        err.print("[red]dagster not found in the venv: run `make install`[/]")
        sys.exit(1)
    console.print(f"Dagster UI on http://{UI_HOST}:{port} (Ctrl-C stops it)")
    os.chdir(settings.REPO_ROOT)
    os.execv(exe, [exe, "dev", "-w", "workspace.yaml", "-h", UI_HOST, "-p", str(port)])


@click.command()
def stop() -> None:
    """Stop everything the demo started (the ERP, the sandbox systems, the hub)."""
    for part in (("erp", "down"), ("sandbox", "down")):
        if run_plugin(*part).returncode != 0:
            err.print(f"[yellow]`distrohub {' '.join(part)}` did not finish cleanly[/]")
    try:
        console.print(f"hub: {stop_hub()}")
    except ClusterError as exc:
        err.print(f"[red]hub:[/] {exc}")
        sys.exit(1)


def run_plugin(*args: str) -> subprocess.CompletedProcess:
    """Run another distrohub sub-command in its own process (keeps plugins decoupled)."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args],
        env=settings.operator_environment(),
    )
