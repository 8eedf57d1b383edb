"""Measurement 3, incremental: 1% of the stock changed → time and messages sent.

For each catalog size in ``scale.incremental_skus`` (10,000 and 100,000 SKUs by default,
× ``scale.locations`` locations × ``scale.channels`` channels), on the scale world of
:mod:`bench.world`, built once in full (not timed):

* **the full path** for a stock change, what the Dagster path does: ``dbt build`` of the
  models between the stock streams and ``publish.storefront_inventory`` (the selection of the
  ``availability_on_stock_events`` sensor, tests included), the target's gate and its diff;
* **the narrow path** (:mod:`dagster_project.publish.narrow`) for another ``change_share`` of
  the stocked SKUs: the changed SKUs' rows rebuilt through the same models, gated in SQL,
  diffed, enqueued and delivered to the stores (a stand-in that answers Shopify's
  ``inventory_levels/set`` the way Shopify does, counting what it receives).

Figures: both paths' seconds, their ratio (target: the narrow path costs ≤ 10% of a
rebuild), messages sent against the published rows of the changed SKUs whose figure changed
(the narrow path sends only changed rows), and seconds per 1,000 changed SKUs, which must stay
flat from the small catalog to the big one: the cost follows the change, not the catalog.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.context import BenchContext, environment
from bench.memory import Stopwatch
from bench.rebuild import record_publish_tests
from bench.report import Measurement
from bench.world import build_world
from dagster_project.ingest.registry import declared_systems
from dagster_project.publish import diff
from dagster_project.publish.narrow import compile_program, publish_narrow
from dagster_project.publish.run import publish
from dagster_project.publish.targets import declared_targets

TARGET = "storefront_inventory"
TARGET_SHARE = 0.10  # the narrow path may cost at most this share of the full path
TOKEN = "bench-store-token"
# the models the availability_on_stock_events sensor rebuilds (defs/automation/defs.yaml)
FULL_PATH = (
    "stg_wms__stock+,+storefront_inventory stg_3pl__stock+,+storefront_inventory "
    "stg_wms__allocations+,+storefront_inventory"
)


class StoreSink:
    """Shopify's ``inventory_levels/set`` for every store of the scale world: answers as Shopify
    does (the level it now holds) and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

        async def levels_set(request: Request) -> JSONResponse:
            if request.headers.get("x-shopify-access-token") != TOKEN:
                return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
            body = await request.json()
            with self._lock:
                self.calls += 1
            return JSONResponse(
                {
                    "inventory_level": {
                        "inventory_item_id": body["inventory_item_id"],
                        "location_id": body["location_id"],
                        "available": body["available"],
                        "updated_at": "2026-01-01T00:00:00Z",
                    }
                }
            )

        self.app = Starlette(
            routes=[
                Route(
                    "/{store}/admin/api/{version}/inventory_levels/set.json",
                    levels_set,
                    methods=["POST"],
                )
            ]
        )

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("incremental bench: the store stand-in did not start")
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)


def store_env(defs_dir, base_url: str) -> dict[str, str]:
    """Every declared storefront's URL and token variables, pointed at the stand-in."""
    env: dict[str, str] = {}
    for name, (config, _streams) in declared_systems(defs_dir).items():
        if config.kind != "shopify":
            continue
        if config.url_env:
            env[config.url_env] = f"{base_url}/{name}"
        token = config.credentials.get("token")
        if token:
            env[token] = TOKEN
    return env


def run(ctx: BenchContext) -> Measurement:
    scale = ctx.scale
    m = Measurement(
        "incremental",
        "Incremental: 1% of stock changed",
        params={
            "catalogs": list(scale.incremental_skus),
            "locations": scale.locations,
            "channels": scale.channels,
            "change_share": scale.change_share,
        },
    )
    per_thousand: dict[int, float] = {}
    for skus in scale.incremental_skus:
        label = f"{skus:,} SKUs"
        with contextlib.ExitStack() as stack:
            kept = ctx.worlds.get((skus, scale.locations, scale.channels))
            if kept is not None:  # the rebuild measurement built it in full
                ctx.step(f"incremental: {label}: the rebuild's world, built in full")
                hub, world = kept
            else:
                hub = stack.enter_context(ctx.fresh_hub(f"incr{skus}"))
                ctx.step(f"incremental: building the {label} world")
                world = build_world(ctx, hub, skus, scale.locations, scale.channels)
                stack.callback(world.remove)
                ctx.step(f"incremental: {label}: first full build (not timed)")
                world.dbt(["build"], progress=ctx.step)
            cfg = declared_targets(world.defs_dir)[TARGET]
            sink = StoreSink()
            with sink.serving() as base, environment(store_env(world.defs_dir, base)):
                # the stores hold what the model says (set directly: sending 3.6 million
                # levels one call each is not what is measured here)
                in_sync(hub, cfg)

                # the full path, for one change
                world.change_stock(hub, scale.change_share, seed=11)
                ctx.step(f"incremental: {label}: the full path (dbt build, gate, diff, deliver)")
                calls_before = sink.calls
                with Stopwatch() as full:
                    build = world.dbt(["build", "--select", FULL_PATH], progress=ctx.step)
                    with psycopg.connect(hub) as conn:  # as the Dagster dbt asset does
                        record_publish_tests(conn, world, build.run_results())
                    full_result = publish(
                        hub,
                        cfg,
                        project_dir=world.project_dir,
                        defs_dir=world.defs_dir,
                        log=lambda _m: None,
                    )
                full_sent = sink.calls - calls_before

                # the narrow path, for another change of the same size
                program = compile_program(cfg, hub, project_dir=world.project_dir)
                changed = world.change_stock(hub, scale.change_share, seed=12)
                calls_before = sink.calls
                ctx.step(f"incremental: {label}: the narrow path for {len(changed):,} SKUs")
                with Stopwatch() as narrow:
                    result = publish_narrow(
                        hub,
                        cfg,
                        program,
                        changed,
                        trigger="bench",
                        defs_dir=world.defs_dir,
                        log=lambda _m: None,
                    )
                sent = sink.calls - calls_before
            if not result.passed:
                raise RuntimeError(f"incremental bench: the narrow gate held: {result.summary}")
            counts = result.counts
            assert counts is not None
            changed_rows = counts.adds + counts.changes
            share = narrow.seconds / full.seconds
            per_thousand[skus] = narrow.seconds / max(len(changed), 1) * 1000
            m.add(f"{label}: full path", round(full.seconds, 2), "s")
            m.add(
                f"{label}: narrow path",
                round(narrow.seconds, 2),
                "s",
                f"≤ {TARGET_SHARE:.0%} of the full path",
                share <= TARGET_SHARE,
                note=f"{share:.1%} of the full path",
            )
            m.add(
                f"{label}: messages sent",
                sent,
                "messages",
                "only changed rows",
                sent == changed_rows,
                note=(
                    f"{len(changed):,} SKUs changed ({result.scope:,} with their kits), "
                    f"{result.rows_written:,} publish rows rewritten, {changed_rows:,} of them "
                    f"changed; the full path sent {full_sent:,} for its change of the same size "
                    f"({full_result.counts.changes:,} changed records)"
                ),
            )
            m.add(f"{label}: narrow s per 1,000 changed SKUs", round(per_thousand[skus], 3), "s")
            m.notes.append(
                f"{label}: narrow seconds by step "
                + ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items())
            )
    if len(per_thousand) >= 2:
        small, big = min(per_thousand), max(per_thousand)
        growth = per_thousand[big] / per_thousand[small]
        m.add(
            "cost per changed SKU, biggest / smallest catalog",
            round(growth, 2),
            "×",
            "≈ 1 (follows the change)",
            growth <= 2.0,
        )
    return m


def in_sync(hub: str, cfg) -> None:
    """Record every record of the publish model as published, as a delivery of each would
    (``ops.published_state``: the payload and its hash the diff compares)."""
    with psycopg.connect(hub) as conn, conn.transaction():
        diff.compute(conn, cfg)
        conn.execute(
            """insert into ops.published_state (target, record_key, payload, payload_hash)
               select %s, record_key, payload, payload_hash from publish_diff
                where change in ('add', 'change')
               on conflict (target, record_key) do update
                  set payload = excluded.payload, payload_hash = excluded.payload_hash,
                      published_at = now()""",
            (cfg.target,),
        )
