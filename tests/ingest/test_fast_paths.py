"""The ingest path's speed-ups change nothing a user sees.

* ``read_ahead``: pages in order, at most one read ahead, a reader's error raised where its
  page would have been taken (after every page before it), the reader stopped when the sync
  stops early;
* the compiled schema check: a record it passes, jsonschema passes too, so which records
  load and every quarantine reason stay jsonschema's;
* ``jsonb_text``: PostgreSQL reads the same jsonb (and the same change hash) as from
  ``dumps``.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.ingest.landing import dumps, jsonb_text
from dagster_project.ingest.sync import read_ahead
from dagster_project.ingest.validation import (
    SCHEMAS_DIR,
    RecordValidator,
    _fast_check,
    _validator,
)
from tests.waiting import wait_until


# ------------------------------------------------------------------ read_ahead
class Source:
    """Pages 0..n-1, counting how many were read; optionally failing at one."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.read = n, fail_at, 0
        self.closed = False

    def __iter__(self):
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise RuntimeError(f"page {i} is unreadable")
                self.read += 1
                yield i
        finally:
            self.closed = True


def test_read_ahead_keeps_the_order_and_reads_one_page_ahead() -> None:
    source = Source(6)
    taken = []
    for page in read_ahead(iter(source)):
        # while this page is "committed", the reader fetches the next one, and no more
        wait_until(
            f"the reader to fetch the page after page {page}",
            lambda page=page: source.read >= min(page + 2, source.n),
        )
        assert source.read <= page + 2  # this page and at most one more
        taken.append(page)
    assert taken == list(range(6))


def test_a_readers_error_comes_after_the_pages_before_it() -> None:
    source = Source(5, fail_at=3)
    taken = []
    with pytest.raises(RuntimeError, match="page 3 is unreadable"):
        for page in read_ahead(iter(source)):
            taken.append(page)
    assert taken == [0, 1, 2]


def test_stopping_early_stops_the_reader() -> None:
    gen = Source(1000)
    it = iter(gen)
    ahead = read_ahead(it)
    assert next(ahead) == 0
    ahead.close()
    assert gen.closed
    assert gen.read <= 2
    assert not [t for t in threading.enumerate() if t.name.startswith("read-ahead")]


# ------------------------------------------------------------------ schema check
def _order() -> dict[str, Any]:
    return {
        "id": 5001,
        "updated_at": "2026-03-01T10:00:00-05:00",
        "created_at": "2026-03-01T09:00:00-05:00",
        "currency": "USD",
        "total_price": "12.50",
        "tax_lines": [{"rate": Decimal("0.07"), "price": "0.82"}],
        "line_items": [
            {"id": 1, "quantity": 2, "price": "5.00", "sku": "SKU-00001", "variant_id": 7},
            {"id": 2, "quantity": 1, "price": "2.50", "sku": None, "variant_id": None},
        ],
    }


ODD_VALUES: list[Any] = [
    None,
    "",
    "x",
    "USDX",
    "US",
    "12.50\n",
    "-1",
    "2026-03-01",
    "2026-03-01T10:00:00Z",
    -1,
    0,
    1,
    2**70,
    1.0,
    1.5,
    Decimal("3"),
    Decimal("1.5"),
    True,
    False,
    [],
    {},
    [{}],
    (1, 2),
]


def _mutations(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record with each field (and each line item's field) replaced or removed."""
    out = []
    for key in list(record):
        for value in ODD_VALUES:
            changed = copy.deepcopy(record)
            changed[key] = value
            out.append(changed)
        gone = copy.deepcopy(record)
        del gone[key]
        out.append(gone)
    for key in record["line_items"][0]:
        for value in ODD_VALUES:
            changed = copy.deepcopy(record)
            changed["line_items"][0][key] = value
            out.append(changed)
        gone = copy.deepcopy(record)
        del gone["line_items"][0][key]
        out.append(gone)
    return out


def test_the_compiled_check_never_passes_what_jsonschema_rejects() -> None:
    path = SCHEMAS_DIR / "shopify" / "orders.json"
    fast = _fast_check(path)
    assert fast is not None, "the orders schema should get the compiled check"
    slow = _validator(path)
    candidates = [_order(), *_mutations(_order())]
    passed = 0
    for record in candidates:
        if fast(record):
            passed += 1
            assert not list(slow.iter_errors(record)), record
    assert passed > 10  # the check is used, not trivially false


@pytest.mark.parametrize("path", sorted(SCHEMAS_DIR.rglob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_schema_is_checked_the_same_way(path: Path) -> None:
    fast = _fast_check(path)
    if fast is None:
        return  # jsonschema alone
    slow = _validator(path)
    for value in [*ODD_VALUES, {"id": 1}, {"sku": "A", "quantity": 1}]:
        if fast(value):
            assert not list(slow.iter_errors(value)), value


def test_split_gives_the_same_records_and_reasons_with_and_without_the_check() -> None:
    stream = StreamConfig(name="orders", primary_key=["id"])
    records = [_order(), *_mutations(_order())]
    for i, record in enumerate(records):
        if isinstance(record, dict) and "id" in record:
            record["id"] = 10_000 + i
    page = Page(records, "/admin/api/2025-07/orders.json")
    with_check = RecordValidator("shop", "shopify", stream)
    without = RecordValidator("shop", "shopify", stream)
    without.fast_check = None
    a_ok, a_bad = with_check.split(page)
    b_ok, b_bad = without.split(page)
    assert [r.key for r in a_ok] == [r.key for r in b_ok]
    assert [(r.record_key, r.reason, r.code) for r in a_bad] == [
        (r.record_key, r.reason, r.code) for r in b_bad
    ]
    assert a_bad, "some mutations must be quarantined"


def test_a_validation_reason_still_names_the_field() -> None:
    stream = StreamConfig(name="orders", primary_key=["id"])
    bad = _order()
    bad["line_items"][1]["quantity"] = -3
    _, rejected = RecordValidator("shop", "shopify", stream).split(Page([bad], "/orders.json"))
    assert rejected[0].reason.startswith("shop orders: line_items/1/quantity: -3 is less than")


# ------------------------------------------------------------------ jsonb_text
@pytest.fixture
def conn(scratch_db: str):
    with psycopg.connect(scratch_db) as c:
        yield c


def test_jsonb_text_gives_postgresql_the_same_jsonb_as_dumps(conn) -> None:
    payloads = [
        _order(),
        {"total": Decimal("10.10"), "tiny": Decimal("1E-7"), "big": Decimal("1E+5")},
        {"id": 2**70, "neg": -(2**64)},
        {"at": datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "d": datetime(2026, 3, 2).date()},
        {"name": "Zoë – Crème brûlée ✓", "quote": 'a "b" \\ c\nd\te', "ctrl": "\x01"},
        {"nested": [[1, 2.5, None, True], {"k": []}], "float": 0.1, "exp": 1e16},
        {1: "int key", "b": b"bytes"},
    ]
    for payload in payloads:
        same, same_hash = conn.execute(
            "select %s::jsonb = %s::jsonb, md5(%s::jsonb::text) = md5(%s::jsonb::text)",
            (dumps(payload), jsonb_text(payload), dumps(payload), jsonb_text(payload)),
        ).fetchone()
        assert same and same_hash, payload
