"""The sandbox world the ERP-intake and event-latency measurements share.

Both need the same thing set up: the ERP as the product runs it (a clone of the Tryton
template, seeded from the world), the sandbox systems serving that world, and a fresh hub
with every raw stream landed and every model built (with its checks) through Dagster, as a
run of the product does. :func:`sandbox_world` makes it once per bench run and keeps it (in
``ctx.worlds``, released by ``ctx.close()``), so a run of both measurements sets it up once;
a caller that already has such a world (the test suite's) puts it in ``ctx.worlds`` under
:data:`KEY` and the measurements use it as it is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from bench.context import BenchContext, environment
from bench.erp import QUIET, SEED, SKUS, BenchErp, WorldKnobs, bench_erp, seed_erp
from bench.memory import Stopwatch
from dagster_project.hub import settings

KEY = ("sandbox",)
#: the sandbox's webhook retries, a little slower than the tests' (a busy receiver)
WEBHOOK_RETRY_DELAYS = (0.2, 0.5, 1.0)


@dataclass
class SandboxWorld:
    hub: str
    sandbox: Any  # sandbox.testing.SandboxHandle
    erp: BenchErp
    knobs: WorldKnobs | None  # None: a world the caller made
    setup_seconds: dict[str, float] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The systems' and the ERP's variables, and the hub."""
        return {**self.sandbox.env, **self.erp.env(), settings.ENV_DATABASE_URL: self.hub}


def sandbox_world(ctx: BenchContext, knobs: WorldKnobs) -> SandboxWorld:
    """The shared world (made now if this bench run has none yet)."""
    kept = ctx.worlds.get(KEY)
    if kept is not None:
        return kept[1]
    from sandbox.testing import running_sandbox

    stack = ctx.resources
    erp = stack.enter_context(bench_erp(ctx))
    with Stopwatch() as seeding:
        seed_erp(ctx, erp, knobs)
    ctx.step(
        f"sandbox: the world of seed {SEED}, {SKUS} SKUs, {knobs.orders_per_day} orders a day "
        f"for {knobs.days} day(s)"
    )
    sb = stack.enter_context(
        running_sandbox(
            seed=SEED,
            skus=SKUS,
            orders_per_day=knobs.orders_per_day,
            days=knobs.days,
            webhook_retry_delays=WEBHOOK_RETRY_DELAYS,
        )
    )
    hub = stack.enter_context(ctx.fresh_hub("sandbox"))
    world = SandboxWorld(hub, sb, erp, knobs, {"erp seeding": seeding.seconds})
    with environment(world.env()):
        world.setup_seconds.update(land_and_build(ctx))
    ctx.worlds[KEY] = (hub, world)
    return world


def run_assets(ctx: BenchContext, what: str, layers: tuple[str, ...]) -> float:
    """Materialize every asset of ``layers`` in process, against the hub of the environment;
    dbt's output goes to a log in the bench state folder. Its seconds."""
    import dagster as dg

    from dagster_project.definitions import defs

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    keys = [k for k in definitions.resolve_all_asset_keys() if k.path[0] in layers]
    log = ctx.state_dir / "sandbox-world.log"
    ctx.step(f"hub: {what} ({len(keys)} assets; dbt's output in {log})")
    with (
        Stopwatch() as sw,
        dg.DagsterInstance.ephemeral() as instance,
        log.open("a") as sink,
        contextlib.redirect_stdout(sink),
    ):
        result = job.execute_in_process(
            run_config=QUIET, instance=instance, asset_selection=keys, raise_on_error=False
        )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        raise RuntimeError(f"bench: {what} failed in steps {failed}; see {log}")
    return sw.seconds


def land_and_build(ctx: BenchContext) -> dict[str, float]:
    """Every raw stream landed, then every model built with its checks."""
    return {
        "land": run_assets(ctx, "landing every raw stream", ("raw",)),
        "build": run_assets(ctx, "building every model", ("staging", "core", "marts", "publish")),
    }
