"""The bench at smoke scale: every measurement runs end to end, so none of them can rot.

The figures of a smoke run mean nothing (toy sizes, a busy test machine); what is checked
is that each measurement completes, measures real work (its own counts say so), and that
the table, the JSON and the plot are written. It runs on the session's PostgreSQL cluster,
and the ERP-intake and event-latency measurements on the session's clean world (landed and
built, its ERP seeded), as ``bench/sandbox_world.py`` lets a caller give one: the bench's own
set-up of that world is the same landing and building the test worlds go through. This is
the last test of the session to use the clean world, and it is the one that publishes it.

The oversell measurement is left out: it plays a simulated day with a whole pipeline pass
every six hours even at the smoke scale (minutes); tests/test_bench_oversell.py checks its
figures on a hand-made truth instead.
"""

from __future__ import annotations

import json

from rich.console import Console

from bench.cli import MEASUREMENTS, run_measurements
from bench.context import PRESETS, BenchContext
from bench.erp import BenchErp
from bench.report import print_table, save
from bench.sandbox_world import KEY as SANDBOX_WORLD
from bench.sandbox_world import SandboxWorld

#: measurements too long for the smoke run (see the docstring)
NOT_IN_SMOKE = ("oversell",)
SMOKE = [k for k in MEASUREMENTS if k not in NOT_IN_SMOKE]


def test_the_bench_runs_every_measurement_at_smoke_scale(
    pg_cluster, clean_world, erp_clean, tmp_path
) -> None:
    lines: list[str] = []
    ctx = BenchContext(
        scale=PRESETS["smoke"],
        state_dir=tmp_path / "state",
        progress=lines.append,
        cluster=pg_cluster,
    )
    ctx.state_dir.mkdir()
    erp = BenchErp(erp_clean.info, erp_clean.credentials, None, 0.0, erp_clean.server.workers())
    given = SandboxWorld(clean_world.hub, clean_world.sandbox, erp, None)
    ctx.worlds[SANDBOX_WORLD] = (clean_world.hub, given)
    try:
        results = run_measurements(ctx, SMOKE)
    finally:
        ctx.close()
    failed = {m.key: m.error for m in results if m.error}
    assert not failed, failed
    assert [m.key for m in results] == SMOKE
    for m in results:
        assert m.figures, f"{m.key} measured nothing"
        assert all(f.value is not None for f in m.figures if f.target), m.key
    by_key = {m.key: m for m in results}
    ingest = {f.name: f.value for f in by_key["ingest"].figures}
    assert any("dlt" in name for name in ingest), "the dlt side ran"
    events = {f.name: f.value for f in by_key["events"].figures}
    assert events["events seen at the store"] == PRESETS["smoke"].events
    # progress was shown while it ran
    assert any("[events]" in line for line in lines)

    console = Console(record=True, width=140)
    print_table(results, console)
    assert "distrohub bench" in console.export_text()
    out = tmp_path / "results"
    paths = save(results, {"preset": "smoke"}, out)
    doc = json.loads(paths["latest"].read_text())
    assert [m["key"] for m in doc["measurements"]] == SMOKE
    assert doc["machine"]["cpus"] >= 1
    assert paths["png"].read_bytes().startswith(b"\x89PNG")
