"""The scale world: a hub's raw layer at 100,000 SKUs × 12 locations × 3 channels, written
directly, shaped exactly as the product's connectors land it.

Seeding 100,000 products into Tryton takes hours, so the bench does not go through the sandbox
systems and the ERP: it writes every ``raw.<system>__<stream>`` table the models read, through
the product's landing conventions, and the ``ops`` records a real sync leaves (a succeeded
``ops.ingest_batches`` row per stream, its cursor, the files taken), so freshness sees fresh
feeds. What the world holds and in what proportions: :mod:`bench.world_plan`. How:

* declarations (:mod:`bench.world_decl`): a copy of ``defs/`` with the extra WMS (and store)
  blocks the scale asks for, and a copy of ``dbt_project/`` generated from it; the repository
  is never edited;
* per-SKU streams in SQL (:mod:`bench.world_bulk`), the rest through ``Landing.commit_page``
  (:mod:`bench.world_records`) and the drop folders through the product's folder sync
  (:mod:`bench.world_files`); payload shapes come from landed templates
  (:mod:`bench.world_templates`).

The same seed and sizes give the same rows (dates are measured back from the hour it is built).

API::

    world = build_world(ctx, hub_url, skus, locations, channels, seed=1)  # -> ScaleWorld
    world.dbt(["build"])              # dbt on this world's project copy and hub; raises on failure
    changed = world.change_stock(hub_url, share=0.01, seed=2)   # -> the SKUs whose stock moved
    world.counts, world.build_seconds, world.project_dir, world.defs_dir, world.dbt_env()

``orders`` (default: a few thousand at 100,000 SKUs) and ``b2b_accounts`` (default 20) are
keyword arguments of :func:`build_world`; ``marts.customer_prices`` holds one price book per
price group of B2B accounts (channel, price list, currency) and an account's own rows only for
the SKUs of its contract prices, so it grows with groups × SKUs, not accounts × SKUs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from bench.context import BenchContext, Ticker
from bench.world_bulk import (
    BulkWriter,
    load_catalog,
    write_erp_stock,
    write_store_catalog,
    write_tryton_catalog,
    write_wms_stock,
)
from bench.world_decl import Declarations, write_declarations
from bench.world_files import land_files
from bench.world_plan import Plan, make_plan
from bench.world_records import (
    RecordLander,
    empty_streams,
    shopify,
    tryton_reference,
    tryton_sales,
    wms,
)
from bench.world_templates import load as load_templates
from dagster_project.ingest.landing import Landing, Record
from dagster_project.ingest.registry import declared_systems
from dagster_project.transform.dbt_env import dbt_env_from_url
from dagster_project.transform.project import DBT_EXECUTABLE

Progress = Callable[[str], None]


class DbtFailed(RuntimeError):
    """dbt exited with an error; the message holds the end of its output."""


@dataclass
class DbtRun:
    args: list[str]
    returncode: int
    seconds: float
    target_dir: Path
    output_tail: str

    def run_results(self) -> dict:
        path = self.target_dir / "run_results.json"
        return json.loads(path.read_text()) if path.exists() else {}


@dataclass
class ScaleWorld:
    hub_url: str
    declarations: Declarations
    skus: int
    locations: int
    channels: int
    seed: int
    epoch: datetime
    counts: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def project_dir(self) -> Path:
        return self.declarations.project_dir

    @property
    def defs_dir(self) -> Path:
        return self.declarations.defs_dir

    @property
    def raw_rows(self) -> int:
        return sum(self.counts.values())

    @property
    def folder(self) -> Path:
        """Where the declarations copy, the dbt project copy and the drop folders live."""
        return self.declarations.defs_dir.parent

    def remove(self) -> None:
        """Delete :attr:`folder` (the hub's data stays: drop the database for that)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def dbt_env(self, hub_url: str | None = None) -> dict[str, str]:
        """The environment dbt runs with for this world (its connection, no usage stats)."""
        env = dict(os.environ)
        env.update(dbt_env_from_url(hub_url or self.hub_url))
        env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        return env

    def dbt(
        self,
        args: list[str],
        *,
        hub_url: str | None = None,
        progress: Progress | None = None,
        check: bool = True,
        target: str = "target",
    ) -> DbtRun:
        """Run dbt (the venv's) on this world's project copy and hub. ``progress`` gets one
        line every few seconds (nodes done, the last one); ``check`` raises :class:`DbtFailed`
        with the end of dbt's output when it fails."""
        target_dir = self.project_dir / target
        command = [
            str(DBT_EXECUTABLE),
            "--no-use-colors",
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(target_dir),
        ]
        started = time.monotonic()
        tail: list[str] = []
        ticker = Ticker(progress or (lambda _m: None), f"dbt {' '.join(args)}", every=10.0)
        done = 0
        with subprocess.Popen(
            command,
            env=self.dbt_env(hub_url),
            cwd=self.project_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail = (tail + [line.rstrip()])[-60:]
                if " of " in line and (
                    " OK " in line
                    or " PASS " in line
                    or "ERROR" in line
                    or "FAIL" in line
                    or " WARN " in line
                ):
                    done += 1
                    ticker(done, line.split("[")[0].strip()[-90:])
            returncode = proc.wait()
        run = DbtRun(args, returncode, time.monotonic() - started, target_dir, "\n".join(tail))
        if check and returncode != 0:
            raise DbtFailed(
                f"dbt {' '.join(args)} failed (exit {returncode}) in {self.project_dir}:\n"
                + "\n".join(tail[-40:])
            )
        return run

    def change_stock(self, hub_url: str | None, share: float, seed: int) -> list[str]:
        """Change the WMS sellable quantity of ``share`` of the stocked SKUs, as each DC's next
        stock sync lands it: one batch per DC, new versions (new ``_seq``) of the changed bin
        rows through :meth:`Landing.commit_page`, ``as_of`` now. The changed SKUs, sorted."""
        url = hub_url or self.hub_url
        rng = random.Random(seed)
        systems = declared_systems(self.defs_dir)
        dcs = [name for name, (config, _) in sorted(systems.items()) if config.kind == "wms_rest"]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with psycopg.connect(url) as conn:
            holders: dict[str, list[tuple[str, str, dict]]] = {}
            for system in dcs:
                rows = conn.execute(
                    sql.SQL(
                        """select distinct on (sku, status, bin) sku, bin, payload
                             from {} where status = 'sellable'
                            order by sku, status, bin, _seq desc"""
                    ).format(sql.Identifier("raw", f"{system}__stock"))
                ).fetchall()
                for sku, bin_, payload in rows:
                    if not payload.get("_deleted"):
                        holders.setdefault(sku, []).append((system, bin_, payload))
            stocked = sorted(holders)
            chosen = sorted(rng.sample(stocked, max(1, round(len(stocked) * share))))
            per_dc: dict[str, list[Record]] = {}
            for sku in chosen:
                system, bin_, payload = rng.choice(holders[sku])
                old = int(payload["quantity"])
                new = max(0, old + rng.choice([d for d in range(-min(old, 40), 41) if d]))
                if new == old:
                    new = old + 1
                per_dc.setdefault(system, []).append(
                    Record(
                        (sku, "sellable", bin_),
                        {**payload, "quantity": new, "as_of": now},
                        "/v1/stock",
                    )
                )
            for system, records in per_dc.items():
                stream = next(s for s in systems[system][1] if s.name == "stock")
                landing = Landing(
                    conn,
                    system,
                    "stock",
                    stream.key_columns,
                    volatile_fields=tuple(stream.volatile_fields),
                )
                landing.start_batch(None)
                counts = landing.commit_page(records)
                landing.finish_batch(counts, None, None)
        return chosen


def default_orders(skus: int) -> int:
    """A few thousand storefront orders at 100,000 SKUs, fewer on a small catalog."""
    return min(3000, max(100, skus // 30))


def build_world(
    ctx: BenchContext,
    hub_url: str,
    skus: int,
    locations: int,
    channels: int,
    seed: int = 1,
    *,
    orders: int | None = None,
    b2b_accounts: int = 20,
) -> ScaleWorld:
    """Write the declarations copy and fill the raw layer of the (migrated, empty) hub at
    ``hub_url``; progress through ``ctx.step``."""
    started = time.monotonic()
    name = psycopg.conninfo.conninfo_to_dict(hub_url).get("dbname", "hub")
    dest = ctx.state_dir / "scale-world" / str(name)
    ctx.step(
        f"scale world: {skus:,} SKUs × {locations} locations × {channels} channels, seed {seed}"
    )
    decl = write_declarations(dest, locations, channels)
    ctx.step(f"scale world: declarations and dbt project copy in {dest}")
    plan = make_plan(
        decl, skus, seed, orders=orders or default_orders(skus), b2b_accounts=b2b_accounts
    )
    ctx.step(
        f"scale world: planned {len(plan.items):,} items, {len(plan.customers):,} customers, "
        f"{len(plan.orders):,} orders, {len(plan.purchases):,} purchase orders"
    )
    world = ScaleWorld(hub_url, decl, skus, locations, channels, seed, plan.epoch)
    fill_raw(ctx, hub_url, plan, world, dest / "drops")
    # the product parses its dbt project when its definitions load, before any run (dagster
    # transform/project.py ensure_manifest), so a build parses only what changed since
    ctx.step("scale world: dbt parse of the project copy (as the product does before a run)")
    world.dbt(["parse"])
    world.build_seconds = time.monotonic() - started
    world.summary = summary(plan)
    ctx.step(
        f"scale world: {world.raw_rows:,} raw rows in {len(world.counts)} streams, "
        f"built in {world.build_seconds:.0f} s"
    )
    return world


def summary(plan: Plan) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for it in plan.items:
        kinds[it.kind] = kinds.get(it.kind, 0) + 1
    return {
        "items": len(plan.items),
        "stocked": kinds.get("stocked", 0),
        "kits": kinds.get("kit", 0),
        "drop_ship": kinds.get("drop_ship", 0),
        "listings": sum(sum(it.listed) for it in plan.items),
        "customers": len(plan.customers),
        "orders": len(plan.orders),
        "purchase_orders": len(plan.purchases),
    }


def fill_raw(ctx: BenchContext, hub_url: str, plan: Plan, world: ScaleWorld, drops: Path) -> None:
    tpl = load_templates()
    systems = declared_systems(world.defs_dir)
    streams_of = {name: {s.name: s for s in streams} for name, (_, streams) in systems.items()}
    kinds = {name: config.kind for name, (config, _) in systems.items()}
    created = plan.epoch - timedelta(days=400)
    # autocommit: every landing step is its own transaction, as in a sync
    with psycopg.connect(hub_url, autocommit=True) as conn:
        conn.execute("set work_mem = '256MB'")
        load_catalog(conn, plan)
        bulk = BulkWriter(conn, ctx.step)
        records = RecordLander(conn, kinds, streams_of, ctx.step)
        tryton_reference(records, plan, tpl, plan.epoch - timedelta(minutes=30))
        write_tryton_catalog(
            bulk, plan, streams_of["tryton"], tpl, plan.epoch - timedelta(minutes=25)
        )
        write_wms_stock(bulk, plan, streams_of, tpl)
        tpl_orders = [o for o in plan.orders if o.location.kind == "3pl"]
        file_counts = land_files(conn, plan, systems, drops, tpl_orders, ctx.step)
        write_erp_stock(bulk, plan, streams_of["tryton"], tpl)
        write_store_catalog(bulk, plan, streams_of, tpl, created)
        shopify(records, plan, tpl, created)
        tryton_sales(records, plan, tpl, plan.epoch - timedelta(minutes=10))
        wms(records, plan, tpl)
        empty_streams(
            records,
            [
                (name, s.name)
                for name, (cfg, streams) in systems.items()
                if cfg.kind == "carrier_webhook"
                for s in streams
            ],
        )
        world.counts = {**bulk.counts, **records.counts, **file_counts}
        ctx.step("scale world: analyze raw (as autovacuum would after a load)")
        conn.execute("analyze")
