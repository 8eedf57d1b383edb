"""The README's promises: `make demo` twice is safe; `make ui` shows the pipeline.

`make ui` is checked twice: its GraphQL API lists the assets, and a headless Chromium
(tests/browser.py) sees the lineage drawn and the publish gate's verdict.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dagster_project.erp.server import ENV_ROLE_PASSWORD
from dagster_project.hub.settings import OWNER_ROLE, REPO_ROOT, read_env_file, with_database
from tests.browser import chromium


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


@pytest.fixture(scope="module")
def ui_port(demo_state: Path) -> Iterator[int]:
    """`distrohub ui` on a free loopback port over the demo's instance, started once for
    the module's UI tests (the demo runs first if no test has run it yet)."""
    if not (demo_state / "sandbox" / "systems.env").exists():
        first = run_demo(demo_state)
        assert first.returncode == 0, first.stdout + first.stderr
    port = _free_port()
    env = clean_env(demo_state)
    env["DISTROHUB_UI_PORT"] = str(port)
    # a file, not a pipe: nobody drains a pipe while the browser test runs, and a full
    # pipe would block the UI's logging
    log_path = demo_state / "ui.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli.main", "ui"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _graphql(port, "{ version }")
                break
            except OSError:
                assert proc.poll() is None, log_path.read_text(errors="replace")[-2000:]
                assert time.monotonic() < deadline, "the UI did not answer within 90 s"
                time.sleep(0.5)
        yield port
    finally:
        os.killpg(proc.pid, 2)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def test_ui_serves_the_asset_graph(ui_port: int) -> None:
    data = _graphql(ui_port, "{ assetNodes { assetKey { path } groupName } }")
    nodes = {tuple(n["assetKey"]["path"]): n["groupName"] for n in data["data"]["assetNodes"]}
    assert nodes[("hub_schema",)] == "hub"


# The lineage drawn in the browser: every asset on a path from one WMS stock stream to the
# storefront availability it feeds (raw -> staging -> core -> marts -> publish).
LINEAGE_FROM = "raw/wms_dc_east__stock"
LINEAGE_TO = "publish/storefront_inventory"
LAYERS = ("raw", "staging", "core", "marts", "publish")
# Set before the UI's own scripts: the community sign-up dialog counts as dismissed and the
# navigation is collapsed (more room for the graph); both are the UI's localStorage keys.
UI_PREFERENCES = (
    "localStorage.setItem('communityNux', JSON.stringify('1'));"
    "localStorage.setItem('dagster-nav-collapsed', 'true');"
)
# What the UI draws, read from the DOM: asset nodes are foreignObjects holding an
# AssetNode_assetName label, edges are the paths with an arrow (marker-end) in the same SVG.
RENDERED_GRAPH_JS = """
const graph = Array.from(document.querySelectorAll('svg')).find(
  (svg) => svg.querySelector('[class*="AssetNode_assetName"]'));
if (!graph) return null;
const view = {w: window.innerWidth, h: window.innerHeight};
const nodes = Array.from(graph.querySelectorAll('foreignObject')).flatMap((fo) => {
  const label = fo.querySelector('[class*="AssetNode_assetName"]');
  if (!label) return [];
  const r = label.getBoundingClientRect();
  return [{label: label.textContent.trim(),
           x: +fo.getAttribute('x'), y: +fo.getAttribute('y'),
           w: +fo.getAttribute('width'), h: +fo.getAttribute('height'),
           left: Math.round(r.left), top: Math.round(r.top),
           visible: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                    && r.left < view.w && r.top < view.h}];
});
const edges = Array.from(graph.querySelectorAll('path[marker-end]')).map(
  (p) => p.getAttribute('d'));
return {nodes, edges};
"""


def _asset_graph(port: int) -> dict[str, tuple[str, set[str]]]:
    """{asset key: (group, upstream keys)} from the UI's GraphQL API."""
    data = _graphql(port, "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }")
    return {
        "/".join(n["assetKey"]["path"]): (
            n["groupName"],
            {"/".join(d["path"]) for d in n["dependencyKeys"]},
        )
        for n in data["data"]["assetNodes"]
    }


def _between(graph: dict[str, tuple[str, set[str]]], start: str, end: str) -> set[str]:
    """Every asset on a path from start to end (both included)."""
    downstream: dict[str, set[str]] = {}
    for key, (_, ups) in graph.items():
        for up in ups:
            downstream.setdefault(up, set()).add(key)

    def reach(key: str, step) -> set[str]:
        seen, todo = {key}, [key]
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    return reach(start, lambda k: downstream.get(k, ())) & reach(end, lambda k: graph[k][1])


def _shows(label: str, name: str) -> bool:
    """The UI shortens long names in the middle ("storefr…_inventory")."""
    if "…" not in label:
        return label == name
    head, _, tail = label.partition("…")
    return len(head) + len(tail) < len(name) and name.startswith(head) and name.endswith(tail)


def _endpoints(d: str) -> tuple[tuple[float, float], tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return (numbers[0], numbers[1]), (numbers[-2], numbers[-1])


def _touches(point: tuple[float, float], box: dict, slack: float = 15) -> bool:
    x, y = point
    return (
        box["x"] - slack <= x <= box["x"] + box["w"] + slack
        and box["y"] <= y <= box["y"] + box["h"]
    )


def test_ui_draws_the_lineage_and_the_gate(ui_port: int) -> None:
    """Headless Chromium on `distrohub ui`: the lineage raw -> publish is drawn, node by node
    and edge by edge, and the publish model's blocking gate shows the demo's verdict."""
    graph = _asset_graph(ui_port)
    chain = _between(graph, LINEAGE_FROM, LINEAGE_TO)
    assert {k.split("/")[0] for k in chain} == set(LAYERS), (
        f"the definitions no longer lead {LINEAGE_FROM} to {LINEAGE_TO} through every layer "
        f"{LAYERS}: {sorted(chain)}"
    )
    expected_edges = {(up, key) for key in chain for up in graph[key][1] if up in chain}
    names = {key: key.rsplit("/", 1)[-1] for key in chain}
    selection = " or ".join(f'key:"{key}"' for key in sorted(chain))
    groups = ",".join(sorted(f"global@global:{graph[key][0]}" for key in chain))
    base = f"http://127.0.0.1:{ui_port}"
    lineage_url = (
        f"{base}/asset-groups~{urllib.parse.quote(selection, safe='')}/"
        f"?expanded={urllib.parse.quote(groups, safe='')}"
    )
    with chromium() as browser:
        browser.before_each_page(UI_PREFERENCES)
        with browser.evidence("lineage"):
            browser.open(lineage_url)

            def drawn() -> dict | None:
                rendered = browser.script(RENDERED_GRAPH_JS)
                if not rendered or len(rendered["nodes"]) < len(chain):
                    return None
                if len(rendered["edges"]) < len(expected_edges):
                    return None
                return rendered

            rendered = browser.wait_for(
                f"the {len(chain)} assets and {len(expected_edges)} edges from {LINEAGE_FROM} "
                f"to {LINEAGE_TO}",
                drawn,
                timeout=90,
            )
            # the graph fits itself to the window once laid out: wait until it stops moving
            previous = [rendered]

            def at_rest() -> dict | None:
                now = browser.script(RENDERED_GRAPH_JS)
                still, previous[0] = now == previous[0], now
                return now if still else None

            rendered = browser.wait_for("the lineage graph at rest", at_rest, timeout=30)
            boxes: dict[str, dict] = {}
            for key, name in names.items():
                matches = [n for n in rendered["nodes"] if _shows(n["label"], name)]
                assert len(matches) == 1, (
                    f"{key} should be drawn once as '{name}'; drawn labels: "
                    f"{[n['label'] for n in rendered['nodes']]}"
                )
                assert matches[0]["visible"], f"{key} is drawn outside the window"
                boxes[key] = matches[0]
            lines = [_endpoints(d) for d in rendered["edges"]]
            for up, down in sorted(expected_edges):
                assert any(
                    _touches(start, boxes[up]) and _touches(end, boxes[down])
                    for start, end in lines
                ), f"no edge drawn from {up} to {down}; edges: {rendered['edges']}"
            browser.screenshot("lineage")

        check = _gate_verdict(ui_port, LINEAGE_TO)
        with browser.evidence("gate-check"):
            browser.open(f"{base}/assets/{LINEAGE_TO}?view=checks")
            browser.wait_for(
                "the gate entry in the checks list",
                lambda: _click_check(browser, "gate"),
            )
            shown = browser.wait_for(
                "the gate's latest evaluation result",
                lambda: browser.script(
                    "const h = Array.from(document.querySelectorAll('span')).find("
                    "  (s) => s.textContent.trim() === 'Evaluation result');"
                    "return h && h.nextElementSibling && h.nextElementSibling.innerText.trim();"
                ),
            )
            want = {"SUCCEEDED": "Passed", "FAILED": "Failed"}[check["status"]]
            assert shown == want, f"the UI shows the gate as {shown!r}, its verdict is {want}"
            page = browser.script("return document.body.innerText")
            assert check["evaluation"]["description"] in page, (
                f"the gate's summary {check['evaluation']['description']!r} is not shown"
            )
            for entry in check["evaluation"]["metadataEntries"]:
                assert entry["label"] in page, f"the gate's {entry['label']} is not shown"
            browser.screenshot("gate-check")


def _gate_verdict(port: int, key: str) -> dict:
    """The latest execution of the blocking gate check on ``key`` (GraphQL)."""
    path = json.dumps(key.split("/"))
    data = _graphql(
        port,
        f"{{ assetNodeOrError(assetKey: {{path: {path}}}) {{ ... on AssetNode {{"
        " assetChecksOrError { ... on AssetChecks { checks { name blocking"
        " executionForLatestMaterialization { status evaluation { success description"
        " metadataEntries { label } } } } } } } } }",
    )
    checks = data["data"]["assetNodeOrError"]["assetChecksOrError"]["checks"]
    gate = next((c for c in checks if c["name"] == "gate"), None)
    assert gate is not None and gate["blocking"], f"{key} has no blocking gate check: {checks}"
    execution = gate["executionForLatestMaterialization"]
    assert execution and execution["evaluation"], (
        f"the demo left no evaluated gate on {key}: {execution}"
    )
    return execution


def _click_check(browser, name: str) -> bool:
    """Click the check called ``name`` in the checks list; True once its detail is open."""
    from selenium.webdriver.common.by import By

    if f"checkDetail={name}" in browser.driver.current_url:
        return True
    for element in browser.driver.find_elements(By.XPATH, f"//span[normalize-space()='{name}']"):
        if element.is_displayed():
            element.click()
            break
    return False
