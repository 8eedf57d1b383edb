"""The embedded cluster through the CLI, as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from dagster_project.hub.settings import read_env_file


def distrohub(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISTROHUB_", "DAGSTER_"))}
    env["DISTROHUB_STATE_DIR"] = str(state)
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def postmasters(data_dir: Path) -> list[str]:
    """Main server processes started on this data directory."""
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [
        line
        for line in ps.splitlines()
        if "postgres" in line and f"-D {data_dir}" in line and "pg_ctl" not in line
    ]


@pytest.fixture
def own_state() -> Path:
    path = Path(tempfile.mkdtemp(prefix="distrohub-cli-"))
    path.chmod(0o755)
    yield path
    distrohub(path, "hub", "stop")
    subprocess.run(["rm", "-rf", str(path)], check=False)


def test_start_twice_leaves_one_server_and_stop_stops_it(own_state: Path) -> None:
    first = distrohub(own_state, "hub", "start")
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    data_dir = (own_state / "pg").resolve() / "data"
    assert len(postmasters(data_dir)) == 1

    second = distrohub(own_state, "hub", "start")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert len(postmasters(data_dir)) == 1

    creds = read_env_file(own_state / "credentials.env")
    assert oct((own_state / "credentials.env").stat().st_mode & 0o777) == "0o600"
    with psycopg.connect(creds["DISTROHUB_DATABASE_URL"]) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
    assert {"raw", "staging", "core", "marts", "publish", "ops"} <= schemas

    assert distrohub(own_state, "hub", "status").returncode == 0
    url = distrohub(own_state, "hub", "url")
    assert creds["DISTROHUB_OWNER_PASSWORD"] not in url.stdout  # hidden by default
    assert "***" in url.stdout

    stopped = distrohub(own_state, "hub", "stop")
    assert "stopped" in stopped.stdout
    assert postmasters(data_dir) == []
    assert distrohub(own_state, "hub", "status").returncode == 3
    assert "was not running" in distrohub(own_state, "hub", "stop").stdout

    # and it comes back with its data
    again = distrohub(own_state, "hub", "start")
    assert again.returncode == 0, again.stderr
    assert len(postmasters(data_dir)) == 1


def test_external_url_starts_nothing(pg_cluster, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISTROHUB_", "DAGSTER_"))}
    env["DISTROHUB_STATE_DIR"] = str(tmp_path)
    env["DISTROHUB_DATABASE_URL"] = pg_cluster.hub_url
    res = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "hub", "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "external" in res.stdout
    assert not (tmp_path / "pg").exists()
    res = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "hub", "stop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "nothing to stop" in res.stdout
    with psycopg.connect(pg_cluster.hub_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
