"""Drop folders: X12 routed by transaction set, 997s written back, bad files quarantined."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from dagster_project.connectors.base import StreamConfig
from dagster_project.connectors.x12 import read_interchanges
from dagster_project.hub.migrate import apply_migrations
from dagster_project.ingest.files import sync_folder
from dagster_project.ingest.readers import SystemConfig
from tests.realdata import realdata

REAL_FILES = {
    "846": "oopfactory/846_Example1.txt",
    "855": "node_x12/855.edi",
    "856": "oopfactory/856_jewelry_VICS.txt",
    "810": "staedi/simple810.edi",
}

STREAMS = [
    StreamConfig(
        name="availability",
        params={"transaction_set": "846"},
        primary_key=["record_key"],
        drop_folder=True,
    ),
    StreamConfig(
        name="po_acks",
        params={"transaction_set": "855"},
        primary_key=["record_key"],
        drop_folder=True,
    ),
    StreamConfig(
        name="ship_notices",
        params={"transaction_set": "856"},
        primary_key=["record_key"],
        drop_folder=True,
    ),
    StreamConfig(
        name="invoices",
        params={"transaction_set": "810"},
        primary_key=["record_key"],
        drop_folder=True,
    ),
]


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    return scratch_db


@pytest.fixture
def folders(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    drop, outbox = tmp_path / "drop", tmp_path / "outbox"
    drop.mkdir()
    monkeypatch.setenv("TEST_SUPPLIER_DROP", str(drop))
    monkeypatch.setenv("TEST_SUPPLIER_OUTBOX", str(outbox))
    return drop, outbox


CONFIG = SystemConfig(
    system="supplier_test",
    kind="x12_supplier",
    folder_env="TEST_SUPPLIER_DROP",
    settings={"outbox_env": "TEST_SUPPLIER_OUTBOX"},
)


def test_real_files_land_by_transaction_set_and_are_acknowledged(hub, folders) -> None:
    x12 = realdata("x12")  # the real public X12 files (tests/realdata.py)
    drop, outbox = folders
    for code, rel in REAL_FILES.items():
        shutil.copy(x12 / rel, drop / f"{code}_{Path(rel).name}")
    (drop / "broken.edi").write_text((x12 / REAL_FILES["810"]).read_text()[:300])
    with psycopg.connect(hub) as conn:
        result = sync_folder(conn, CONFIG, STREAMS, progress=lambda _m: None)
        assert (result.files_loaded, result.files_quarantined) == (4, 1)
        counts = {name: c.inserted for name, c in result.counts.items()}
        assert counts == {"availability": 1, "po_acks": 1, "ship_notices": 1, "invoices": 2}
        invoice_numbers = sorted(
            r[0]
            for r in conn.execute(
                "select payload->'key'->>'business_number' from raw.supplier_test__invoices"
            )
        )
        assert len(invoice_numbers) == 2 and all(invoice_numbers)
        reason = conn.execute("select reason from ops.quarantine").fetchone()[0]
        assert "broken.edi" in reason and "unreadable X12" in reason
        statuses = dict(conn.execute("select file_name, status from ops.inbound_files").fetchall())
        assert statuses["broken.edi"] == "quarantined"
    assert sorted(p.name for p in (drop / "archive").iterdir()) == sorted(
        f"{c}_{Path(r).name}" for c, r in REAL_FILES.items()
    )
    assert (drop / "quarantine" / "broken.edi.reason.txt").exists()
    acks = sorted(outbox.iterdir())
    assert len(acks) == 4
    for ack in acks:  # each 997 reads back as an interchange of 997s
        interchange = read_interchanges(ack.read_bytes(), source=ack.name)[0]
        assert {t.code for g in interchange.groups for t in g.transactions} == {"997"}

    # the same files dropped again are recognised by content and only archived
    for code, rel in REAL_FILES.items():
        shutil.copy(x12 / rel, drop / f"again_{code}_{Path(rel).name}")
    with psycopg.connect(hub) as conn:
        again = sync_folder(conn, CONFIG, STREAMS, progress=lambda _m: None)
    assert (again.files_loaded, again.files_already_loaded) == (0, 4)


def test_csv_rows_are_typed_and_bad_rows_quarantined(hub, folders) -> None:
    drop, _ = folders
    stream = StreamConfig(
        name="stock",
        primary_key=["warehouse", "sku", "status"],
        snapshot=True,
        params={"pattern": "stock_*.csv", "integers": "on_hand,committed,available"},
        volatile_fields=["file"],
        drop_folder=True,
    )
    config = SystemConfig(system="tpl_test", kind="file_drop_3pl", folder_env="TEST_SUPPLIER_DROP")
    header = "warehouse,sku,status,on_hand,committed,available\r\n"
    (drop / "stock_1.csv").write_text(
        header
        + "W,SKU-1,AVAILABLE,5,1,4\r\nW,SKU-2,AVAILABLE,-4,0,-4\r\nW,SKU-3,AVAILABLE,x,0,1\r\n"
        'W,"broken\r\n'
    )
    with psycopg.connect(hub) as conn:
        result = sync_folder(conn, config, [stream], progress=lambda _m: None)
        counts = result.counts["stock"]
        assert (counts.inserted, counts.quarantined) == (1, 3)
        reasons = sorted(r[0] for r in conn.execute("select reason from ops.quarantine"))
        assert any("on_hand: -4 is less than the minimum of 0" in r for r in reasons)
        assert any("invalid literal for int()" in r for r in reasons)
        row = conn.execute("select payload from raw.tpl_test__stock").fetchone()[0]
        assert row["on_hand"] == 5
    (drop / "stock_2.csv").write_text(header + "W,SKU-9,AVAILABLE,2,0,2\r\n")
    with psycopg.connect(hub) as conn:
        sync_folder(conn, config, [stream], progress=lambda _m: None)
        latest = dict(
            conn.execute(
                """select distinct on (sku) sku, payload from raw.tpl_test__stock
                order by sku, _seq desc"""
            ).fetchall()
        )
    assert latest["SKU-1"] == {"_deleted": True}  # not in the newer complete snapshot
    assert latest["SKU-9"]["on_hand"] == 2


def test_the_drop_folder_sensor_runs_once_per_new_set_of_files(folders) -> None:
    import dagster as dg

    from dagster_project.components.system import SystemComponent

    drop, _ = folders
    component = SystemComponent(
        system="supplier_test",
        kind="x12_supplier",
        folder_env="TEST_SUPPLIER_DROP",
        streams=STREAMS,
    )
    sensor = next(iter(component.build_defs(None).sensors))
    with dg.build_sensor_context() as context:
        assert isinstance(sensor(context), dg.SkipReason)  # nothing waiting
    (drop / "a.edi").write_text("ISA*...")
    with dg.build_sensor_context() as context:
        request = sensor(context)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key.startswith("supplier_test:files:")
        cursor = context.cursor
    with dg.build_sensor_context(cursor=cursor) as context:
        assert isinstance(sensor(context), dg.SkipReason)  # the same files: no second run
    (drop / "b.edi").write_text("ISA*...")
    with dg.build_sensor_context(cursor=cursor) as context:
        assert isinstance(sensor(context), dg.RunRequest)
