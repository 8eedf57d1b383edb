"""The planning tool's drop folder (kind file_drop_csv), as declared in defs.yaml: its four
CSV exports land in raw, a bad row is quarantined with the reason and the rest loads, a
file no stream takes is quarantined whole."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dagster_project.hub.migrate import apply_migrations
from dagster_project.ingest.files import sync_folder
from dagster_project.ingest.registry import declared_systems
from sandbox.planning import planning_files
from sandbox.worldgen import generate_world

BAD_ROWS = {
    "item_policy": ["SKU-BAD-1,0,5,,2026-03-02T00:00:00Z", "SKU-BAD-2,6,2,,yesterday"],
    "kit_components": ["KIT-BAD,SKU-00001,-2"],
    "promotions": [
        "PROMO-BAD,Too generous,D2C,SKU-00001,1,150,2026-03-01T00:00:00Z,2026-03-09T00:00:00Z"
    ],
    "contract_prices": [
        "B2B-BAD,SKU-00001,1,0.00,USD,2026-03-01T00:00:00Z,",
        ",SKU-00001,1,5.00,USD,2026-03-01T00:00:00Z,",
    ],
}
REASONS = {
    "item_policy": ["case_pack: 0 is less than the minimum of 1", "updated_at: 'yesterday'"],
    "kit_components": ["quantity: -2 is less than the minimum of 1"],
    "promotions": ["discount_percent: '150' does not match"],
    "contract_prices": ["price: '0.00' does not match", "primary key field(s) customer missing"],
}


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    return scratch_db


@pytest.fixture
def drop(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "planning"
    folder.mkdir()
    monkeypatch.setenv("DISTROHUB_PLANNING_DROP_DIR", str(folder))
    return folder


def _export(name: str) -> str:
    return name.rsplit("_", 1)[0]


def test_the_planning_exports_land_and_bad_rows_are_quarantined(hub, drop) -> None:
    config, streams = declared_systems()["planning"]
    assert config.kind == "file_drop_csv"
    assert config.folder_env == "DISTROHUB_PLANNING_DROP_DIR"
    world = generate_world(seed=1, skus=50, orders_per_day=5, days=1)
    files = planning_files(world)
    good = {_export(name): data.count(b"\r\n") - 1 for name, data in files.items()}
    for name, data in files.items():
        extra = "".join(f"{row}\r\n" for row in BAD_ROWS[_export(name)])
        (drop / name).write_bytes(data + extra.encode())
    (drop / "readme.txt").write_text("not an export")

    with psycopg.connect(hub) as conn:
        result = sync_folder(conn, config, streams, progress=lambda _m: None)
        assert (result.files_loaded, result.files_quarantined) == (4, 1)
        for export, rows in good.items():
            counts = result.counts[export]
            assert counts.inserted == rows, export
        reasons = {
            (stream, reason)
            for stream, reason in conn.execute("select stream, reason from ops.quarantine")
        }
        for export, expected in REASONS.items():
            for text in expected:
                assert any(s == export and text in r for s, r in reasons), (export, text, reasons)
        assert any("readme.txt" in r and "no stream of planning" in r for _s, r in reasons)

        policy = dict(conn.execute("select sku, payload from raw.planning__item_policy").fetchall())
        item = next(it for it in world.items if it.drop_ship_supplier)
        assert policy[item.sku]["case_pack"] == item.case_pack
        assert policy[item.sku]["drop_ship_supplier"] == item.drop_ship_supplier
        kits = conn.execute("select count(*) from raw.planning__kit_components").fetchone()[0]
        assert kits == sum(len(it.kit_components) for it in world.items)
        open_ended = conn.execute(
            "select count(*) from raw.planning__contract_prices where payload->>'valid_to' = ''"
        ).fetchone()[0]
        assert open_ended == sum(1 for cp in world.contract_prices if cp.valid_to is None)
    assert sorted(p.name for p in (drop / "archive").iterdir()) == sorted(files)
    assert (drop / "quarantine" / "readme.txt.reason.txt").exists()

    # the same exports dropped again (the sandbox restarted) are recognised and only archived
    for name, data in files.items():
        (drop / name).write_bytes(
            data + "".join(f"{r}\r\n" for r in BAD_ROWS[_export(name)]).encode()
        )
    with psycopg.connect(hub) as conn:
        again = sync_folder(conn, config, streams, progress=lambda _m: None)
    assert (again.files_loaded, again.files_already_loaded) == (0, 4)


def test_a_newer_export_is_the_complete_state(hub, drop) -> None:
    config, streams = declared_systems()["planning"]
    header = "kit_sku,component_sku,quantity\r\n"
    (drop / "kit_components_20260302.csv").write_text(header + "KIT-1,SKU-1,2\r\nKIT-1,SKU-2,1\r\n")
    with psycopg.connect(hub) as conn:
        sync_folder(conn, config, streams, progress=lambda _m: None)
    (drop / "kit_components_20260303.csv").write_text(header + "KIT-1,SKU-1,3\r\n")
    with psycopg.connect(hub) as conn:
        sync_folder(conn, config, streams, progress=lambda _m: None)
        latest = dict(
            conn.execute(
                """select distinct on (component_sku) component_sku, payload
                   from raw.planning__kit_components order by component_sku, _seq desc"""
            ).fetchall()
        )
    assert latest["SKU-1"]["quantity"] == 3
    assert latest["SKU-2"] == {"_deleted": True}  # dropped from the bill of materials
