"""How a landed, built sandbox world is made (``clean_world`` in tests/conftest.py is one).

``landed_world``: a fresh hub database, the clean 50-SKU sandbox world of ``SEED``
running (with the session's ERP seeded from the same world), every raw stream
landed and every dbt model built through Dagster once. Tests that change the
world (a price edit, a stale feed) must undo what they change or work on their
own copy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.hub.migrate import apply_migrations
from sandbox.testing import SandboxHandle, running_sandbox
from tests.conftest import fresh_database
from tests.erp_fixtures import SEED, SKUS
from tests.ingest.test_sandbox_ingest import environment, erp_env

DBT_LAYERS = ("staging", "core", "marts", "publish")
# the session's ERP is seeded with sandbox.erp_seed's default world (3 days): the sandbox must
# serve the same world, or its purchase orders and orders differ from the ERP's
WORLD_DAYS = 3


def run(definitions: dg.Definitions, hub: str, env: dict[str, str], keys: list[dg.AssetKey]):
    """Materialize ``keys`` in process against ``hub`` with ``env`` set; errors are returned."""
    job = definitions.resolve_implicit_global_asset_job_def()
    with environment({**env, "DISTROHUB_DATABASE_URL": hub}), dg.instance_for_test() as inst:
        return job.execute_in_process(instance=inst, asset_selection=keys, raise_on_error=False)


@dataclass
class LandedWorld:
    hub: str
    sandbox: SandboxHandle
    env: dict[str, str]
    definitions: dg.Definitions
    built: Any  # the dbt run's ExecuteInProcessResult
    build_seconds: float

    def keys(self, *layers: str) -> list[dg.AssetKey]:
        return [k for k in self.definitions.resolve_all_asset_keys() if k.path[0] in layers]

    def rebuild(self, *names: str, env: dict[str, str] | None = None) -> Any:
        """Rebuild the dbt models named (``marts/sellable_inventory`` ...), with ``env`` added."""
        keys = [dg.AssetKey(name.split("/")) for name in names]
        result = run(self.definitions, self.hub, {**self.env, **(env or {})}, keys)
        assert result.success, [e.step_key for e in result.all_events if e.is_step_failure]
        return result


@contextmanager
def landed_world(pg_cluster, erp) -> Iterator[LandedWorld]:
    """A fresh hub, the clean sandbox world of SEED beside ``erp``, every raw stream landed
    and every dbt model built (with its checks) once through Dagster."""
    definitions = defs()
    with (
        fresh_database(pg_cluster) as hub,
        running_sandbox(seed=SEED, skus=SKUS, days=WORLD_DAYS) as sb,
    ):
        apply_migrations(hub)
        env = {**sb.env, **erp_env(erp)}
        world = LandedWorld(hub, sb, env, definitions, None, 0.0)
        landed = run(definitions, hub, env, world.keys("raw"))
        assert landed.success, [e.step_key for e in landed.all_events if e.is_step_failure]
        started = time.monotonic()
        world.built = run(definitions, hub, env, world.keys(*DBT_LAYERS))
        world.build_seconds = time.monotonic() - started
        yield world
