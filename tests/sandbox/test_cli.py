"""`distrohub sandbox up|status|advance|truth|down` in a temporary state directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

DISTROHUB = [sys.executable, "-c", "from dagster_project.cli.main import main; main()"]


def run(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [*DISTROHUB, "sandbox", *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check and r.returncode != 0:
        raise AssertionError(f"sandbox {args} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["DISTROHUB_STATE_DIR"] = str(tmp_path)
    e.pop("DISTROHUB_WEBHOOK_URL", None)
    e["COLUMNS"] = "200"
    return e


def test_up_status_truth_down(env: dict[str, str], tmp_path: Path) -> None:
    state = tmp_path / "sandbox"
    try:
        run(
            ["up", "--skus", "30", "--days", "1", "--seed", "4", "--scenario", "discrepancies"], env
        )
        systems = dict(
            line.split("=", 1)
            for line in (state / "systems.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        for key in (
            "DISTROHUB_SHOPIFY_B2B_URL",
            "DISTROHUB_SHOPIFY_B2B_TOKEN",
            "DISTROHUB_SHOPIFY_B2B_WEBHOOK_SECRET",
            "DISTROHUB_SHOPIFY_D2C_URL",
            "DISTROHUB_SHOPIFY_MARKETPLACE_TOKEN",
            "DISTROHUB_WMS_DC_EAST_URL",
            "DISTROHUB_WMS_DC_EAST_TOKEN",
            "DISTROHUB_WMS_DC_WEST_URL",
            "DISTROHUB_3PL_DROP_DIR",
            "DISTROHUB_3PL_OUTBOX_DIR",
            "DISTROHUB_SUPPLIER_ACME_DROP_DIR",
            "DISTROHUB_SUPPLIER_CASCADE_OUTBOX_DIR",
            "DISTROHUB_CARRIER_WEBHOOK_SECRET",
            "DISTROHUB_SANDBOX_CONTROL_URL",
        ):
            assert systems.get(key), key
        assert all(
            v.startswith("http://127.0.0.1:") for k, v in systems.items() if k.endswith("_URL")
        )
        r = httpx.get(
            systems["DISTROHUB_SHOPIFY_D2C_URL"] + "/admin/api/2025-07/orders/count.json",
            headers={"X-Shopify-Access-Token": systems["DISTROHUB_SHOPIFY_D2C_TOKEN"]},
        )
        assert r.status_code == 200
        pid = json.loads((state / "runtime.json").read_text())["pid"]
        again = run(["up"], env)
        assert "already running" in again.stdout
        assert json.loads((state / "runtime.json").read_text())["pid"] == pid
        status = run(["status"], env)
        assert "answers" in status.stdout and "no answer" not in status.stdout
        run(["advance", "--hours", "2"], env)
        truth = json.loads(run(["truth", "--sections", "clock,discrepancies"], env).stdout)
        assert truth["clock"]["hours"] == 26 and len(truth["discrepancies"]) == 6
    finally:
        run(["down"], env, check=False)
    assert not (state / "runtime.json").exists()
    assert run(["status"], env, check=False).returncode == 1


def test_world_summary_and_bad_arguments(env: dict[str, str]) -> None:
    out = run(["world", "--skus", "100"], env).stdout
    assert "items" in out and "100" in out
    bad = run(["up", "--faults", "gremlins"], env, check=False)
    assert bad.returncode != 0 and "unknown fault profile" in bad.stderr + bad.stdout
