"""`distrohub status` without a landed world: its exit codes when the hub is missing,
unreachable or not built yet, and the business error codes ingest writes to ops.quarantine
(which the ops marts report)."""

from __future__ import annotations

import socket

import psycopg
from click.testing import CliRunner

from dagster_project.cli.status import status
from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.hub import settings
from dagster_project.hub.migrate import apply_migrations
from dagster_project.ingest.landing import Landing
from dagster_project.ingest.validation import RecordValidator


def _invoke(tmp_path, url: str):
    env = {settings.ENV_DATABASE_URL: url, settings.ENV_STATE_DIR: str(tmp_path), "COLUMNS": "200"}
    return CliRunner().invoke(status, [], env=env)


def test_no_hub_configured_exits_2_and_says_how_to_start_one(tmp_path) -> None:
    result = _invoke(tmp_path, "")
    assert result.exit_code == 2, result.output
    assert "distrohub hub start" in result.output


def test_an_unreachable_hub_exits_2_naming_the_server(tmp_path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _invoke(tmp_path, f"postgresql://distrohub:secret@127.0.0.1:{port}/hub")
    assert result.exit_code == 2, result.output
    assert "not reachable" in result.output and f"127.0.0.1:{port}" in result.output
    assert "secret" not in result.output


def test_a_hub_without_the_ops_marts_needs_attention_and_says_what_to_build(
    tmp_path, scratch_db
) -> None:
    apply_migrations(scratch_db)
    result = _invoke(tmp_path, scratch_db)
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "attention needed" in out
    assert "marts.ops_sync_health does not exist yet" in out and "--select ops_sync_health" in out
    assert "not run" in out  # no gate has been evaluated


def test_quarantined_input_carries_its_business_code_and_resolves_when_fixed(scratch_db) -> None:
    apply_migrations(scratch_db)
    stream = StreamConfig(name="stock", primary_key=["sku", "status", "bin"])
    validator = RecordValidator("wms_dc_east", "wms_rest", stream, {})
    good = {"sku": "A", "bin": "A-01", "quantity": 3, "status": "sellable"}
    records, rejected = validator.split(
        Page(
            records=[
                {"sku": "A", "bin": "A-01", "quantity": -3, "status": "sellable"},
                {"bin": "A-02", "status": "sellable", "quantity": 1},
                ["not", "a", "record"],
            ],
            source="/v1/stock",
        )
    )
    assert records == []
    assert [r.code for r in rejected] == [
        "schema_invalid",
        "primary_key_missing",
        "record_not_object",
    ]
    with psycopg.connect(scratch_db) as conn:
        landing = Landing(conn, "wms_dc_east", "stock", stream.key_columns)
        landing.ensure_table()
        landing.commit_page([], rejected)
        codes = dict(conn.execute("select record_key, error_code from ops.quarantine").fetchall())
        assert codes["A/sellable/A-01"] == "schema_invalid"
        assert sorted(codes.values()) == sorted(r.code for r in rejected)
        # the source fixed the record: the valid version lands and resolves its quarantine
        fixed, none = validator.split(Page(records=[good], source="/v1/stock"))
        assert none == []
        landing.commit_page(fixed, [])
        still_open = conn.execute(
            "select record_key from ops.quarantine where resolved_at is null order by 1"
        ).fetchall()
        assert ("A/sellable/A-01",) not in still_open and len(still_open) == 2


def test_migration_0007_backfills_codes_from_the_reasons_ingest_wrote(scratch_db) -> None:
    from dagster_project.hub.migrate import MIGRATIONS_DIR

    text = next(MIGRATIONS_DIR.glob("0007_*.sql")).read_text()
    backfill = text[text.index("update ops.quarantine") : text.index("end;") + len("end")]
    reasons = {
        "wms_dc_east stock: a record must be a JSON object, got list": "record_not_object",
        "wms_dc_east stock: primary key field(s) sku missing": "primary_key_missing",
        "wms_dc_east stock: quantity: -3 is less than the minimum of 0": "schema_invalid",
        "wms_dc_east stock: sku 'X' is unknown in tryton items (no code 'X'): create it there "
        "or correct the record": "unknown_reference",
        "shopify_b2b answered /orders.json with an unreadable page (boom); the records on it "
        "were not loaded": "unreadable_page",
        "shopify_b2b webhook orders/create 7: body is not JSON (x)": "webhook_body_invalid",
        "supplier_acme: file a.edi: unreadable X12: no ISA": "x12_envelope_invalid",
        "supplier_acme: transaction set 855 1 in a.edi rejected: AK5": "x12_transaction_rejected",
        "planning: file b.txt: no stream of planning takes files named b.txt (declare one with "
        "params.pattern)": "file_unrouted",
        "planning: file c.csv: not UTF-8 text: bad byte": "file_not_utf8",
        "planning: file d.csv: empty CSV (no header row)": "csv_empty",
        "planning promotions: row 3 of e.csv has too few fields": "csv_row_malformed",
        "planning promotions: row 4 of e.csv, field qty: bad (expected a whole number)": (
            "csv_value_invalid"
        ),
        "something nobody wrote": "invalid_record",
    }
    apply_migrations(scratch_db)
    with psycopg.connect(scratch_db) as conn:
        for n, reason in enumerate(reasons):
            conn.execute(
                """insert into ops.quarantine (system, stream, record_key, payload, payload_hash,
                                               reason)
                   values ('s', 't', %s, '', '', %s)""",
                (str(n), reason),
            )
        conn.execute(backfill)
        got = dict(conn.execute("select reason, error_code from ops.quarantine").fetchall())
    assert got == reasons
