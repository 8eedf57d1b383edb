"""The README's promises: `make demo` twice is safe; `make ui` lists the assets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dagster_project.erp.server import ENV_ROLE_PASSWORD
from dagster_project.hub.settings import OWNER_ROLE, REPO_ROOT, read_env_file, with_database


def clean_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISTROHUB_", "DAGSTER_"))}
    env["DISTROHUB_STATE_DIR"] = str(state)
    env.update(DEMO_ENV)
    return env


DEMO_ENV: dict[str, str] = {}


@pytest.fixture(scope="module")
def demo_state(pg_cluster, erp) -> Path:
    """A state folder for the demo, on the session's cluster (its own databases) and
    its Tryton template, so the test builds no second cluster and no second template."""
    path = Path(tempfile.mkdtemp(prefix="distrohub-demo-"))
    path.chmod(0o755)
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        for db in ("demo_hub", "demo_dagster"):
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db))
            )
            conn.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(db), sql.Identifier(OWNER_ROLE)
                )
            )
    DEMO_ENV.update(
        {
            "DISTROHUB_DATABASE_URL": with_database(pg_cluster.hub_url, "demo_hub"),
            "DISTROHUB_DAGSTER_DATABASE_URL": with_database(pg_cluster.hub_url, "demo_dagster"),
            "DISTROHUB_ADMIN_DATABASE_URL": pg_cluster.admin_url,
            ENV_ROLE_PASSWORD: read_env_file(erp.server.env_path)[ENV_ROLE_PASSWORD],
        }
    )
    yield path
    subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "stop"],
        env=clean_env(path),
        capture_output=True,
        timeout=120,
    )
    subprocess.run(["rm", "-rf", str(path)], check=False)


def run_demo(state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "demo"],
        env=clean_env(state),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )


def test_demo_runs_twice(demo_state: Path) -> None:
    first = run_demo(demo_state)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "make ui" in first.stdout
    with psycopg.connect(DEMO_ENV["DISTROHUB_DATABASE_URL"]) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            )
        }
        loaded = conn.execute(
            "select count(*) from ops.ingest_batches where status = 'succeeded'"
        ).fetchone()[0]
    assert {
        "tryton__items",
        "shopify_d2c__orders",
        "wms_dc_east__stock",
        "supplier_acme__invoices",
        "tpl_midway__stock",
    } <= tables
    assert loaded >= 60
    second = run_demo(demo_state)
    assert second.returncode == 0, second.stdout + second.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def test_ui_serves_the_asset_graph(demo_state: Path) -> None:
    if not (demo_state / "sandbox" / "systems.env").exists():
        assert run_demo(demo_state).returncode == 0
    port = _free_port()
    env = clean_env(demo_state)
    env["DISTROHUB_UI_PORT"] = str(port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli.main", "ui"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                data = _graphql(port, "{ assetNodes { assetKey { path } groupName } }")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the UI did not answer within 90 s"
                time.sleep(0.5)
        nodes = {tuple(n["assetKey"]["path"]): n["groupName"] for n in data["data"]["assetNodes"]}
        assert nodes[("hub_schema",)] == "hub"
    finally:
        os.killpg(proc.pid, 2)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
