"""``distrohub sandbox``: start, stop and inspect the sandbox systems.

Registered as the ``sandbox`` sub-command through the ``distrohub.commands``
entry point; the product never imports this package.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sandbox.control_client import ControlClient, ControlError
from sandbox.faults import PROFILES, FaultError, parse_profiles
from sandbox.rate_limit import PLANS
from sandbox.runtime import SYSTEMS, SandboxConfig
from sandbox.shopify_payloads import API_VERSION
from sandbox.state_dir import (
    new_credentials,
    read_env_file,
    read_json,
    state_dir,
    systems_env,
    write_json,
    write_systems_env,
)
from sandbox.world import SCENARIOS

console = Console()
err = Console(stderr=True)


def _state(ctx: click.Context) -> Path:
    return state_dir(ctx.obj.get("state_dir") if ctx.obj else None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_server(pid: int, state: Path) -> bool:
    """The pid is alive and is the sandbox server we started for this state dir."""
    if not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    return b"sandbox.server" in cmdline and str(state).encode() in cmdline


def _control(state: Path) -> ControlClient | None:
    runtime = read_json(state / "runtime.json")
    creds = read_json(state / "credentials.json")
    if not runtime or not creds:
        return None
    return ControlClient(runtime["urls"]["control"], creds["control"]["token"])


def _running(state: Path) -> dict[str, Any] | None:
    pid_info = read_json(state / "server.pid.json")
    runtime = read_json(state / "runtime.json")
    if not pid_info or not runtime or not _is_our_server(int(pid_info["pid"]), state):
        return None
    client = _control(state)
    if client is None:
        return None
    with client:
        return runtime if client.ping() else None


@click.group("sandbox", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--state-dir",
    "state_dir_opt",
    envvar="DISTROHUB_STATE_DIR",
    default=None,
    help="State directory (default $DISTROHUB_STATE_DIR or <repo>/.distrohub).",
)
@click.pass_context
def sandbox(ctx: click.Context, state_dir_opt: str | None) -> None:
    """The sandbox systems: a deterministic distributor world behind real wire contracts
    (Shopify Admin REST storefronts, two WMSs, a 3PL drop folder, EDI suppliers, a carrier)."""
    ctx.ensure_object(dict)
    ctx.obj["state_dir"] = state_dir_opt


@sandbox.command()
@click.option(
    "--skus",
    default=50,
    show_default=True,
    type=click.IntRange(10, 1_000_000),
    help="Number of items.",
)
@click.option("--orders-per-day", default=20, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option(
    "--days",
    default=3,
    show_default=True,
    type=click.IntRange(0, 3650),
    help="Days of activity played before serving.",
)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--scenario", default="clean", show_default=True, type=click.Choice(SCENARIOS))
@click.option(
    "--faults", default="", help=f"Comma-separated fault profiles: {', '.join(PROFILES)}."
)
@click.option(
    "--auto-release", is_flag=True, help="Release storefront orders to the WMS without the hub."
)
@click.option(
    "--tick",
    "tick_seconds",
    default=0.0,
    type=float,
    help="Advance one simulated hour every TICK wall-clock seconds (0 = only on request).",
)
@click.option(
    "--api-plan",
    default="standard",
    show_default=True,
    type=click.Choice(list(PLANS)),
    help="Shopify leaky-bucket plan of the B2B and D2C storefronts.",
)
@click.option(
    "--marketplace-api-plan", default="advanced", show_default=True, type=click.Choice(list(PLANS))
)
@click.option(
    "--timeout-seconds",
    default=15.0,
    show_default=True,
    type=float,
    help="How long the `timeouts` fault holds a request.",
)
@click.option(
    "--webhook-url",
    envvar="DISTROHUB_WEBHOOK_URL",
    default=None,
    help="Base URL webhooks are POSTed to (default $DISTROHUB_WEBHOOK_URL; none = not sent).",
)
@click.option(
    "--port-base",
    default=0,
    type=click.IntRange(0, 65000),
    help="First port (systems take consecutive ports); 0 = free ports.",
)
@click.option(
    "--backlog-orders",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Benchmarks: place exactly this many orders in the --backlog-channel store over the "
    "30 days before the epoch (needs --orders-per-day 0; seconds for 200,000).",
)
@click.option(
    "--backlog-channel",
    default="D2C",
    show_default=True,
    type=click.Choice(["B2B", "D2C", "MARKETPLACE"]),
)
@click.option(
    "--prerender-orders",
    is_flag=True,
    help="Benchmarks: render every storefront order once at start and serve order lists from "
    "those bytes (re-rendered when the store changes), so serving costs little CPU.",
)
@click.option(
    "--wait",
    "wait_seconds",
    default=900,
    show_default=True,
    type=int,
    help="Give up waiting for the servers after this many seconds.",
)
@click.pass_context
def up(
    ctx: click.Context,
    skus: int,
    orders_per_day: int,
    days: int,
    seed: int,
    scenario: str,
    faults: str,
    auto_release: bool,
    tick_seconds: float,
    api_plan: str,
    marketplace_api_plan: str,
    timeout_seconds: float,
    webhook_url: str | None,
    port_base: int,
    backlog_orders: int,
    backlog_channel: str,
    prerender_orders: bool,
    wait_seconds: int,
) -> None:
    """Generate the world and start every system in the background (harmless if already up)."""
    state = _state(ctx)
    try:
        profiles = parse_profiles(faults)
    except FaultError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    if backlog_orders and orders_per_day:
        raise click.BadParameter(
            "a backlog goes into an empty store: pass --orders-per-day 0 with it",
            param_hint="--backlog-orders",
        )
    running = _running(state)
    if running:
        console.print(
            f"[green]sandbox already running[/] (pid {running['pid']}); "
            "`distrohub sandbox down` first to start a different world"
        )
        _print_systems(state, running)
        return
    starting = read_json(state / "server.pid.json")
    if starting and _is_our_server(int(starting["pid"]), state):
        console.print(f"sandbox is already starting (pid {starting['pid']}); waiting for it")
        _print_systems(state, _wait_ready(state, int(starting["pid"]), wait_seconds))
        return
    config = SandboxConfig(
        seed=seed,
        skus=skus,
        orders_per_day=orders_per_day,
        days=days,
        scenario=scenario,
        faults=profiles,
        auto_release=auto_release,
        tick_seconds=tick_seconds,
        api_plan=api_plan,
        marketplace_api_plan=marketplace_api_plan,
        timeout_seconds=timeout_seconds,
        webhook_url=webhook_url,
        ports={s: port_base + i for i, s in enumerate((*SYSTEMS, "smtp"))} if port_base else {},
        backlog_orders=backlog_orders,
        backlog_channel=backlog_channel,
        prerender_orders=prerender_orders,
    )
    for stale in ("runtime.json", "progress.json", "server.pid.json"):
        (state / stale).unlink(missing_ok=True)
    write_json(state / "config.json", config.to_json())
    write_json(state / "credentials.json", new_credentials(), private=True)
    log = open(state / "server.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.server", "--state-dir", str(state)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    log.close()
    write_json(state / "server.pid.json", {"pid": proc.pid, "started_at": time.time()})
    runtime = _wait_ready(state, proc.pid, wait_seconds, proc)
    creds = read_json(state / "credentials.json")
    env = systems_env(runtime, creds, runtime["dirs"], webhook_url)
    write_systems_env(state / "systems.env", env)
    console.print(
        f"[green]sandbox up[/] (pid {proc.pid}); systems in [bold]{state / 'systems.env'}[/]"
    )
    _print_systems(state, runtime)


def _wait_ready(
    state: Path, pid: int, wait_seconds: int, proc: subprocess.Popen | None = None
) -> dict[str, Any]:
    """Wait (bounded) until the server ``pid`` answers, showing its progress."""
    deadline = time.monotonic() + wait_seconds
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1)
        while time.monotonic() < deadline:
            code = proc.poll() if proc is not None else (None if _alive(pid) else "?")
            if code is not None:
                tail = (state / "server.log").read_text(errors="replace")[-3000:]
                raise click.ClickException(f"the sandbox server exited with code {code}:\n{tail}")
            prog = read_json(state / "progress.json") or {}
            if prog.get("phase") == "failed":
                raise click.ClickException(
                    f"the sandbox failed to start: {prog.get('error')} (see server.log)"
                )
            if prog.get("phase") not in (None, "ready"):
                bar.update(
                    task,
                    description=prog["phase"],
                    completed=prog.get("done", 0),
                    total=max(1, prog.get("total", 1)),
                )
            runtime = read_json(state / "runtime.json")
            if runtime and runtime.get("pid") == pid:
                client = _control(state)
                if client is not None:
                    with client:
                        if client.ping():
                            return runtime
            time.sleep(0.2)
    if proc is not None:
        proc.terminate()
    raise click.ClickException(
        f"the sandbox did not answer within {wait_seconds} s; see {state / 'server.log'}"
    )


def _probe(system: str, url: str, creds: dict[str, Any]) -> str:
    try:
        if system.startswith("shopify:"):
            ch = system.split(":", 1)[1]
            r = httpx.get(
                f"{url}/admin/api/{API_VERSION}/shop.json",
                timeout=3,
                headers={"X-Shopify-Access-Token": creds["shopify"][ch]["token"]},
            )
        elif system.startswith("wms:"):
            loc = system.split(":", 1)[1]
            r = httpx.get(
                f"{url}/v1/warehouse",
                timeout=3,
                headers={"Authorization": f"Bearer {creds['wms'][loc]['token']}"},
            )
        elif system == "smtp":
            with smtplib.SMTP(
                url.split("//", 1)[1].rsplit(":", 1)[0], int(url.rsplit(":", 1)[1]), timeout=3
            ) as relay:
                code = relay.noop()[0]
            return "[green]answers[/]" if code == 250 else f"[yellow]{code}[/]"
        elif system == "carrier":
            r = httpx.get(
                f"{url}/v2/trackers?page_size=1", timeout=3, auth=(creds["carrier"]["api_key"], "")
            )
        else:
            r = httpx.get(f"{url}/_sandbox/ping", timeout=3)
        return "[green]answers[/]" if r.status_code < 400 else f"[yellow]{r.status_code}[/]"
    except (httpx.HTTPError, OSError, smtplib.SMTPException) as exc:
        return f"[red]no answer[/] ({type(exc).__name__})"


def _print_systems(state: Path, runtime: dict[str, Any]) -> None:
    creds = read_json(state / "credentials.json") or {}
    table = Table(title="sandbox systems")
    table.add_column("system")
    table.add_column("where")
    table.add_column("state")
    for system, url in runtime["urls"].items():
        table.add_row(system, url, _probe(system, url, creds))
    for key, path in runtime["dirs"].items():
        table.add_row(key, path, "[green]folder[/]" if Path(path).is_dir() else "[red]missing[/]")
    console.print(table)


@sandbox.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the sandbox this state directory started (and nothing else)."""
    state = _state(ctx)
    pid_info = read_json(state / "server.pid.json")
    if not pid_info:
        console.print("sandbox is not running (no server.pid.json)")
        return
    pid = int(pid_info["pid"])
    if not _is_our_server(pid, state):
        console.print(f"sandbox is not running (pid {pid} is gone or is not ours); cleaning up")
    else:
        client = _control(state)
        if client is not None:
            with client:
                try:
                    client.shutdown()
                except ControlError:
                    pass
        for _ in range(100):  # at most 10 s
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.1)
        console.print(f"[green]sandbox stopped[/] (pid {pid})")
    for f in ("runtime.json", "server.pid.json", "progress.json", "systems.env"):
        (state / f).unlink(missing_ok=True)


@sandbox.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show each system, its URL or folder, and whether it answers."""
    state = _state(ctx)
    runtime = _running(state)
    if not runtime:
        prog = read_json(state / "progress.json")
        if (
            prog
            and prog.get("phase") not in ("ready", None)
            and _alive(int(prog.get("pid", 0) or 0))
        ):
            console.print(
                f"sandbox is starting: {prog['phase']} {prog.get('done')}/{prog.get('total')}"
            )
        else:
            console.print("sandbox is [red]not running[/]; start it with `distrohub sandbox up`")
        sys.exit(1)
    client = _control(state)
    assert client is not None
    with client:
        st = client.status()
    console.print(
        f"simulated now [bold]{st['now']}[/] ({st['hours']} h played); world {st['params']}"
    )
    console.print(
        f"orders: {st['counts']['orders']}; webhooks sent {st['counts']['webhooks_sent']}, "
        f"failed {st['counts']['webhooks_failed']}; webhook target {st['webhook_url'] or '(none)'}"
    )
    _print_systems(state, runtime)


def _client_or_exit(ctx: click.Context) -> ControlClient:
    state = _state(ctx)
    if not _running(state):
        err.print("[red]sandbox is not running[/]; start it with `distrohub sandbox up`")
        sys.exit(1)
    client = _control(state)
    assert client is not None
    return client


@sandbox.command()
@click.option(
    "--sections",
    default="",
    help="Comma-separated sections (default all): "
    "clock,params,stock,committed,orders,releases,shipments,purchase_orders,receipts,returns,"
    "supplier_availability,discrepancies,faults,unknown_sku_lines,storefront_price_edits,changes,"
    "storefront_levels,storefront_prices",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the JSON here instead of standard output.",
)
@click.pass_context
def truth(ctx: click.Context, sections: str, out: str | None) -> None:
    """Export the ground truth (true stock per item, location and status, orders, ...) as JSON."""
    with _client_or_exit(ctx) as client:
        data = client.truth([s for s in sections.split(",") if s] or None)
    text = json.dumps(data, indent=1, sort_keys=True)
    if out:
        Path(out).write_text(text)
        console.print(f"truth written to {out} ({len(text):,} bytes)")
    else:
        click.echo(text)


@sandbox.command()
@click.option("--hours", default=0, type=click.IntRange(0))
@click.option("--days", default=0, type=click.IntRange(0))
@click.pass_context
def advance(ctx: click.Context, hours: int, days: int) -> None:
    """Advance the simulated clock (new orders, stock moves, events, EDI files)."""
    if not hours and not days:
        raise click.UsageError("say how far: --hours N and/or --days N")
    with _client_or_exit(ctx) as client, console.status(f"simulating {days} d {hours} h"):
        st = client.advance(hours=hours, days=days)
    console.print(f"simulated now [bold]{st['now']}[/]; orders {st['counts']['orders']}")


@sandbox.command()
@click.pass_context
def received(ctx: click.Context) -> None:
    """Show what clients pushed into the systems (levels, prices, fulfillments,
    releases, 850s, 940s)."""
    with _client_or_exit(ctx) as client:
        click.echo(json.dumps(client.received(), indent=1))


@sandbox.command()
@click.pass_context
def env(ctx: click.Context) -> None:
    """Print systems.env (the discovery variables) for `export $(...)` or a .env file."""
    path = _state(ctx) / "systems.env"
    if not path.exists():
        err.print("[red]no systems.env[/]: start the sandbox with `distrohub sandbox up`")
        sys.exit(1)
    for k, v in read_env_file(path).items():
        click.echo(f"{k}={v}")


@sandbox.command("faults")
def faults_cmd() -> None:
    """List the fault profiles `up --faults` accepts."""
    table = Table(title="fault profiles (off by default)")
    table.add_column("name")
    table.add_column("what it does")
    for name, text in PROFILES.items():
        table.add_row(name, text)
    console.print(table)


@sandbox.command()
@click.option("--skus", default=50, type=click.IntRange(10))
@click.option("--orders-per-day", default=20, type=click.IntRange(0))
@click.option("--days", default=3, type=click.IntRange(0))
@click.option("--seed", default=1, type=int)
@click.option("--scenario", default="clean", type=click.Choice(SCENARIOS))
def world(skus: int, orders_per_day: int, days: int, seed: int, scenario: str) -> None:
    """Generate a world without serving it and summarise it (what the ERP is seeded with)."""
    from sandbox.worldgen import generate_world

    t = time.monotonic()
    with console.status("generating"):
        w = generate_world(seed, skus, orders_per_day, days, scenario)
    table = Table(title=f"world seed={seed} skus={skus} ({time.monotonic() - t:.2f} s)")
    table.add_column("part")
    table.add_column("count", justify="right")
    for name in (
        "items",
        "customers",
        "suppliers",
        "price_lists",
        "contract_prices",
        "promotions",
        "opening_stock",
        "erp_stock",
        "opening_allocations",
        "history_orders",
        "erp_sales_orders",
        "open_purchase_orders",
        "discrepancies",
    ):
        table.add_row(name, f"{len(getattr(w, name)):,}")
    console.print(table)
    problems = w.check()
    if problems:
        err.print(f"[red]{len(problems)} consistency problems[/], first: {problems[:5]}")
        sys.exit(1)
