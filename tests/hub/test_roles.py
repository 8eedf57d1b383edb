"""The analyst reads core and marts, nothing else, and writes nothing."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from dagster_project.hub.cluster import ClusterInfo


@pytest.fixture(scope="module")
def analyst_url(pg_cluster: ClusterInfo) -> str:
    # tables created by the pipeline owner after the migrations ran (as dbt will)
    with psycopg.connect(pg_cluster.hub_url) as conn:
        for schema in ("raw", "staging", "core", "marts", "publish", "ops"):
            probe = sql.Identifier(schema, "probe")
            conn.execute(sql.SQL("create table if not exists {} (id int)").format(probe))
            conn.execute(sql.SQL("insert into {} values (1)").format(probe))
    return pg_cluster.analyst_url


@pytest.mark.parametrize("schema", ["core", "marts"])
def test_analyst_reads_core_and_marts(analyst_url: str, schema: str) -> None:
    with psycopg.connect(analyst_url) as conn:
        probe = sql.Identifier(schema, "probe")
        assert conn.execute(sql.SQL("select id from {}").format(probe)).fetchall() == [(1,)]


@pytest.mark.parametrize("schema", ["core", "marts"])
@pytest.mark.parametrize(
    "statement",
    [
        "insert into {s}.probe values (2)",
        "update {s}.probe set id = 3",
        "delete from {s}.probe",
        "create table {s}.mine (i int)",
        "drop table {s}.probe",
        "truncate {s}.probe",
    ],
    ids=["insert", "update", "delete", "create", "drop", "truncate"],
)
def test_analyst_writes_nothing(analyst_url: str, schema: str, statement: str) -> None:
    with psycopg.connect(analyst_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL(statement).format(s=sql.Identifier(schema)))


@pytest.mark.parametrize("schema", ["raw", "staging", "publish", "ops"])
def test_analyst_reads_nothing_else(analyst_url: str, schema: str) -> None:
    with psycopg.connect(analyst_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, "probe")))


def test_analyst_cannot_reach_dagster_storage(pg_cluster: ClusterInfo) -> None:
    url = (
        make_url(pg_cluster.analyst_url)
        .set(database="dagster")
        .render_as_string(hide_password=False)
    )
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(url)
