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
