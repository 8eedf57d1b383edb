"""One landed, built world the publish tests deliver into.

``publish_world``: its own hub database, its own sandbox (the clean world of ``SEED``) and
its own ERP clone (``erp_publish``), every raw stream landed and every dbt model built with
its gate once, nothing delivered yet. Tests run in file order and build on each other's
deliveries where they say so; a test that changes a publish table restores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from tests.ingest.test_sandbox_ingest import environment
from tests.models.conftest import LandedWorld, landed_world


@pytest.fixture(scope="session")
def publish_world(pg_cluster, erp_publish) -> Iterator[LandedWorld]:
    with landed_world(pg_cluster, erp_publish) as world:
        built = world.built
        assert built.success, [e.step_key for e in built.all_events if e.is_step_failure]
        with environment({**world.env, "DISTROHUB_DATABASE_URL": world.hub}):
            yield world


@contextmanager
def tampered(hub: str, model: str, statement: str, params: tuple = ()) -> Iterator[int]:
    """Change publish.<model> with ``statement`` (committed, as a bad build would), and put
    the table back exactly as it was afterwards; yields the rows changed."""
    table = sql.Identifier("publish", model)
    backup = sql.Identifier(f"backup_{model}")
    with psycopg.connect(hub, autocommit=True) as conn:
        conn.execute(sql.SQL("create temp table {} as select * from {}").format(backup, table))
        try:
            yield conn.execute(statement, params).rowcount
        finally:
            conn.execute(sql.SQL("truncate {}").format(table))
            conn.execute(sql.SQL("insert into {} select * from {}").format(table, backup))
