"""The ops marts and `distrohub status` on the landed world: healthy when clean but for the
reconciliation of its stalled pipeline (the landed world runs no delivery and nothing posts
shipments, so its orders and shipments are rightly reported), and a broken world (a stale
feed, a failed load, a dead letter, a held gate, quarantined input) is named line by line, in
`distrohub status` live and in marts.ops_exceptions once rebuilt."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dagster_project.cli.status import status
from dagster_project.hub import settings
from dagster_project.ingest.landing import Landing, Rejected
from dagster_project.ingest.slas import declared_slas
from tests.models.conftest import LandedWorld, run

STALE_SYSTEM, STALE_STREAM = "wms_dc_east", "stock"  # SLA 1 h (defs.yaml)
HELD_TARGET = "storefront_prices"
DEAD_TARGET, DEAD_SYSTEM = "erp_sales_orders", "tryton"

# what the clean world's stalled pipeline may leave in marts.ops_exceptions (and only that):
# its orders never delivered, its shipments never posted, and a confirmation nothing links to
# an order (none in the clean world: the 3PL's HIST-<order> confirmations are linked by its
# shipment_matching rule; tests/models/test_reconciliation.py)
STALLED = {"missing_in_erp", "not_posted", "shipment_unmatched"}


def _sync_rows(hub: str) -> dict[tuple[str, str], dict]:
    with psycopg.connect(hub) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute("select * from marts.ops_sync_health where direction = 'inbound'")
        return {(r["system"], r["stream"]): r for r in cur.fetchall()}


def _invoke(world: LandedWorld, *args: str):
    return CliRunner().invoke(
        status, list(args), env={settings.ENV_DATABASE_URL: world.hub, "COLUMNS": "200"}
    )


@pytest.fixture(scope="module")
def ops_world(clean_world: LandedWorld) -> LandedWorld:
    """The clean world with the ops marts built, its feeds fresh: a stream whose last load is
    older than half its SLA (a long session) is loaded again, so "healthy" is about the world,
    not about how long the suite took to get here."""
    rows = _sync_rows(clean_world.hub) if _built(clean_world.hub) else {}
    stale = [
        dg.AssetKey(["raw", f"{system}__{stream}"])
        for (system, stream), row in rows.items()
        if row["lag_minutes"] is None or row["lag_minutes"] > row["sla_minutes"] / 2
    ]
    if stale:
        landed = run(clean_world.definitions, clean_world.hub, clean_world.env, stale)
        assert landed.success, [e.step_key for e in landed.all_events if e.is_step_failure]
    if stale or not rows:
        clean_world.rebuild("marts/ops_sync_health", "marts/ops_exceptions")
    return clean_world


def _built(hub: str) -> bool:
    with psycopg.connect(hub) as conn:
        return conn.execute("select to_regclass('marts.ops_sync_health')").fetchone()[0] is not None


def test_ops_sync_health_is_a_live_view_with_every_declared_stream_within_sla(ops_world) -> None:
    ops_marts = {
        dg.AssetKey(["marts", "ops_sync_health"]),
        dg.AssetKey(["marts", "ops_exceptions"]),
    }
    built = ops_world.built
    assert ops_marts <= {
        e.materialization.asset_key for e in built.get_asset_materialization_events()
    }
    checks = [c for c in built.get_asset_check_evaluations() if c.asset_key in ops_marts]
    assert len(checks) >= 15 and all(c.passed for c in checks), [
        c.check_name for c in checks if not c.passed
    ]
    declared = declared_slas()
    rows = _sync_rows(ops_world.hub)
    assert set(rows) == set(declared), set(rows) ^ set(declared)
    for key, row in rows.items():
        assert row["sla_minutes"] == declared[key], key
        assert row["sla_status"] == "within_sla", row["message"]
        assert row["last_status"] == "succeeded" and row["last_error"] is None, row
        assert row["message"].startswith(f"{key[0]} {key[1]}: last loaded "), row["message"]
    with psycopg.connect(ops_world.hub) as conn:
        kinds = dict(
            conn.execute(
                """select c.relname, c.relkind from pg_class c
                     join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'marts'
                      and c.relname in ('ops_sync_health', 'ops_exceptions')"""
            ).fetchall()
        )
    assert kinds == {"ops_sync_health": "v", "ops_exceptions": "r"}


def test_the_analyst_reads_both_ops_marts(ops_world, pg_cluster) -> None:
    database = conninfo_to_dict(ops_world.hub)["dbname"]
    analyst = settings.with_database(pg_cluster.analyst_url, database)
    with psycopg.connect(analyst) as conn:
        health = conn.execute("select count(*) from marts.ops_sync_health").fetchone()[0]
        conn.execute("select count(*) from marts.ops_exceptions").fetchone()
    assert health == len(declared_slas())


def test_status_on_the_clean_world_is_healthy_but_for_its_stalled_pipeline(ops_world) -> None:
    result = _invoke(ops_world)
    # every stream fresh, every gate passed, no delivery stalled, no dead letter: the only
    # errors are the reconciliation rows of what the landed world never delivered or posted
    with psycopg.connect(ops_world.hub) as conn:
        errors = dict(
            conn.execute(
                """select category || ':' || error_code, count(*) from marts.ops_exceptions
                    where severity = 'error' group by 1"""
            ).fetchall()
        )
    assert errors and set(errors) <= {f"reconciliation:{code}" for code in STALLED}, errors
    assert result.exit_code == 1, result.output
    systems = sorted({system for system, _ in declared_slas()})
    for system in systems:
        assert system in result.output, system
    as_json = _invoke(ops_world, "--json")
    report = json.loads(as_json.output)
    assert report["healthy"] is False and report["breaches"] == []
    assert [s["system"] for s in report["systems"]] == systems
    assert {g["target"]: g["passed"] for g in report["gates"]} == {
        name: True for name in report_targets()
    }


def report_targets() -> list[str]:
    from dagster_project.publish.targets import declared_targets

    return sorted(declared_targets())


@pytest.fixture
def broken(ops_world: LandedWorld) -> Iterator[dict]:
    """Break the world (restored after): STALE_SYSTEM STALE_STREAM last loaded 5 h ago and its
    latest load failed; a dead letter for DEAD_TARGET; HELD_TARGET's gate held by its blast
    radius; a quarantined stock record (landed through Landing, with its error code)."""
    failed_batch = uuid.uuid4()
    outbox_id = gate_id = None
    # autocommit: each `transaction()` below commits, so the CLI's own connection sees it
    with psycopg.connect(ops_world.hub, autocommit=True) as conn:
        saved = conn.execute(
            """select batch_id, started_at, finished_at from ops.ingest_batches
                where system = %s and stream = %s""",
            (STALE_SYSTEM, STALE_STREAM),
        ).fetchall()
        try:
            with conn.transaction():
                conn.execute(
                    """update ops.ingest_batches
                          set started_at = started_at - interval '5 hours',
                              finished_at = finished_at - interval '5 hours'
                        where system = %s and stream = %s""",
                    (STALE_SYSTEM, STALE_STREAM),
                )
                conn.execute(
                    """insert into ops.ingest_batches
                           (batch_id, system, stream, started_at, finished_at, status, error)
                       values (%s, %s, %s, now() - interval '10 minutes',
                               now() - interval '9 minutes', 'failed', %s)""",
                    (
                        failed_batch,
                        STALE_SYSTEM,
                        STALE_STREAM,
                        "wms_dc_east answered GET /v1/stock with 503 after 5 attempts",
                    ),
                )
                outbox_id = conn.execute(
                    """insert into ops.outbox
                           (target, system, record_key, action, change, payload, payload_hash,
                            idempotency_key, status, attempts, last_error, error_code)
                       values (%s, %s, 'B2B#9001', 'upsert', 'add', %s, 'h', %s, 'dead', 5,
                               'party C-404 does not exist', 'unknown_party')
                       returning id""",
                    (DEAD_TARGET, DEAD_SYSTEM, Jsonb({"order_key": "B2B#9001"}), str(uuid.uuid4())),
                ).fetchone()[0]
                dead_id = conn.execute(
                    """insert into ops.dead_letter
                           (outbox_id, target, system, record_key, error_code, error, attempts)
                       values (%s, %s, %s, 'B2B#9001', 'unknown_party',
                               'party C-404 does not exist', 5)
                       returning id""",
                    (outbox_id, DEAD_TARGET, DEAD_SYSTEM),
                ).fetchone()[0]
                gate_id = conn.execute(
                    """insert into ops.gate_results
                           (target, model, data_version, gate, passed, summary, details)
                       values (%s, %s, 'test', 'gate', false, %s, %s) returning id""",
                    (
                        HELD_TARGET,
                        HELD_TARGET,
                        f"gate held publish.{HELD_TARGET}: blast_radius: 80% of 104 prices change",
                        Jsonb({"parts": {"freshness": True, "blast_radius": False}}),
                    ),
                ).fetchone()[0]
            landing = Landing(conn, STALE_SYSTEM, STALE_STREAM, ("sku", "status", "bin"))
            landing.commit_page(
                [],
                [
                    Rejected(
                        "SKU-TEST/sellable/A-01",
                        '{"sku": "SKU-TEST", "status": "sellable", "bin": "A-01", "quantity": -4}',
                        f"{STALE_SYSTEM} {STALE_STREAM}: quantity: -4 is less than the minimum 0",
                        "schema_invalid",
                    )
                ],
            )
            yield {"dead_letter": dead_id, "failed_batch": failed_batch}
        finally:
            with conn.transaction():
                conn.execute(
                    "delete from ops.quarantine where record_key = 'SKU-TEST/sellable/A-01'"
                )
                conn.execute("delete from ops.gate_results where id = %s", (gate_id,))
                conn.execute("delete from ops.dead_letter where outbox_id = %s", (outbox_id,))
                conn.execute("delete from ops.outbox where id = %s", (outbox_id,))
                conn.execute("delete from ops.ingest_batches where batch_id = %s", (failed_batch,))
                for batch_id, started_at, finished_at in saved:
                    conn.execute(
                        """update ops.ingest_batches set started_at = %s, finished_at = %s
                            where batch_id = %s""",
                        (started_at, finished_at, batch_id),
                    )
            ops_world.rebuild("marts/ops_exceptions")


def test_a_broken_world_needs_attention_and_every_problem_is_named(ops_world, broken) -> None:
    result = _invoke(ops_world)
    assert result.exit_code == 1, result.output
    out = " ".join(re.sub(r"[│┃]", " ", result.output).split())
    assert "attention needed" in out
    # the stale stream with its lag and SLA, and the failed load's error
    assert re.search(
        rf"{STALE_SYSTEM} {STALE_STREAM}: last loaded 5(\.\d)? h ago, SLA 1 h \(breached\); "
        r"1 record\(s\) quarantined; "
        "last load failed: wms_dc_east answered GET /v1/stock with 503",
        out,
    ), out
    # the dead letter (id, target, code) and the held gate
    assert f"{broken['dead_letter']} {DEAD_TARGET} {DEAD_SYSTEM} B2B#9001 unknown_party" in out, out
    assert f"{HELD_TARGET} held" in out and "blast_radius: 80% of 104 prices change" in out, out
    assert f"{DEAD_TARGET} to {DEAD_SYSTEM}: nothing delivered yet, 1 open dead letter(s)" in out
    report = json.loads(_invoke(ops_world, "--json").output)
    assert report["healthy"] is False
    assert [g["target"] for g in report["gates"] if g["passed"] is False] == [HELD_TARGET]
    assert [d["id"] for d in report["dead_letters"]] == [broken["dead_letter"]]
    east = next(s for s in report["systems"] if s["system"] == STALE_SYSTEM)
    assert east["late"] == [STALE_STREAM] and east["failed"] == [STALE_STREAM]
    assert east["quarantined"] == 1

    ops_world.rebuild("marts/ops_exceptions")
    with psycopg.connect(ops_world.hub) as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                """select exception_key, category, error_code, system, remediation, severity
                     from marts.ops_exceptions
                    where category <> 'order_hold'
                      and not (category = 'reconciliation' and error_code = any(%s))""",
                (sorted(STALLED),),
            ).fetchall()
        }
    dead = rows.pop(f"dead_letter:{broken['dead_letter']}")
    assert dead[:3] == ("dead_letter", "unknown_party", DEAD_SYSTEM)
    assert f"`distrohub dlq retry {broken['dead_letter']}`" in dead[3] and dead[4] == "error"
    gate = rows.pop(f"gate_held:{HELD_TARGET}")
    assert gate[:2] == ("gate_held", "gate_blast_radius_failed")
    assert f"`distrohub publish {HELD_TARGET} --accept-blast-radius`" in gate[3]
    stale = rows.pop(f"stale_feed:inbound:{STALE_SYSTEM}:{STALE_STREAM}")
    assert stale[:3] == ("stale_feed", "feed_stale", STALE_SYSTEM)
    assert f"raw/{STALE_SYSTEM}__{STALE_STREAM}" in stale[3] and "503" in stale[3]
    (quarantine_key, quarantined), *rest = rows.items()
    assert quarantined[:3] == ("quarantine", "schema_invalid", STALE_SYSTEM), quarantined
    assert "JSON Schema" in quarantined[3] and quarantined[4] == "warning"
    # nothing else is open in the clean world but its order holds and its stalled pipeline
    assert rest == [], rest
