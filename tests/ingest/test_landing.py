"""Landing into raw: idempotent, versioned, quarantine and cursor in one transaction."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from dagster_project.hub.migrate import apply_migrations
from dagster_project.ingest.landing import Landing, Record, Rejected


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    return scratch_db


def orders(*pairs: tuple[int, str]) -> list[Record]:
    return [
        Record((str(i),), {"id": i, "status": s, "total": Decimal("10.10")}, "/orders.json")
        for i, s in pairs
    ]


def test_loads_are_idempotent_and_versioned(hub: str) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "shop", "orders", ("id",))
        land.ensure_table()
        first = land.commit_page(orders((1, "open"), (2, "open")), cursor={"at": "t1"})
        assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
        again = land.commit_page(orders((1, "open"), (2, "open")), cursor={"at": "t1"})
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        changed = land.commit_page(orders((2, "closed"), (3, "open")), cursor={"at": "t2"})
        assert (changed.inserted, changed.updated, changed.unchanged) == (1, 1, 0)
        rows = conn.execute(
            "select id, payload->>'status', payload->>'total' from raw.shop__orders order by _seq"
        ).fetchall()
        assert rows == [
            ("1", "open", "10.10"),
            ("2", "open", "10.10"),
            ("2", "closed", "10.10"),
            ("3", "open", "10.10"),
        ]
        # exact decimals: stored as a JSON number with its scale
        assert conn.execute(
            "select jsonb_typeof(payload->'total') from raw.shop__orders limit 1"
        ).fetchone() == ("number",)
        assert land.read_cursor() == {"at": "t2"}


def test_quarantine_keeps_the_rest_of_the_batch(hub: str) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "shop", "orders", ("id",))
        land.ensure_table()
        bad = Rejected("7", '{"id": 7, "quantity": -3', "not valid JSON: unexpected end")
        counts = land.commit_page(orders((5, "open")), [bad], cursor={"at": "t"})
        assert (counts.read, counts.inserted, counts.quarantined) == (2, 1, 1)
        land.commit_page([], [bad])
        row = conn.execute(
            "select record_key, reason, occurrences from ops.quarantine where system = 'shop'"
        ).fetchone()
        assert row == ("7", "not valid JSON: unexpected end", 2)


def test_rows_quarantine_and_cursor_commit_together(hub: str, monkeypatch) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "shop", "orders", ("id",))
        land.ensure_table()
        land.commit_page(orders((1, "open")), cursor={"at": "t1"})

        def boom(_rejected):
            raise RuntimeError("disk full")

        monkeypatch.setattr(land, "_quarantine", boom)
        with pytest.raises(RuntimeError):
            land.commit_page(orders((9, "open")), [Rejected("x", "x", "x")], cursor={"at": "t9"})
        assert conn.execute("select count(*) from raw.shop__orders").fetchone() == (1,)
        assert land.read_cursor() == {"at": "t1"}


def test_composite_keys(hub: str) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "shop", "inventory_levels", ("inventory_item_id", "location_id"))
        land.ensure_table()
        recs = [
            Record(("808950810", "655441491"), {"available": 5}, "/inventory_levels.json"),
            Record(("808950810", "905684977"), {"available": 1}, "/inventory_levels.json"),
        ]
        assert land.commit_page(recs).inserted == 2
        assert land.commit_page(recs).unchanged == 2


def test_a_value_that_returns_to_an_earlier_version_is_the_latest(hub: str) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "wms", "stock", ("sku",))
        land.ensure_table()
        for qty in (5, 3, 5):
            land.commit_page([Record(("A",), {"sku": "A", "quantity": qty}, "/v1/stock")])
        latest = conn.execute(
            "select payload->>'quantity' from raw.wms__stock order by _seq desc limit 1"
        ).fetchone()[0]
        assert latest == "5"
        # and the same latest version again is a no-op
        again = land.commit_page([Record(("A",), {"sku": "A", "quantity": 5}, "/v1/stock")])
        assert (again.updated, again.unchanged) == (0, 1)


def test_volatile_fields_do_not_make_a_new_version(hub: str) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "wms", "bins", ("sku",), volatile_fields=("as_of",))
        land.ensure_table()
        land.commit_page([Record(("A",), {"sku": "A", "qty": 1, "as_of": "t1"}, "s")])
        same = land.commit_page([Record(("A",), {"sku": "A", "qty": 1, "as_of": "t2"}, "s")])
        assert same.unchanged == 1
        changed = land.commit_page([Record(("A",), {"sku": "A", "qty": 2, "as_of": "t3"}, "s")])
        assert changed.updated == 1


def test_a_complete_snapshot_tombstones_missing_keys(hub: str) -> None:
    with psycopg.connect(hub) as conn:
        land = Landing(conn, "wms", "levels", ("sku",), snapshot=True)
        land.ensure_table()
        land.begin_snapshot()
        land.commit_page([Record((s,), {"sku": s, "qty": 1}, "s") for s in ("A", "B")])
        assert land.close_snapshot("snapshot") == 0
        land.begin_snapshot()
        land.commit_page([Record(("A",), {"sku": "A", "qty": 1}, "s")])
        assert land.close_snapshot("snapshot") == 1
        rows = conn.execute(
            """select distinct on (sku) sku, payload from raw.wms__levels
                order by sku, _seq desc"""
        ).fetchall()
        assert rows == [("A", {"sku": "A", "qty": 1}), ("B", {"_deleted": True})]
        land.begin_snapshot()  # B comes back
        land.commit_page([Record((s,), {"sku": s, "qty": 1}, "s") for s in ("A", "B")])
        land.close_snapshot("snapshot")
        land.begin_snapshot()  # and goes again: the old tombstone is revived
        land.commit_page([Record(("A",), {"sku": "A", "qty": 1}, "s")])
        assert land.close_snapshot("snapshot") == 1
        latest_b = conn.execute(
            "select payload from raw.wms__levels where sku = 'B' order by _seq desc limit 1"
        ).fetchone()[0]
        assert latest_b == {"_deleted": True}
