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

import pytest

from dagster_project.hub.settings import REPO_ROOT


def clean_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISTROHUB_", "DAGSTER_"))}
    env["DISTROHUB_STATE_DIR"] = str(state)
    return env


@pytest.fixture(scope="module")
def demo_state() -> Path:
    path = Path(tempfile.mkdtemp(prefix="distrohub-demo-"))
    path.chmod(0o755)
    yield path
    subprocess.run([sys.executable, "-m", "dagster_project.cli.main", "stop"],
                   env=clean_env(path), capture_output=True, timeout=120)
    subprocess.run(["rm", "-rf", str(path)], check=False)


def run_demo(state: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dagster_project.cli.main", "demo"],
                          env=clean_env(state), capture_output=True, text=True, timeout=600,
                          cwd=REPO_ROOT)


def test_demo_runs_twice(demo_state: Path) -> None:
    first = run_demo(demo_state)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "hub_schema" in first.stdout and "make ui" in first.stdout
    second = run_demo(demo_state)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "migrations_applied_now=none" in second.stdout.replace("\n", "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def test_ui_serves_the_asset_graph(demo_state: Path) -> None:
    if not (demo_state / "credentials.env").exists():
        assert run_demo(demo_state).returncode == 0
    port = _free_port()
    env = clean_env(demo_state)
    env["DISTROHUB_UI_PORT"] = str(port)
    proc = subprocess.Popen([sys.executable, "-m", "dagster_project.cli.main", "ui"], env=env,
                            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
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
