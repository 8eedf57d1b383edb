"""The bench's ERP: Tryton as the product runs it, on a fresh clone of the bench cluster's
template, seeded from the sandbox world (used by :mod:`bench.erp_intake` and
:mod:`bench.sandbox_world`)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.context import BenchContext, environment
from bench.memory import Stopwatch
from dagster_project.connectors.tryton import ENV_PASSWORD, ENV_URL, ENV_USER, TrytonCredentials
from dagster_project.erp.server import (
    ENV_DATABASE,
    ENV_ROLE_PASSWORD,
    ErpInfo,
    ErpServer,
    template_stamp,
)
from dagster_project.hub import settings

SEED = 7
SKUS = 50
DATABASE = "bench_erp"
SEED_TIMEOUT = 1800
#: the simulated days that hold the orders; ≤ 100 orders a day keeps the customer pools (and so
#: the ERP seeding) small: the world sizes them by orders per day
MAX_DAYS = 4
ORDERS_PER_DAY = 100
ERP_VARS = (ENV_URL, ENV_USER, ENV_PASSWORD, ENV_ROLE_PASSWORD, ENV_DATABASE)
#: Dagster's console log at warnings only: the bench prints its own progress
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class WorldKnobs:
    orders_per_day: int
    days: int

    def argv(self) -> list[str]:
        return [
            "--seed", str(SEED), "--skus", str(SKUS), "--orders-per-day",
            str(self.orders_per_day), "--days", str(self.days), "--scenario", "clean",
        ]  # fmt: skip


def world_knobs(orders: int) -> WorldKnobs:
    """Orders a day and days so the storefronts take about ``orders`` orders after the epoch."""
    days = max(1, min(MAX_DAYS, math.ceil(orders / ORDERS_PER_DAY)))
    return WorldKnobs(orders_per_day=max(1, math.ceil(orders / days)), days=days)


@dataclass(frozen=True)
class BenchErp:
    info: ErpInfo
    credentials: TrytonCredentials
    template_seconds: float | None  # None: the template was there already
    up_seconds: float
    workers: int  # trytond processes serving requests

    def env(self) -> dict[str, str]:
        return {
            ENV_URL: self.credentials.url,
            ENV_USER: self.credentials.user,
            ENV_PASSWORD: self.credentials.password,
        }


@contextmanager
def bench_erp(ctx: BenchContext) -> Iterator[BenchErp]:
    """Tryton on a fresh clone of the cluster's template (built once), stopped and dropped
    afterwards. The ERP state folder is the bench's own (``<state>/erp``)."""
    pg = ctx.pg()
    server = ErpServer(pg.admin_url, database=DATABASE, state=ctx.state_dir / "erp")
    # a variable of the operator's shell must not point the bench at another ERP
    with environment(dict.fromkeys(ERP_VARS)):
        server.stop()  # a trytond an interrupted bench run left behind (ours, by its pid file)
        server.drop_database()  # every run starts from a fresh clone
        warm = server.template_status() == template_stamp()
        ctx.step(
            "ERP: the Tryton template is current, cloning it"
            if warm
            else "ERP: building the Tryton template (once per bench cluster, about a minute)"
        )
        with Stopwatch() as sw:
            info = server.up(ctx.step)
        values = settings.read_env_file(server.env_path)
        credentials = TrytonCredentials(info.url, info.user, values[ENV_PASSWORD])
        template = server.timings.get("template")
        try:
            yield BenchErp(
                info, credentials, template, sw.seconds - (template or 0.0), server.workers()
            )
        finally:
            server.stop()
            server.drop_database()


def seed_erp(ctx: BenchContext, erp: BenchErp, knobs: WorldKnobs) -> dict[str, Any]:
    """``python -m sandbox.erp_seed`` against the bench's ERP, as ``distrohub erp seed`` runs
    it; its JSON report."""
    ctx.step(f"ERP: seeding it from the sandbox world ({' '.join(knobs.argv())})")
    res = subprocess.run(
        [sys.executable, "-m", "sandbox.erp_seed", *knobs.argv(), "--quiet"],
        env={**os.environ, **erp.env()},
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if res.returncode != 0:
        raise RuntimeError(
            f"erp bench: seeding Tryton failed (exit {res.returncode}): {res.stderr.strip()}. "
            f"trytond's log: {erp.info.log_path}"
        )
    return json.loads(res.stdout)
