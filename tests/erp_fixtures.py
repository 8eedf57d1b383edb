"""One real trytond for the ERP tests: template built once per session, a clone, seeded.

The session's PostgreSQL cluster (``pg_cluster``) gets the ``tryton_template``
database (about 45 s, once per session; reused if it is already there), one
clone of it (``erp_test``), a trytond on 127.0.0.1 and a free port, and the
50-SKU sandbox world of :data:`SEED`, seeded through the seeder's own command
line (``python -m sandbox.erp_seed``) as the product runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dagster_project.connectors.tryton import (
    ENV_PASSWORD,
    ENV_URL,
    ENV_USER,
    TrytonClient,
    TrytonCredentials,
)
from dagster_project.erp.server import ENV_DATABASE, ENV_ROLE_PASSWORD, ErpInfo, ErpServer
from dagster_project.hub.cluster import ClusterInfo
from dagster_project.hub.settings import read_env_file
from sandbox.world import World
from sandbox.worldgen import generate_world

SEED = 11
SKUS = 50
DATABASE = "erp_test"
ERP_VARS = (ENV_URL, ENV_USER, ENV_PASSWORD, ENV_ROLE_PASSWORD, ENV_DATABASE)


@dataclass(frozen=True)
class RunningErp:
    server: ErpServer
    info: ErpInfo
    credentials: TrytonCredentials
    up_seconds: dict[str, float]


@pytest.fixture(scope="session")
def erp(pg_cluster: ClusterInfo, state_dir: Path) -> Iterator[RunningErp]:
    """trytond on a fresh clone of the session's template; stopped at the end."""
    saved = {k: os.environ.pop(k, None) for k in ERP_VARS}
    server = ErpServer(pg_cluster.admin_url, database=DATABASE, state=state_dir / "erp")
    try:
        info = server.up()
        values = read_env_file(server.env_path)
        creds = TrytonCredentials(info.url, info.user, values[ENV_PASSWORD])
        yield RunningErp(server, info, creds, dict(server.timings))
    finally:
        server.stop()
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value


@pytest.fixture(scope="session")
def world() -> World:
    return generate_world(seed=SEED, skus=SKUS)


@pytest.fixture(scope="session")
def seed_report(erp: RunningErp, world: World) -> dict[str, Any]:
    """Seed the ERP through ``python -m sandbox.erp_seed``; its JSON report."""
    return _seed(erp)


@pytest.fixture
def client(erp: RunningErp, seed_report: dict[str, Any]) -> Iterator[TrytonClient]:
    with TrytonClient(erp.credentials) as c:
        yield c


DISCREPANCIES_DATABASE = "erp_test_discrepancies"


def _seed(erp: RunningErp, *args: str) -> dict[str, Any]:
    """Run ``python -m sandbox.erp_seed`` against ``erp``; its JSON report."""
    env = dict(os.environ)
    env.update(
        {ENV_URL: erp.info.url, ENV_USER: erp.info.user, ENV_PASSWORD: erp.credentials.password}
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.erp_seed",
            "--seed",
            str(SEED),
            "--skus",
            str(SKUS),
            "--quiet",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@contextmanager
def another_erp(
    erp: RunningErp, state_dir: Path, database: str, *seed_args: str
) -> Iterator[RunningErp]:
    """Another trytond on another clone of the session's template, seeded with ``seed_args``.

    It shares the first server's generated secrets (the cluster has one ``tryton``
    role: a second password would lock the first server out) and its template."""
    shared = read_env_file(erp.server.env_path)
    home = state_dir / database
    home.mkdir(parents=True, exist_ok=True)
    server = ErpServer(erp.server.admin_url, database=database, state=home)
    server._write_env(  # noqa: SLF001 - the same secrets, another database
        {k: v for k, v in shared.items() if k in (ENV_ROLE_PASSWORD, ENV_PASSWORD, ENV_USER)}
    )
    saved = {k: os.environ.pop(k, None) for k in ERP_VARS}
    try:
        info = server.up()
        values = read_env_file(server.env_path)
        creds = TrytonCredentials(info.url, info.user, values[ENV_PASSWORD])
        running = RunningErp(server, info, creds, dict(server.timings))
        _seed(running, *seed_args)
        yield running
    finally:
        server.stop()
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value


@pytest.fixture(scope="session")
def erp_discrepancies(erp: RunningErp, state_dir: Path) -> Iterator[RunningErp]:
    """A second ERP seeded with the ``discrepancies`` scenario of :data:`SEED` (what
    reconciliation must find)."""
    with another_erp(erp, state_dir, DISCREPANCIES_DATABASE, "--scenario", "discrepancies") as e:
        yield e


@pytest.fixture(scope="session")
def erp_clean(erp: RunningErp, state_dir: Path) -> Iterator[RunningErp]:
    """An ERP seeded with the clean world that no test writes to: the models' clean world
    reads it (the session's first ERP gets sales orders from tests/erp, whose invoices make
    every shipped order of the world look "not invoiced")."""
    with another_erp(erp, state_dir, "erp_clean") as e:
        yield e


@pytest.fixture(scope="session")
def erp_publish(erp: RunningErp, state_dir: Path) -> Iterator[RunningErp]:
    """A third ERP, seeded with the clean world, that the publish tests create orders in."""
    with another_erp(erp, state_dir, "erp_publish") as e:
        yield e
