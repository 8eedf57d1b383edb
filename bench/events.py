"""Measurement 4, event latency: a WMS stock event → the storefront's inventory level set, gated.

The whole stack runs as it does in production, each part its own process:

* the world the ERP-intake measurement also uses (:mod:`bench.sandbox_world`: the sandbox
  systems and the real ERP seeded from one world, a fresh hub with every raw stream landed and
  every model built), every target published once, and a fresh Dagster storage database;
* ``dagster-daemon`` with the project's code location: its schedules and sensors run as they
  would (the webhook sensors launch stream syncs, the event sensors rebuild the models, the
  publish sensors deliver), competing for the same two cores;
* ``distrohub webhooks serve``, the webhook receiver the sandbox's WMSs post their signed
  events to;
* ``distrohub worker``, the narrow path.

Each event: the sandbox's control API moves ``k`` units into a sellable bin of a SKU at a DC
(the WMS emits a signed ``stock.adjusted`` webhook, as a real WMS does), and the clock runs
until the D2C storefront's own API (``GET inventory_levels.json``) shows that SKU's level at
that location raised by ``k``. p50 and p95 over ``scale.events`` events, one after another.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from bench.context import BenchContext, environment
from bench.erp import world_knobs
from bench.memory import Stopwatch, tree
from bench.report import Measurement
from bench.sandbox_world import run_assets, sandbox_world
from dagster_project.hub import settings
from dagster_project.hub.dagster_home import DAGSTER_YAML, STORAGE_URL_ENV, storage_url

TARGET_P95 = 10.0
EVENT_TIMEOUT = 120.0
STORE = "D2C"  # sells by the unit: k more units on hand is k more available
REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def services(ctx: BenchContext, env: dict[str, str], webhook_port: int) -> Iterator[list[Service]]:
    """The daemon, the webhook receiver and the worker, each its own process group."""
    logs = ctx.state_dir / "events-logs"
    logs.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    commands = {
        "dagster-daemon": [
            str(bin_dir / "dagster-daemon"),
            "run",
            "-w",
            str(REPO / "workspace.yaml"),
        ],
        "webhooks": [str(bin_dir / "distrohub"), "webhooks", "serve", "--port", str(webhook_port)],
        "worker": [str(bin_dir / "distrohub"), "worker"],
    }
    started: list[Service] = []
    try:
        for name, argv in commands.items():
            log = logs / f"{name}.log"
            handle = log.open("w")
            started.append(
                Service(
                    name,
                    subprocess.Popen(
                        argv,
                        env=env,
                        cwd=REPO,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    ),
                    log,
                )
            )
        yield started
    finally:
        # the daemon's code server runs in a session of its own and outlives SIGTERM: every
        # descendant seen now is stopped too, so no process of the bench is left behind
        descendants = tree(s.process.pid for s in started) - {s.process.pid for s in started}
        for service in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGTERM)
        for service in started:
            try:
                service.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait(5)
        _stop(descendants)


def _stop(pids: set[int], grace: float = 5.0) -> None:
    """SIGTERM ``pids`` still alive, then SIGKILL those alive after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid in pids if _alive(pid)]
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [pid for pid in alive if _alive(pid)]
        if not alive:
            return


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


def _wait(what: str, check, timeout: float, started: list[Service]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for service in started:
            if service.process.poll() is not None:
                raise RuntimeError(
                    f"events bench: {service.name} exited ({service.process.returncode}) while "
                    f"waiting for {what}; its log ({service.log}):\n{service.tail()}"
                )
        if time.monotonic() > deadline:
            raise RuntimeError(f"events bench: {what} did not happen within {timeout:.0f} s")
        time.sleep(0.2)


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _daemon_ready(dagster_url: str) -> bool:
    """The daemon's sensor loop has reported a heartbeat (its code location is loaded)."""
    try:
        with psycopg.connect(dagster_url) as conn:
            row = conn.execute(
                "select count(*) from daemon_heartbeats where daemon_type = 'SENSOR'"
            ).fetchone()
    except psycopg.Error:  # the daemon has not created its tables yet
        return False
    return bool(row and row[0])


def _worker_ready(hub: str) -> bool:
    with psycopg.connect(hub) as conn:
        return bool(
            conn.execute(
                "select count(*) from ops.worker_cursors where worker = 'narrow'"
            ).fetchone()[0]
        )


@dataclass(frozen=True)
class Candidate:
    sku: str
    location: str
    inventory_item_id: int
    location_id: int


def candidates(hub: str) -> list[Candidate]:
    """Stocked SKUs the D2C store lists at a DC with stock to spare: their level there moves
    one for one with the sellable on-hand."""
    with psycopg.connect(hub) as conn:
        rows = conn.execute(
            """select p.sku, p.location, p.inventory_item_id, p.location_id
                 from publish.storefront_inventory p
                 join marts.sellable_inventory s
                   on s.sku = p.sku and s.location = p.location and s.channel = p.channel
                where p.channel = %s and s.supply_kind = 'stocked' and s.location_kind = 'dc'
                  and s.net_available > 0 and s.unit_factor = 1 and s.reserved_quantity = 0
                  and s.allocation_share = 1 and s.freshness_action = 'publish'
                order by p.sku, p.location""",
            (STORE,),
        ).fetchall()
    return [Candidate(*r) for r in rows]


def run(ctx: BenchContext) -> Measurement:
    n_events = ctx.scale.events
    m = Measurement(
        "events",
        "Event latency: WMS stock event → storefront level",
        params={"events": n_events, "store": STORE},
    )
    with contextlib.ExitStack() as stack:
        world = sandbox_world(ctx, world_knobs(ctx.scale.erp_orders))
        hub, sb = world.hub, world.sandbox
        dagster_url = stack.enter_context(ctx.fresh_database("dagster"))
        env = {
            **os.environ,
            **world.env(),
            settings.ENV_DAGSTER_DATABASE_URL: dagster_url,
            settings.ENV_STATE_DIR: str(ctx.state_dir / "events-state"),
        }
        with Stopwatch() as sw, environment(world.env()):
            run_assets(ctx, "publishing every target once", ("deliver",))
        m.notes.append(f"every target published once in {sw.seconds:.0f} s (not timed)")

        home = ctx.state_dir / "events-dagster-home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(DAGSTER_YAML.format(storage_url_env=STORAGE_URL_ENV))
        env.update({"DAGSTER_HOME": str(home), STORAGE_URL_ENV: storage_url(dagster_url)})
        port = _free_port()
        ctx.step("events: starting dagster-daemon, the webhook receiver and the worker")
        started = stack.enter_context(services(ctx, env, port))
        _wait(
            "the webhook receiver", lambda: _http_ok(f"http://127.0.0.1:{port}/health"), 60, started
        )
        _wait("the worker", lambda: _worker_ready(hub), 180, started)
        _wait("dagster-daemon's sensors", lambda: _daemon_ready(dagster_url), 300, started)
        sb.control.set_webhook_target(f"http://127.0.0.1:{port}/webhooks")
        ctx.step("events: the stack is up; sending stock events")

        pool = candidates(hub)
        if not pool:
            raise RuntimeError("events bench: the world has no D2C listing with stock to move")
        latencies: list[float] = []
        timeouts = 0
        store_url = sb.shopify_url(STORE)
        headers = {"X-Shopify-Access-Token": sb.shopify_token(STORE)}
        with httpx.Client(base_url=store_url, headers=headers, timeout=10) as store:

            def level(c: Candidate) -> int:
                r = store.get(
                    "/admin/api/2025-07/inventory_levels.json",
                    params={
                        "inventory_item_ids": c.inventory_item_id,
                        "location_ids": c.location_id,
                    },
                )
                r.raise_for_status()
                return int(r.json()["inventory_levels"][0]["available"])

            for i in range(n_events):
                c = pool[i % len(pool)]
                k = 3 + i % 5
                before = level(c)
                t0 = time.perf_counter()
                sb.control.adjust_stock(c.location, c.sku, k)
                while True:
                    elapsed = time.perf_counter() - t0
                    if level(c) == before + k:
                        latencies.append(elapsed)
                        break
                    if elapsed > EVENT_TIMEOUT:
                        timeouts += 1
                        break
                    time.sleep(0.02)
                if (i + 1) % 10 == 0 or i + 1 == n_events:
                    ctx.step(
                        f"events: {i + 1}/{n_events}, p50 so far "
                        f"{statistics.median(latencies) if latencies else float('nan'):.2f} s"
                    )
                time.sleep(0.3)
        runs = _narrow_runs(hub)
        daemon_runs = _dagster_runs(dagster_url)
        sb.control.set_webhook_target(None)

    p50, p95 = _percentile(latencies, 0.5), _percentile(latencies, 0.95)
    m.add("p50", round(p50, 3), "s")
    m.add("p95", round(p95, 3), "s", f"≤ {TARGET_P95:.0f} s", bool(latencies) and p95 <= TARGET_P95)
    m.add("max", round(max(latencies), 3) if latencies else None, "s")
    m.add("events seen at the store", len(latencies), "events", f"{n_events}", timeouts == 0)
    if runs:
        for step in ("reread", "lock", "rebuild", "gate", "enqueue", "deliver", "total"):
            values = [r[step] for r in runs if step in r]
            if values:
                m.add(f"worker step p50: {step}", round(statistics.median(values), 3), "s")
    m.add("Dagster runs meanwhile", daemon_runs, "runs")
    m.notes.append(
        "latency = from the control call that moves the stock to the D2C store showing the new "
        "level through its own API (polled every 20 ms); the WMS webhook, the receiver, the "
        "worker's SKU re-read, narrow rebuild, SQL gate, diff and delivery are all inside it; "
        f"dagster-daemon ran the project's schedules and sensors meanwhile ({daemon_runs} runs)"
    )
    return m


def _narrow_runs(hub: str) -> list[dict[str, float]]:
    """Each passed narrow publish's seconds by step (the worker's re-read, lock, rebuild,
    gate, enqueue, deliver, total)."""
    with psycopg.connect(hub) as conn:
        return [
            {k: float(v) for k, v in r[0].items()}
            for r in conn.execute(
                "select steps from ops.narrow_runs where passed and steps is not null"
            ).fetchall()
        ]


def _dagster_runs(dagster_url: str) -> int:
    try:
        with psycopg.connect(dagster_url) as conn:
            return int(conn.execute("select count(*) from runs").fetchone()[0])
    except psycopg.Error:
        return 0
