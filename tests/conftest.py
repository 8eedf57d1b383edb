"""Session-wide fixtures: one throwaway PostgreSQL cluster for the whole run.

Every test that needs the hub gets a real PostgreSQL 15 server, started once
per session in a temporary state folder (fsync off: it is thrown away) and
stopped at the end. Tests needing their own database create one on it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dagster_project.hub import settings
from dagster_project.hub.cluster import ClusterInfo, EmbeddedCluster
from dagster_project.hub.migrate import apply_migrations

# The ERP (one Tryton template per session, one trytond) for every suite that needs it.
pytest_plugins = ["tests.erp_fixtures"]


@pytest.fixture(scope="session")
def state_dir() -> Iterator[Path]:
    """A temporary DISTROHUB_STATE_DIR for the session (the repo's .distrohub is untouched)."""
    path = Path(tempfile.mkdtemp(prefix="distrohub-test-"))
    path.chmod(0o755)
    previous = os.environ.get(settings.ENV_STATE_DIR)
    os.environ[settings.ENV_STATE_DIR] = str(path)
    yield path
    if previous is None:
        os.environ.pop(settings.ENV_STATE_DIR, None)
    else:
        os.environ[settings.ENV_STATE_DIR] = previous
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster(state_dir: Path) -> Iterator[ClusterInfo]:
    """The session's PostgreSQL cluster, with the hub migrated; env vars point at it."""
    cluster = EmbeddedCluster(state_dir, durable=False)
    info = cluster.start()
    apply_migrations(info.hub_url)
    saved = {k: os.environ.get(k) for k in info.environment()}
    os.environ.update(info.environment())
    try:
        yield info
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cluster.destroy()


@contextmanager
def fresh_database(pg_cluster: ClusterInfo) -> Iterator[str]:
    """A fresh hub database owned by the pipeline role (not migrated); dropped afterwards."""
    name = f"hub_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} owner {}").format(
                sql.Identifier(name), sql.Identifier(settings.OWNER_ROLE)
            )
        )
    url = settings.with_database(pg_cluster.hub_url, name)
    try:
        yield url
    finally:
        with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture
def scratch_db(pg_cluster: ClusterInfo) -> Iterator[str]:
    """A fresh hub database owned by the pipeline role; dropped afterwards."""
    with fresh_database(pg_cluster) as url:
        yield url


@pytest.fixture
def hub(scratch_db: str) -> str:
    """A fresh, migrated hub database of its own (dropped afterwards)."""
    apply_migrations(scratch_db)
    return scratch_db


@pytest.fixture(scope="session")
def clean_world(pg_cluster, erp_clean):
    """One landed, built clean world for every folder (tests/models/conftest.py says how):
    defined here, not there, so tests in several folders share one world, not one each."""
    from tests.models.conftest import landed_world

    with landed_world(pg_cluster, erp_clean) as world:
        yield world
