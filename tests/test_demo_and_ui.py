"""The README's promises: `make demo` again and again over a world in motion publishes what
the rules give; `make ui` shows the pipeline.

`make ui` is checked twice: its GraphQL API lists the assets, and a headless Chromium
(tests/browser.py) sees the lineage drawn and the publish gate's verdict.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dagster_project.erp.server import DEFAULT_DB, ENV_DATABASE, ENV_ROLE_PASSWORD
from dagster_project.hub.settings import OWNER_ROLE, REPO_ROOT, read_env_file, with_database
from sandbox.worldgen.pricing import PriceBook
from tests.browser import chromium
from tests.rules import TRUTH_SECTIONS, cents, expected_availability, instant, rows, world_of
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


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


def run_sandbox(state: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli.main", "sandbox", *args],
        env=clean_env(state),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def differences_from_the_rules(state: Path) -> dict[str, dict]:
    """Where what the hub published, what each store shows and what the ERP holds differ from
    what the rules give from the sandbox's truth (tests/rules.py), by kind; empty when none."""
    truth = json.loads(run_sandbox(state, "truth", "--sections", ",".join(TRUTH_SECTIONS)).stdout)
    world = world_of(truth)
    now = instant(truth["clock"]["now"])
    with psycopg.connect(DEMO_ENV["DISTROHUB_DATABASE_URL"]) as conn:
        expected = expected_availability(conn, truth, world)
        published = {
            (r["sku"], r["location"], r["channel"]): r["published_quantity"]
            for r in rows(
                conn,
                "select sku, location, channel, published_quantity from marts.sellable_inventory",
            )
        }
        prices = {
            (r["channel"], r["sku"]): (
                cents(r["price"]),
                None if r["compare_at_price"] is None else cents(r["compare_at_price"]),
            )
            for r in rows(
                conn, "select channel, sku, price, compare_at_price from publish.storefront_prices"
            )
        }
        sent = {
            r["order_key"]
            for r in rows(
                conn,
                "select distinct order_key from publish.erp_sales_orders where hold_reason is null",
            )
        }
    found: dict[str, dict] = {}
    found["published availability"] = {
        k: (published.get(k), v) for k, v in expected.items() if published.get(k) != v
    }
    # every store shows, at each location the rules give a figure for, that figure (a store
    # does not track a drop-ship item at a warehouse: its level there means nothing)
    live = {
        (level["sku"], level["location"], level["channel"]): level["available"]
        for level in truth["storefront_levels"]
    }
    found["store levels"] = {
        k: (v, expected[k]) for k, v in live.items() if k in expected and expected[k] != v
    }
    # D2C prices: the list price, or the promotion valid at the world's clock (list as
    # compare-at), published and shown by the store; every store shows what is published
    book = PriceBook(
        world.items, world.customers, world.price_lists, world.contract_prices, world.promotions
    )
    want = {}
    for it in world.items:
        if "D2C" in it.channels:
            idx = world.sku_index(it.sku)
            listed = book.list_price(idx, "USD")
            pct, _ = book.promotion_percent(idx, "D2C", 1, now)
            want[("D2C", it.sku)] = (listed * (100 - pct) // 100, listed) if pct else (listed, None)
    found["D2C published prices"] = {
        k: (prices.get(k), v) for k, v in want.items() if prices.get(k) != v
    }
    shown = {(p["channel"], p["sku"]): cents(p["price"]) for p in truth["storefront_prices"]}
    found["store prices"] = {
        k: (shown.get(k), v[0]) for k, v in prices.items() if shown.get(k) != v[0]
    }
    # the ERP: each storefront order at most once, no sale without a storefront order, and
    # every order the hub sent (not held) there
    erp = read_env_file(state / "erp" / "erp.env")
    erp_url = with_database(
        DEMO_ENV["DISTROHUB_ADMIN_DATABASE_URL"], erp.get(ENV_DATABASE, DEFAULT_DB)
    )
    with psycopg.connect(erp_url) as conn:
        sales = Counter(
            r[0]
            for r in conn.execute(
                # a return sale (origin: the sale it returns) carries its return's key
                """select reference from sale_sale
                    where reference <> '' and coalesce(origin, '') not like 'sale.sale,%'"""
            )
        )
    keys = {o["key"] for o in truth["orders"]}
    found["ERP sales twice"] = {ref: n for ref, n in sales.items() if n > 1}
    found["ERP sales of no storefront order"] = {
        ref: n for ref, n in sales.items() if ref not in keys
    }
    found["sent, not in the ERP"] = {ref: None for ref in sent - set(sales)}
    return {kind: rows_ for kind, rows_ in found.items() if rows_}


@pytest.mark.timeout(
    3000
)  # three whole passes, each up to the demo's own 600 s on a loaded machine
def test_demo_three_passes_publish_what_the_rules_give(demo_state: Path) -> None:
    """The demo as the schedules would run it: a pass, a second pass over the same world, then
    10 simulated hours (orders, releases, allocations, shipments, store-side edits) and a third.
    After every pass, what was published and what every store shows equal the rules' result
    from the sandbox's truth."""
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
    assert differences_from_the_rules(demo_state) == {}, "after the first pass"
    second = run_demo(demo_state)
    assert second.returncode == 0, second.stdout + second.stderr
    assert differences_from_the_rules(demo_state) == {}, "after the second pass"
    # ten hours as an hourly schedule would see them in one late pass: orders, releases,
    # allocations, shipments and the merchandiser's 09:00 price edits (a 30-hour gap changes
    # most levels at once, and the publish gate's blast radius holds that for an operator)
    run_sandbox(demo_state, "advance", "--hours", "10")
    third = run_demo(demo_state)
    assert third.returncode == 0, third.stdout + third.stderr
    assert differences_from_the_rules(demo_state) == {}, "after 10 h and a third pass"


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    # generous: the UI answers slowly while its daemon's runs load the machine
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def ui_port(demo_state: Path) -> Iterator[int]:
    """`distrohub ui` on a free loopback port over the demo's instance, started once for
    the module's UI tests (the demo runs first if no test has run it yet)."""
    if not (demo_state / "sandbox" / "systems.env").exists():
        first = run_demo(demo_state)
        assert first.returncode == 0, first.stdout + first.stderr
    port = free_port()
    env = clean_env(demo_state)
    env["DISTROHUB_UI_PORT"] = str(port)
    # a file, not a pipe: nobody drains a pipe while the browser test runs, and a full
    # pipe would block the UI's logging
    log_path = demo_state / "ui.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        # the UI without the daemon: no schedule or sensor evaluates the gate again while the
        # test reads it, so the page shows what the demo left (`make ui` runs the daemon too)
        [sys.executable, "-m", "dagster_project.cli.main", "ui", "--no-daemon"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def answers() -> bool:
        assert proc.poll() is None, log_path.read_text(errors="replace")[-2000:]
        return bool(_graphql(port, "{ version }"))

    try:
        wait_until(
            f"`distrohub ui` to answer GraphQL on port {port}",
            answers,
            timeout=180,
            interval=0.5,
            ignore=(OSError,),
            context=lambda: log_path.read_text(errors="replace")[-2000:],
        )
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
# What the UI draws, read from the DOM by SVG structure and text only (no CSS-module class
# names, which change with every Dagster build, and no data-testid: the UI's production
# build leaves them out): the graph is the SVG with the most foreignObjects; each box (an
# asset or a group) is a foreignObject, read as the lines of its text; edges are the paths
# with an arrow (marker-end) in the same SVG.
RENDERED_GRAPH_JS = """
const graph = Array.from(document.querySelectorAll('svg')).reduce(
  (best, svg) => (svg.querySelectorAll('foreignObject').length
                  > (best ? best.querySelectorAll('foreignObject').length : 0) ? svg : best),
  null);
if (!graph) return null;
const view = {w: window.innerWidth, h: window.innerHeight};
const nodes = Array.from(graph.querySelectorAll('foreignObject')).flatMap((fo) => {
  // a foreignObject is SVG: its HTML children carry the text
  const text = Array.from(fo.children).map((c) => c.innerText || '').join('\\n');
  const lines = text.split('\\n').map((l) => l.trim()).filter((l) => l);
  if (!lines.length) return [];
  const r = fo.getBoundingClientRect();
  return [{lines,
           x: +fo.getAttribute('x'), y: +fo.getAttribute('y'),
           w: +fo.getAttribute('width'), h: +fo.getAttribute('height'),
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


@pytest.mark.timeout(900)  # its waits add up to 12 minutes on a machine loaded by the daemon
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
                matches = [
                    n for n in rendered["nodes"] if any(_shows(line, name) for line in n["lines"])
                ]
                assert len(matches) == 1, (
                    f"{key} should be drawn once as '{name}'; drawn boxes: "
                    f"{[n['lines'][:2] for n in rendered['nodes']]}"
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

        # Wait until GraphQL reports a finished evaluation, then until the page shows that
        # same verdict (GraphQL asked again on every poll: under `make ui` the daemon may
        # evaluate the gate again at any time).
        # A GraphQL answer that is slow or refused counts as "not yet".
        check_page = f"{base}/assets/{LINEAGE_TO}?view=checks"
        with browser.evidence("gate-check"):
            wait_until(
                f"a finished evaluation of the gate on {LINEAGE_TO} (GraphQL)",
                lambda: _gate_verdict(ui_port, LINEAGE_TO),
                timeout=300,
                interval=1,
                ignore=(OSError,),
            )
            gate_page = GatePage(browser, check_page)
            wait_until(
                "the gate's verdict, summary and metadata as GraphQL reports its latest "
                "finished evaluation",
                lambda: gate_page.agrees_with(_gate_verdict(ui_port, LINEAGE_TO)),
                timeout=300,
                interval=0.5,
                ignore=(OSError,),
                context=lambda: f"the page at {browser.driver.current_url}: {gate_page.mismatch}",
            )
            browser.screenshot("gate-check")


# How the UI words a finished check evaluation (its status in GraphQL), and every status
# word it may show for an execution
VERDICTS = {"SUCCEEDED": "Passed", "FAILED": "Failed"}
STATUS_WORDS = {"passed", "failed", "running", "in progress", "skipped", "execution failed"}


def _gate_verdict(port: int, key: str) -> dict | None:
    """The latest execution of the blocking gate check on ``key`` (GraphQL), or None while
    it is still being evaluated; a run that skipped it or failed to run it fails the test."""
    path = json.dumps(key.split("/"))
    data = _graphql(
        port,
        f"{{ assetNodeOrError(assetKey: {{path: {path}}}) {{ ... on AssetNode {{"
        " assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"
        f' assetCheckExecutions(assetKey: {{path: {path}}}, checkName: "gate", limit: 1)'
        " { runId status evaluation { success description metadataEntries { label } } } }",
    )
    checks = data["data"]["assetNodeOrError"]["assetChecksOrError"]["checks"]
    gate = next((c for c in checks if c["name"] == "gate"), None)
    assert gate is not None and gate["blocking"], f"{key} has no blocking gate check: {checks}"
    executions = data["data"]["assetCheckExecutions"]
    assert executions, f"the demo left no evaluation of the gate on {key}"
    latest = executions[0]
    if latest["status"] == "IN_PROGRESS":
        return None
    assert latest["status"] in VERDICTS and latest["evaluation"], (
        f"the gate on {key} was not evaluated in its latest run {latest['runId']}: {latest}"
    )
    return latest


class GatePage:
    """The gate's detail on the asset's checks page, read by its text.

    The check is opened by clicking the entry whose text is its name; its verdict is the
    one status word in the "Latest execution" section of the page's text (the UI refreshes
    itself when a newer evaluation comes).
    """

    def __init__(self, browser, url: str, name: str = "gate") -> None:
        self.browser, self.name = browser, name
        self.mismatch = "not read yet"
        browser.open(url)

    def _open(self) -> bool:
        """Open the check; True once its detail is open."""
        from selenium.webdriver.common.by import By

        driver = self.browser.driver
        if f"checkDetail={self.name}" in driver.current_url:
            return True
        for element in driver.find_elements(By.XPATH, f"//*[normalize-space()='{self.name}']"):
            if element.is_displayed():
                element.click()
                break
        return False

    def agrees_with(self, check: dict | None) -> bool:
        """True when the page shows ``check``'s verdict, its summary and every metadata
        label; otherwise ``self.mismatch`` says what differs."""
        from selenium.common.exceptions import WebDriverException

        if check is None:
            self.mismatch = "the gate is being evaluated again (GraphQL)"
            return False
        try:
            if not self._open():
                self.mismatch = "the check's detail is not open yet"
                return False
            text = self.browser.script("return document.body.innerText")
        except WebDriverException as exc:  # not rendered yet, or re-rendered under us
            self.mismatch = f"the page is not ready: {exc.msg}"
            return False
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        # the "Latest execution" section, up to its metadata, names the verdict once
        section = lines[lines.index("Latest execution") :] if "Latest execution" in lines else []
        section = section[: section.index("Metadata")] if "Metadata" in section else section
        words = [line for line in section if line.lower() in STATUS_WORDS]
        shown = words[0] if len(words) == 1 else (words or None)
        want = VERDICTS[check["status"]]
        missing = [
            entry["label"]
            for entry in check["evaluation"]["metadataEntries"]
            if entry["label"] not in text
        ]
        if shown != want:
            self.mismatch = f"it shows the verdict {shown!r}, GraphQL says {want!r}"
        elif check["evaluation"]["description"] not in text:
            self.mismatch = f"the summary {check['evaluation']['description']!r} is not shown"
        elif missing:
            self.mismatch = f"the metadata {missing} is not shown"
        else:
            return True
        return False
