"""`distrohub erp up|down|status|seed`: the embedded Tryton ERP.

``up`` starts the hub if needed (it is idempotent), then the ERP (see
:mod:`dagster_project.erp.server`) and, with ``--seed``, fills it from the
sandbox world. Seeding runs the sandbox's own command (``python -m
sandbox.erp_seed``) in a subprocess: the product never imports the sandbox.
The world options default to the sandbox's (``distrohub sandbox up``), so the
same ``--seed`` gives the ERP the same world the sandbox systems serve.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dagster_project.connectors.tryton import ENV_PASSWORD, ENV_URL, ENV_USER
from dagster_project.erp.server import (
    DEFAULT_DB,
    ErpError,
    ErpServer,
    env_file,
    load_erp_environment,
)
from dagster_project.hub import settings

console = Console(log_path=False)
err = Console(stderr=True)

SEED_TIMEOUT = 3600
SCENARIOS = ("clean", "discrepancies")


@dataclass(frozen=True)
class WorldArgs:
    """The arguments of ``sandbox.worldgen.generate_world`` (same arguments, same world)."""

    seed: int
    skus: int
    orders_per_day: int
    days: int
    scenario: str

    def argv(self) -> list[str]:
        return [
            "--seed", str(self.seed), "--skus", str(self.skus),
            "--orders-per-day", str(self.orders_per_day), "--days", str(self.days),
            "--scenario", self.scenario,
        ]  # fmt: skip


def world_options(seed_required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--seed --skus --orders-per-day --days --scenario``, with the sandbox's defaults."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([
            click.option("--seed", type=int, required=seed_required, default=None,
                         help="The sandbox world's seed" + (
                             "." if seed_required else " (seed the ERP from it).")),
            click.option("--skus", type=click.IntRange(10), default=50, show_default=True),
            click.option("--orders-per-day", type=click.IntRange(0), default=20,
                         show_default=True),
            click.option("--days", type=click.IntRange(0), default=3, show_default=True),
            click.option("--scenario", type=click.Choice(SCENARIOS), default="clean",
                         show_default=True),
        ]):  # fmt: skip
            func = option(func)
        return func

    return decorate


def _fail(exc: BaseException) -> None:
    err.print(f"[bold red]erp:[/] {exc}")
    sys.exit(1)


def _admin_url() -> str:
    settings.load_generated_environment()
    url = os.environ.get(settings.ENV_ADMIN_DATABASE_URL)
    if not url:
        _fail(
            ErpError(
                f"{settings.ENV_ADMIN_DATABASE_URL} is not set: the ERP needs a superuser URL "
                "of the hub's cluster to create its role and databases. Fix: `distrohub hub "
                "start` (the embedded hub sets it), or export it for an external server."
            )
        )
    return url  # type: ignore[return-value]


def _server(database: str | None) -> ErpServer:
    return ErpServer(_admin_url(), database=database)


@click.group()
def erp() -> None:
    """The ERP: a real Tryton 8.2 on the hub's PostgreSQL, reached over JSON-RPC."""


@erp.command()
@click.option("--database", default=None, help=f"ERP database name [default: {DEFAULT_DB}].")
@click.option(
    "--rebuild-template",
    is_flag=True,
    help="Rebuild the tryton_template database even if it is current.",
)
@click.option(
    "--reset-password",
    is_flag=True,
    help="Give the ERP user the password of erp.env again (with the server down).",
)
@world_options(seed_required=False)
def up(
    database: str | None,
    rebuild_template: bool,
    reset_password: bool,
    seed: int | None,
    **world: Any,
) -> None:
    """Start the ERP (template, database, trytond), each step only if needed; seed it."""
    from dagster_project.hub.lifecycle import start_hub

    started = time.monotonic()
    try:
        with console.status("starting the hub…"):
            start_hub(lambda m: console.log(m))
        server = _server(database)
        with console.status("starting the ERP…") as status:

            def say(message: str) -> None:
                console.log(message)
                status.update(message + "…")

            info = server.up(say, rebuild_template=rebuild_template, reset_password=reset_password)
    except (ErpError, settings.HubNotConfigured) as exc:
        _fail(exc)
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in server.timings.items()) or "nothing to do"
    verb = "started" if info.started_now else "already running"
    console.print(
        f"[green]ERP {verb}[/] at {info.url} (user {info.user!r}, pid {info.pid}; {steps}); "
        f"credentials in {env_file()}"
    )
    # a restarted trytond may listen on another port: refresh what this process loaded from
    # the old generated file (an operator's own settings still win)
    settings.load_generated_environment()
    if seed is not None:
        _run_seed(WorldArgs(seed=seed, **world))
    console.print(f"done in {time.monotonic() - started:.1f} s")


@erp.command()
@click.option("--drop", is_flag=True, help="Also drop the ERP database (its data is lost).")
@click.option("--database", default=None, help="ERP database name.")
def down(drop: bool, database: str | None) -> None:
    """Stop the trytond that `erp up` started (nothing else)."""
    try:
        server = _server(database)
        stopped = server.stop()
        console.print(f"ERP: {'stopped' if stopped else 'was not running'}")
        if drop:
            server.drop_database()
            console.print(f"ERP: dropped database {server.database}")
    except ErpError as exc:
        _fail(exc)


@erp.command()
@click.option("--database", default=None, help="ERP database name.")
def status(database: str | None) -> None:
    """Show whether the ERP runs, where, and the template's state (exit 3 when down)."""
    try:
        st = _server(database).status()
    except ErpError as exc:
        _fail(exc)
    table = Table(title="distrohub erp (Tryton)", show_header=False)
    for key, value in st.items():
        shown = ("[green]yes[/]" if value else "[red]no[/]") if key == "running" else value
        table.add_row(key, str(shown))
    console.print(table)
    sys.exit(0 if st["running"] else 3)


@erp.command()
@world_options(seed_required=True)
def seed(**world: Any) -> None:
    """Seed the running ERP from the sandbox world (idempotent: seeding twice adds nothing)."""
    _run_seed(WorldArgs(**world))


def _run_seed(world: WorldArgs) -> None:
    """Run ``python -m sandbox.erp_seed`` with the ERP's credentials in its environment."""
    load_erp_environment()
    missing = [k for k in (ENV_URL, ENV_USER, ENV_PASSWORD) if not os.environ.get(k)]
    if missing:
        _fail(ErpError(f"{', '.join(missing)} not set: run `distrohub erp up` first."))
    args = [sys.executable, "-m", "sandbox.erp_seed", *world.argv(), "--quiet"]
    started = time.monotonic()
    with console.status(f"seeding the ERP from the sandbox world ({' '.join(world.argv())})…"):
        try:
            res = subprocess.run(
                args, timeout=SEED_TIMEOUT, stdin=subprocess.DEVNULL, capture_output=True,
                text=True,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            _fail(ErpError(f"seeding did not finish within {SEED_TIMEOUT} s"))
    if res.returncode != 0:
        _fail(ErpError(f"seeding failed (exit {res.returncode}): {res.stderr.strip()}"))
    _print_seed_report(res.stdout, time.monotonic() - started)


def _print_seed_report(stdout: str, seconds: float) -> None:
    import json

    try:
        report = json.loads(stdout)
    except ValueError:
        console.print(stdout)
        return
    table = Table(title=f"ERP seeded in {seconds:.1f} s ({report.get('rpc_calls')} calls)")
    table.add_column("records")
    table.add_column("created", justify="right")
    table.add_column("already there", justify="right")
    for key, created in report.get("created", {}).items():
        table.add_row(key, str(created), str(report.get("existing", {}).get(key, 0)))
    console.print(table)
    for note in report.get("notes", []):
        console.print(f"[yellow]note:[/] {note}")
