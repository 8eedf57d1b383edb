"""Ingest: storefront orders per second into ``raw``, side by side with dlt's ``rest_api``.

For each order count N (``ctx.scale.orders``):

1. the sandbox serves a D2C storefront (Shopify Admin REST 2025-07) holding exactly N orders:
   ``distrohub sandbox up --orders-per-day 0 --days 0 --backlog-orders N --prerender-orders
   --api-plan unlimited``, its own process on 127.0.0.1 (the orders are the shapes the sandbox
   always renders, line items with SKUs of the world's catalog);
2. a fresh hub: the ERP item master (the world's SKUs) is landed into ``raw.tryton__items``
   first, so the orders stream's reference check (``line_items[].sku`` against the items'
   ``code``) is armed and in the measured path, as in production;
3. ours, timed: exactly what the asset ``raw/shopify_d2c__orders`` runs (``open_reader`` with
   the declared stream, then ``sync_stream``: Shopify reader, JSON Schema and reference
   checks, COPY + merge, cursor and rows committed together per page); then the count is
   verified (N rows, N distinct ids, nothing quarantined);
4. dlt 1.31's ``rest_api`` source (``bench/dlt/load_orders.py``, a subprocess in the bench-only
   ``.venv-bench-dlt``) on the same endpoint, token header, page size and query, into its own
   database of the same PostgreSQL server; its row count is verified too.

Figures: rows/s of each, the ratio (target ≥ 5× dlt) and the seconds.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from bench import dlt_env
from bench.context import BenchContext, Ticker, environment
from bench.memory import postmaster_pid, tree
from bench.report import Measurement
from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.ingest.readers import open_reader
from dagster_project.ingest.registry import declared_systems
from dagster_project.ingest.sync import SyncResult, sync_stream

SYSTEM = "shopify_d2c"  # the declared store whose orders stream is measured
CHANNEL = "D2C"
STREAM = "orders"
SEED = 1
CATALOG_SKUS = 5_000  # the world's (and so the ERP item master's) size
TARGET_RATIO = 5.0
API_VERSION = "2025-07"
DISTROHUB = [sys.executable, "-c", "from dagster_project.cli.main import main; main()"]


@dataclass(frozen=True)
class Storefront:
    url: str
    token: str
    orders: int
    start_seconds: float


@dataclass(frozen=True)
class OursResult:
    seconds: float
    result: SyncResult
    cpu: float  # CPU seconds of the sync (this process) and of the PostgreSQL server


@dataclass(frozen=True)
class DltResult:
    seconds: float  # pipeline.run, measured inside the subprocess
    wall_seconds: float  # the subprocess, interpreter start and dlt import included
    rows: int  # verified in PostgreSQL
    steps: dict[str, float]
    tables: dict[str, int]
    cpu: float  # CPU seconds of the dlt process and of the PostgreSQL server


# ------------------------------------------------------------------ CPU time
def _ticks(pid: int, children: bool) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    # utime, stime (and cutime, cstime: the children it has reaped) from proc(5)
    return sum(int(f) for f in fields[11 : 15 if children else 13])


def server_cpu(ctx: BenchContext) -> float:
    """CPU seconds the bench's PostgreSQL server has used so far: the postmaster with the
    backends it has reaped, plus the live ones (nothing else uses this cluster meanwhile)."""
    pm = postmaster_pid(ctx.pg().data_dir)
    if pm is None:
        return 0.0
    ticks = _ticks(pm, children=True) + sum(_ticks(p, False) for p in tree([pm]) - {pm})
    return ticks / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ the sandbox store
def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


@contextmanager
def storefront(ctx: BenchContext, orders: int) -> Iterator[Storefront]:
    """The sandbox, in its own process, serving a D2C store with exactly ``orders`` orders."""
    state = ctx.state_dir / "ingest" / f"sandbox-{orders}"
    env = {**os.environ, "DISTROHUB_STATE_DIR": str(state), "COLUMNS": "200"}
    env.pop("DISTROHUB_WEBHOOK_URL", None)
    up = [
        *DISTROHUB,
        "sandbox",
        "up",
        "--seed",
        str(SEED),
        "--skus",
        str(CATALOG_SKUS),
        "--orders-per-day",
        "0",
        "--days",
        "0",
        "--backlog-orders",
        str(orders),
        "--backlog-channel",
        CHANNEL,
        "--prerender-orders",
        "--api-plan",
        "unlimited",
    ]
    ctx.step(f"sandbox: a {CHANNEL} store with {orders:,} orders (rendered once at start)")
    started = time.monotonic()
    progress_file = state / "sandbox" / "progress.json"
    with subprocess.Popen(
        up, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        output: list[str] = []
        reader = threading.Thread(
            target=lambda: output.extend(proc.stdout or []), name="sandbox-up", daemon=True
        )
        reader.start()
        last = ""
        tick = Ticker(ctx.step, "sandbox", every=5.0)
        while proc.poll() is None:
            time.sleep(0.5)
            try:
                p = json.loads(progress_file.read_text())
                line = f"{p.get('phase')} {p.get('done', 0):,}/{p.get('total', 0):,}"
            except (OSError, ValueError):
                continue
            if line != last:
                last = line
                tick(int(p.get("done") or 0), line)
        reader.join(5)
    if proc.returncode != 0:
        raise RuntimeError(
            f"the sandbox did not start (exit {proc.returncode}):\n{''.join(output)[-2000:]}\n"
            f"Fix: see {state / 'sandbox' / 'server.log'}"
        )
    start_seconds = time.monotonic() - started
    try:
        creds = json.loads((state / "sandbox" / "credentials.json").read_text())
        runtime = json.loads((state / "sandbox" / "runtime.json").read_text())
        shop = Storefront(
            runtime["urls"][f"shopify:{CHANNEL}"],
            creds["shopify"][CHANNEL]["token"],
            orders,
            start_seconds,
        )
        served = _count(shop)
        if served != orders:
            raise RuntimeError(f"the sandbox store serves {served:,} orders, not {orders:,}")
        ctx.step(f"sandbox: ready in {start_seconds:.1f} s, {served:,} orders served")
        yield shop
    finally:
        subprocess.run(
            [*DISTROHUB, "sandbox", "down"], env=env, capture_output=True, text=True, check=False
        )


def _count(shop: Storefront) -> int:
    response = httpx.get(
        f"{shop.url}/admin/api/{API_VERSION}/orders/count.json",
        params={"status": "any"},
        headers={"X-Shopify-Access-Token": shop.token},
        timeout=60,
    )
    response.raise_for_status()
    return int(response.json()["count"])


# ------------------------------------------------------------------ ours
def land_item_master(hub_url: str) -> int:
    """The ERP item master into ``raw.tryton__items``, through the product's own landing.

    The orders stream checks every ``line_items[].sku`` against the ``code`` of the items
    landed from the ERP. Here those are the sandbox world's items (the same world the ERP
    is seeded from, sandbox/erp_seed.py), landed with ``sync_stream`` and a reader over the
    world instead of a running Tryton: the check reads ``raw.tryton__items`` only, so its
    cost in the measured sync is the same. Not timed."""
    from sandbox.worldgen import generate_world

    world = generate_world(SEED, CATALOG_SKUS, 0, 0, "clean")
    config, streams = declared_systems()["tryton"]
    stream = next(s for s in streams if s.name == "items")
    stamp = world.epoch.isoformat()

    def reader(stream: StreamConfig, cursor: Any) -> Iterator[Page]:
        records = [
            {
                "id": k,
                "code": item.sku,
                "name": item.name,
                "type": "goods",
                "active": True,
                "salable": True,
                "purchasable": True,
                "default_uom.symbol": item.unit,
                "list_price": Decimal(item.list_price),
                "cost_price": Decimal(item.cost_price),
                "write_date": stamp,
                "create_date": stamp,
            }
            for k, item in enumerate(world.items, 1)
        ]
        for start in range(0, len(records), stream.page_size):
            yield Page(records[start : start + stream.page_size], "sandbox-world:items")

    with psycopg.connect(hub_url) as conn:
        result = sync_stream(
            conn, config.system, config.kind, stream, reader, progress=lambda _: None
        )
    if result.counts.inserted != len(world.items):
        raise RuntimeError(
            f"the item master landed {result.counts.inserted} of {len(world.items)} items"
        )
    return len(world.items)


def run_ours(ctx: BenchContext, shop: Storefront, hub_url: str) -> OursResult:
    config, streams = declared_systems()[SYSTEM]
    stream = next(s for s in streams if s.name == STREAM)
    assert config.url_env, f"{SYSTEM} declares no url_env"
    env = {config.url_env: shop.url, config.credentials["token"]: shop.token}
    with environment(env), psycopg.connect(hub_url) as conn:
        server_before, started_cpu = server_cpu(ctx), time.process_time()
        started = time.perf_counter()
        with open_reader(config, stream) as reader:
            result = sync_stream(conn, config.system, config.kind, stream, reader, ctx.step)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - started_cpu + server_cpu(ctx) - server_before
        table = sql.Identifier("raw", f"{config.system}__{stream.name}")
        rows, ids = conn.execute(
            sql.SQL("select count(*), count(distinct id) from {}").format(table)
        ).fetchone()
        quarantined = conn.execute(
            "select count(*) from ops.quarantine where system = %s and stream = %s",
            (config.system, stream.name),
        ).fetchone()[0]
    if (rows, ids, quarantined) != (shop.orders, shop.orders, 0):
        raise RuntimeError(
            f"ours landed {rows:,} rows ({ids:,} distinct ids) and quarantined {quarantined:,} "
            f"of {shop.orders:,} orders: expected every order once and none quarantined"
        )
    return OursResult(seconds, result, cpu)


# ------------------------------------------------------------------ dlt
def run_dlt(ctx: BenchContext, shop: Storefront, python: Path, page_size: int) -> DltResult:
    dataset = f"{SYSTEM}_dlt"
    work = ctx.state_dir / "ingest" / f"dlt-{shop.orders}"
    work.mkdir(parents=True, exist_ok=True)
    with ctx.fresh_database("dlt") as url:
        env = {
            **os.environ,
            "DISTROHUB_BENCH_SHOPIFY_TOKEN": shop.token,
            "DESTINATION__POSTGRES__CREDENTIALS": url,
            "RUNTIME__DLTHUB_TELEMETRY": "false",  # no network here; dlt would try to send it
            "RUNTIME__LOG_LEVEL": "WARNING",
        }
        command = [
            str(python),
            str(dlt_env.LOADER),
            "--base-url",
            shop.url,
            "--dataset",
            dataset,
            "--pipelines-dir",
            str(work),
            "--page-size",
            str(page_size),
        ]
        server_before = server_cpu(ctx)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        with subprocess.Popen(
            command,
            env=env,
            cwd=str(work),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            err_lines: list[str] = []

            def relay() -> None:
                assert proc.stderr is not None
                for line in proc.stderr:
                    line = line.rstrip()
                    err_lines.append(line)
                    # dlt's log collector: "Resources: x/y ...", "orders: N  | Time: ..."
                    if line.strip().startswith(("orders", "Jobs", "Files", "Items", "-----")):
                        if not line.strip().startswith("-----"):
                            ctx.step(f"dlt: {line.strip()[:110]}")

            relay_thread = threading.Thread(target=relay, name="dlt-stderr", daemon=True)
            relay_thread.start()
            out = proc.stdout.read() if proc.stdout else ""
            proc.wait()
            relay_thread.join(5)
        wall = time.monotonic() - started
        server = server_cpu(ctx) - server_before
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        whole = (
            children.ru_utime
            - children_before.ru_utime
            + children.ru_stime
            - children_before.ru_stime
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"dlt's load failed (exit {proc.returncode}):\n" + "\n".join(err_lines[-30:])
            )
        doc = json.loads(out.strip().splitlines()[-1])
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(dataset, "orders"))
            ).fetchone()[0]
    if rows != shop.orders:
        raise RuntimeError(f"dlt loaded {rows:,} orders of {shop.orders:,}")
    # the loader's own CPU around pipeline.run (its interpreter start and imports left out,
    # as ours leaves out the bench's), else the whole subprocess's
    cpu = float(doc.get("cpu_seconds", whole)) + server
    return DltResult(doc["seconds"], wall, rows, doc.get("steps", {}), doc.get("rows", {}), cpu)


# ------------------------------------------------------------------ the measurement
def run(ctx: BenchContext) -> Measurement:
    config, streams = declared_systems()[SYSTEM]
    stream = next(s for s in streams if s.name == STREAM)
    m = Measurement(
        "ingest",
        "Ingest: storefront orders → raw",
        params={
            "orders": list(ctx.scale.orders),
            "store": f"{SYSTEM} (sandbox {CHANNEL}, Shopify Admin REST {API_VERSION})",
            "page_size": stream.page_size,
            "catalog_skus": CATALOG_SKUS,
            "dlt": ctx.scale.dlt,
        },
    )
    env: dlt_env.DltEnvironment | None = None
    if ctx.scale.dlt:
        env = dlt_env.ensure(ctx.step)
    loads: list[str] = []
    runs: list[tuple[int, Storefront, OursResult, DltResult | None]] = []
    for n in ctx.scale.orders:
        with storefront(ctx, n) as shop:
            with ctx.fresh_hub("ingest") as hub_url:
                items = land_item_master(hub_url)
                ctx.step(f"ours: {SYSTEM} {STREAM}, {n:,} orders ({items:,} SKUs known)")
                before = _load()
                ours = run_ours(ctx, shop, hub_url)
                loads.append(f"ours @{n:,}: {before} → {_load()}")
            ctx.step(
                f"ours: {n:,} orders in {ours.seconds:.1f} s ({n / ours.seconds:,.0f} rows/s, "
                f"{ours.cpu:.1f} CPU s with PostgreSQL's)"
            )
            dlt: DltResult | None = None
            if env is not None:
                ctx.step(f"dlt: rest_api on the same endpoint, {n:,} orders")
                before = _load()
                dlt = run_dlt(ctx, shop, env.python, stream.page_size)
                loads.append(f"dlt @{n:,}: {before} → {_load()}")
                ctx.step(
                    f"dlt: {n:,} orders in {dlt.seconds:.1f} s ({n / dlt.seconds:,.0f} rows/s, "
                    f"{dlt.cpu:.1f} CPU s with PostgreSQL's; steps {dlt.steps})"
                )
        runs.append((n, shop, ours, dlt))

    # rows/s first: the plot draws a measurement's figures in the unit of its first one
    for n, _, ours, dlt in runs:
        m.add(f"ours @{n:,}", round(n / ours.seconds), "rows/s")
        if dlt is not None:
            m.add(f"dlt @{n:,}", round(n / dlt.seconds), "rows/s")
    for n, _, ours, dlt in runs:
        if dlt is not None:
            ratio = dlt.seconds / ours.seconds
            m.add(
                f"ratio @{n:,}",
                round(ratio, 2),
                "×",
                target=f"≥ {TARGET_RATIO:g}× dlt",
                met=ratio >= TARGET_RATIO,
            )
    for n, _, ours, dlt in runs:
        m.add(f"ours seconds @{n:,}", round(ours.seconds, 2), "s")
        if dlt is not None:
            m.add(
                f"dlt seconds @{n:,}",
                round(dlt.seconds, 2),
                "s",
                note=f"{dlt.wall_seconds:.1f} s with interpreter start and import; "
                + ", ".join(f"{k} {v:.1f} s" for k, v in dlt.steps.items()),
            )
            m.params[f"dlt_tables@{n}"] = dlt.tables
    for n, _, ours, dlt in runs:
        if dlt is not None:
            m.add(
                f"CPU ratio @{n:,}",
                round(dlt.cpu / ours.cpu, 2),
                "×",
                note="dlt's CPU seconds over ours (each with PostgreSQL's): the ratio that "
                "does not depend on how busy the machine is",
            )
    for n, _, ours, dlt in runs:
        m.add(
            f"ours CPU @{n:,}",
            round(ours.cpu / n * 1000, 3),
            "CPU s/1k rows",
            note="the sync's process and the PostgreSQL server",
        )
        if dlt is not None:
            m.add(
                f"dlt CPU @{n:,}",
                round(dlt.cpu / n * 1000, 3),
                "CPU s/1k rows",
                note="dlt's process around pipeline.run and the PostgreSQL server",
            )
    for n, shop, _, _ in runs:
        m.add(f"sandbox start @{n:,}", round(shop.start_seconds, 1), "s", note="not timed")
    if env is not None and env.created_seconds is not None:
        m.add("dlt environment created", round(env.created_seconds, 1), "s", note="once")
    m.notes += [
        "Ours: the product's own path, exactly what the asset raw/shopify_d2c__orders runs "
        "(open_reader + sync_stream): pages read one at a time by following Link rel=next, each "
        "record checked against the orders JSON Schema and its line_items[].sku against the ERP "
        "item master landed in raw.tryton__items, rows COPYed and merged into one JSONB row "
        "per order version (md5 change hash, idempotent), quarantine and cursor committed with "
        "each page; timed from the first request to the last commit (plus a few ms of batch "
        "bookkeeping). Rows counted and quarantine checked after.",
        "dlt: rest_api_source (dlt 1.31.0, .venv-bench-dlt) with the same base URL, "
        "X-Shopify-Access-Token header (api_key auth), header_link paginator, data_selector "
        "'orders', params limit/status=any/order=updated_at asc, destination postgres (its own "
        "database in the same server); dlt's defaults otherwise: append, insert_values load "
        "files, nested lists unnested into child tables (line_items, their tax_lines, "
        "shipping_lines, ...) and nested objects flattened into columns; no validation. Timed "
        "around pipeline.run (extract + normalize + load).",
        "Sandbox: orders placed as a backlog (sandbox up --backlog-orders N, the same order "
        "drafting as the simulation, over the 30 days before the epoch) and rendered once at "
        "start (--prerender-orders), so serving a page is joining bytes; --api-plan unlimited: "
        "Shopify's leaky bucket throttles neither client. The sandbox runs in its own process "
        "on the same 2 cores as both clients and PostgreSQL.",
        "CPU s/1k rows: CPU time of each client (ours: the sync in the bench's process, both "
        "its threads; dlt: its process around pipeline.run) plus the PostgreSQL server's, per "
        "1,000 orders; less sensitive than rows/s to what else runs on the machine. The "
        "sandbox's CPU is in neither.",
        "What limits each (profiled with py-spy, perf and PostgreSQL's CPU time, 20,000 "
        "orders): ours is CPU-bound in two processes that overlap (a page is read and checked "
        "one ahead of its commit), about 30% of its CPU in Python and 70% in PostgreSQL. Python "
        "reads each page once: msgspec cuts it into the orders' own text and decodes only what "
        "the checks read (about a third of Python's time), then the JSON Schema check, HTTP and "
        "COPY; no order is parsed whole or written again. PostgreSQL spends about 45% parsing "
        "the orders' JSON into jsonb and 35-40% on the change hash md5(jsonb::text) (jsonb's "
        "canonical text, which only PostgreSQL writes cheaply; stored hashes must stay the "
        "same), then the insert (lz4 TOAST, index, WAL). dlt spends about 60% in normalize "
        "(nested orders into 8 tables, in Python), 25-30% in extract (requests, parsing, "
        "writing item files), the rest loading INSERT statements; its steps run one after the "
        "other.",
        "Machine load (1-/5-minute load average) before → after each run: " + "; ".join(loads),
    ]
    return m
