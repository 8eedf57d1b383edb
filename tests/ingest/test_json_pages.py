"""A JSON list page read once lands exactly what parsing every record did.

The connectors hand the ingest a page's text cut into records (``connectors/json_pages.py``);
the validator checks what it reads of each record (``ingest/projection.py``, exact decimals)
and PostgreSQL gets each record's text as received. The same pages landed the old way
(``simplejson`` with ``use_decimal``, each record written again for ``jsonb``) and the new
way give the same raw rows (``payload`` and ``_payload_hash``, byte for byte as text), the same
quarantine rows (key, reason, code, occurrences; the text now exactly as received) and the
same cursor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import simplejson
from psycopg import sql

from dagster_project.connectors.base import BadInput, Page, Reference, StreamConfig
from dagster_project.connectors.json_pages import JsonRecords, read_list_page
from dagster_project.connectors.rest import RestJsonConnector
from dagster_project.hub.migrate import apply_migrations
from dagster_project.ingest.landing import Landing, Record
from dagster_project.ingest.projection import Projection
from dagster_project.ingest.sync import sync_stream
from dagster_project.ingest.validation import SCHEMAS_DIR, RecordValidator, _validator
from tests.ingest.test_fast_paths import _mutations, _order

KNOWN_SKUS = ["SKU-00001", "SKU-00002", "KIT-00072"]

# Orders as a store might write them: numbers whose text matters (12.10, 1.0E+2, -0.0, 64-bit
# and larger ids), escapes and non-ASCII text, a repeated key (the last one counts), odd
# whitespace, and shapes the schema rejects or the projection does not fit.
ORDER_TEXTS = [
    """{"id":1602000000000000001,"updated_at":"2026-03-01T10:00:00-05:00",
       "created_at":"2026-03-01T09:00:00-05:00","currency":"USD","total_price":"12.10",
       "total_weight":12.10,"tiny":1e-7,"scaled":1.0E+2,"neg_zero":-0.0,"zero":-0,
       "huge":123456789012345678901234567890,"rate":0.07,"pi":3.14159265358979323846264338,
       "note":"Zo\\u00eb \\"quoted\\" back\\\\slash \\/ tab\\t nl\\n ctl\\u0001 \\ud83d\\ude00 ✓",
       "tax_lines":[{"rate":0.07,"price":"0.82"}],"empty":{},"list":[[1,2.50,null,true],[]],
       "line_items":[{"id":1,"quantity":2,"price":"5.00","sku":"SKU-00001","variant_id":7},
                     {"id":2,"quantity":1,"price":"2.50","sku":null,"variant_id":null}]}""",
    # a repeated key: simplejson, msgspec and jsonb all keep the last value
    """{"id":1602000000000000002,"currency":"EUR","currency":"USD",
       "updated_at":"2026-03-01T11:00:00-05:00","created_at":"2026-03-01T09:00:00-05:00",
       "total_price":"1.00","line_items":[{"id":3,"quantity":1,"price":"1.00",
       "sku":"SKU-00002","sku":"KIT-00072"}]}""",
    # an integral number written with a fraction is not an integer to the exact reading
    """{"id":1602000000000000003,"updated_at":"2026-03-01T12:00:00-05:00",
       "created_at":"2026-03-01T09:00:00-05:00","currency":"USD","total_price":"3.00",
       "line_items":[{"id":4,"quantity":3.0,"price":"1.00","sku":"SKU-00001"}]}""",
    # an unknown SKU (reference check), a line-item list that is not a list, not a record
    """{"id":1602000000000000004,"updated_at":"2026-03-01T13:00:00-05:00",
       "created_at":"2026-03-01T09:00:00-05:00","currency":"USD","total_price":"3.00",
       "line_items":[{"id":5,"quantity":1,"price":"3.00","sku":"NOT-A-SKU"}]}""",
    """{"id":1602000000000000005,"updated_at":"2026-03-01T14:00:00-05:00",
       "created_at":"2026-03-01T09:00:00-05:00","currency":"USD","total_price":"3.00",
       "line_items":"none"}""",
    """[1, 2]""",
    """{"updated_at":"2026-03-01T15:00:00-05:00","total_price":"1"}""",
    # the same order again, changed: a second version of the key
    """{"id":1602000000000000001,"updated_at":"2026-03-02T10:00:00-05:00",
       "created_at":"2026-03-01T09:00:00-05:00","currency":"USD","total_price":"12.10",
       "line_items":[]}""",
]


def _mutation_texts() -> list[str]:
    """test_fast_paths' mutations of an order (every field replaced by odd values or gone)."""
    out = []
    for i, record in enumerate(_mutations(_order())):
        if isinstance(record.get("id"), int) and not isinstance(record["id"], bool):
            record["id"] = 9_000 + i
        out.append(simplejson.dumps(record, use_decimal=True, default=list))
    return out


def _page(texts: list[str], key: str = "orders") -> str:
    items = ",\n\t ".join(texts)
    return f'{{"{key}" :\n [ {items} ],\t"other": {{"x": 1.50}}}}'


def _pages(texts: list[str], per_page: int) -> list[str]:
    return [_page(texts[i : i + per_page]) for i in range(0, len(texts), per_page)]


def _old_reader(pages: list[str], key: str = "orders"):
    """What the connectors gave before: every record parsed with exact decimals."""

    def reader(stream: StreamConfig, cursor: Any) -> Iterator[Page]:
        for n, text in enumerate(pages):
            yield Page(simplejson.loads(text, use_decimal=True)[key], f"/page/{n}")

    return reader


def _new_reader(pages: list[str], key: str = "orders"):
    def reader(stream: StreamConfig, cursor: Any) -> Iterator[Page]:
        for n, text in enumerate(pages):
            listed = read_list_page(text, key)
            assert listed is not None, text[:200]
            assert isinstance(listed[0], JsonRecords)
            yield Page(listed[0], f"/page/{n}")

    return reader


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    with psycopg.connect(scratch_db) as conn:
        land = Landing(conn, "tryton", "items", ("id",))
        land.ensure_table()
        land.commit_page(
            [Record((str(i),), {"id": i, "code": c}, "test") for i, c in enumerate(KNOWN_SKUS)]
        )
    return scratch_db


def _raw(conn: psycopg.Connection, system: str, stream: str, keys: list[str]) -> list[tuple]:
    cols = sql.SQL(", ").join(sql.Identifier(k) for k in keys)
    return conn.execute(
        sql.SQL(
            "select {cols}, payload::text, _payload_hash, _source from {t} order by _seq"
        ).format(cols=cols, t=sql.Identifier("raw", f"{system}__{stream}"))
    ).fetchall()


def _quarantine(conn: psycopg.Connection, system: str) -> list[tuple]:
    """Quarantine rows: key, reason (without its leading system name), code, occurrences;
    then the text and whether its hash is the text's."""
    return conn.execute(
        """select record_key, substr(reason, length(system) + 2), error_code, occurrences,
                  payload, payload_hash = encode(sha256(convert_to(payload, 'UTF8')), 'hex')
             from ops.quarantine where system = %s
            order by record_key, reason, payload""",
        (system,),
    ).fetchall()


def _same_quarantine(new: list[tuple], old: list[tuple], texts: list[str]) -> None:
    """The same rows, each with the text it arrived as (before: as simplejson wrote it)."""
    assert sorted(q[:4] for q in new) == sorted(q[:4] for q in old)
    received = set(texts)
    for row in new:
        assert row[5], row  # payload_hash is the text's
        assert row[4] in received or row[0].startswith("page:"), row[4][:200]


def _land_both(hub: str, kind: str, stream: StreamConfig, pages: list[str], key: str) -> tuple:
    out = []
    with psycopg.connect(hub) as conn:
        for system, reader in (("old", _old_reader(pages, key)), ("new", _new_reader(pages, key))):
            result = sync_stream(conn, system, kind, stream, reader, progress=lambda _: None)
            # twice: the second load finds every row unchanged and counts quarantine again
            again = sync_stream(conn, system, kind, stream, reader, progress=lambda _: None)
            quarantine = _quarantine(conn, system)
            out.append(
                (
                    _raw(conn, system, stream.name, list(stream.key_columns)),
                    quarantine,
                    result.counts.as_dict(),
                    again.counts.as_dict(),
                    result.cursor_after,
                )
            )
    return out[0], out[1]


ORDERS = StreamConfig(
    name="orders",
    primary_key=["id"],
    cursor_field="updated_at",
    ordered_by_cursor=True,
    drift_tolerance=1.0,
    references=[Reference(field="line_items[].sku", system="tryton", stream="items", value="code")],
)


def test_orders_land_byte_for_byte_as_when_every_record_was_parsed(hub: str) -> None:
    pages = _pages(ORDER_TEXTS, 3) + _pages(_mutation_texts(), 40)
    old, new = _land_both(hub, "shopify", ORDERS, pages, "orders")
    raw_old, quarantine_old, counts_old, again_old, cursor_old = old
    raw_new, quarantine_new, counts_new, again_new, cursor_new = new
    assert raw_new == raw_old
    _same_quarantine(quarantine_new, quarantine_old, ORDER_TEXTS + _mutation_texts())
    assert (counts_new, again_new, cursor_new) == (counts_old, again_old, cursor_old)
    assert counts_new["inserted"] > 10 and counts_new["quarantined"] > 10
    assert again_new["inserted"] == 0
    stored = {row[0]: row[1] for row in reversed(raw_new)}  # each key's first version
    first = json.loads(stored["1602000000000000001"])
    assert '"total_weight": 12.10' in stored["1602000000000000001"]  # the scale sent
    assert first["huge"] == 123456789012345678901234567890
    assert first["note"] == 'Zoë "quoted" back\\slash / tab\t nl\n ctl\x01 😀 ✓'
    assert stored["1602000000000000002"].count('"USD"') == 1
    codes = {q[2] for q in quarantine_new}
    assert {"schema_invalid", "unknown_reference", "record_not_object"} <= codes
    # quantity 3.0 is not an integer when read exactly, as before
    assert any(q[0] == "1602000000000000003" and "3.0" in q[1] for q in quarantine_new)


STOCK = StreamConfig(
    name="stock",
    primary_key=["sku", "bin", "status"],
    volatile_fields=["as_of"],
    snapshot=True,
    drift_tolerance=1.0,
    references=[Reference(field="sku", system="tryton", stream="items", value="code")],
)


def _stock(as_of: str, quantities: dict[str, Any]) -> list[str]:
    return [
        json.dumps({"sku": s, "bin": "A-01", "status": "sellable", "quantity": q, "as_of": as_of})
        for s, q in quantities.items()
    ]


def test_a_snapshot_stream_with_volatile_fields_lands_the_same(hub: str) -> None:
    """WMS stock: a volatile stamp, tombstones for bins gone, a negative quantity."""
    first = _stock("2026-03-01T10:00:00Z", {"SKU-00001": 5, "SKU-00002": -1, "KIT-00072": 2})
    second = _stock("2026-03-01T11:00:00Z", {"SKU-00001": 5, "KIT-00072": 2.0})
    out = []
    with psycopg.connect(hub) as conn:
        for system, make in (("old", _old_reader), ("new", _new_reader)):
            for texts in (first, second):
                reader = make([_page(texts, "data")], "data")
                sync_stream(conn, system, "wms_rest", STOCK, reader, progress=lambda _: None)
            out.append(
                (
                    _raw(conn, system, "stock", ["sku", "bin", "status"]),
                    _quarantine(conn, system),
                )
            )
    (raw_old, q_old), (raw_new, q_new) = out
    assert [r[:4] for r in raw_new] == [r[:4] for r in raw_old]
    assert [r[4] for r in raw_new] == [r[4] for r in raw_old]
    _same_quarantine(q_new, q_old, first + second)
    assert any('"_deleted": true' in r[3] for r in raw_new)  # SKU-00002's bin, gone
    assert len(q_new) == 2  # -1, and 2.0 (not an integer read exactly)


# ------------------------------------------------------------------ schemas and floats
def _split_both(
    stream: StreamConfig, kind: str, texts: list[str], known: dict[str, set[str]] | None = None
) -> tuple[list, list]:
    text = _page(texts)
    old = RecordValidator("shop", kind, stream, known).split(
        Page(simplejson.loads(text, use_decimal=True)["orders"], "/p")
    )
    listed = read_list_page(text, "orders")
    assert listed is not None
    new = RecordValidator("shop", kind, stream, known).split(Page(listed[0], "/p"))
    return [
        ([(r.key, json.loads(r.text or "null")) for r in old[0]], old[1]),
        ([(r.key, json.loads(r.text or "null")) for r in new[0]], new[1]),
    ]


def test_keywords_that_floats_would_change_are_read_exactly(tmp_path: Path) -> None:
    """multipleOf 0.01 passes 0.07 and maximum 0.3 passes 0.3 only with exact decimals (as
    floats, 0.07 / 0.01 is 7.000000000000001); integer refuses 3.0. Both ways agree."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "rate": {"type": "number", "multipleOf": 0.01, "maximum": 0.3},
            "quantity": {"type": "integer", "minimum": 0},
        },
    }
    path = tmp_path / "rates.json"
    path.write_text(json.dumps(schema))
    stream = StreamConfig(name="orders", primary_key=["id"], json_schema=str(path))
    texts = [
        '{"id": 1, "rate": 0.07, "quantity": 1}',
        '{"id": 2, "rate": 0.30, "quantity": 2}',
        '{"id": 3, "rate": 0.075, "quantity": 1}',
        '{"id": 4, "rate": 0.31, "quantity": 1}',
        '{"id": 5, "rate": 0.1, "quantity": 3.0}',
        '{"id": 6, "rate": 0.3000000000000000001, "quantity": 1}',
    ]
    old, new = _split_both(stream, "shopify", texts)
    assert [k for k, _ in new[0]] == [k for k, _ in old[0]] == [("1",), ("2",)]
    assert [(r.record_key, r.reason, r.code) for r in new[1]] == [
        (r.record_key, r.reason, r.code) for r in old[1]
    ]
    assert [r.record_key for r in new[1]] == ["3", "4", "5", "6"]


def test_a_schema_the_projection_does_not_follow_reads_records_whole(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["id"],
        "additionalProperties": {"type": ["string", "integer"]},
    }
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(schema))
    stream = StreamConfig(name="orders", primary_key=["id"], json_schema=str(path))
    assert RecordValidator("shop", "shopify", stream).projection is None
    texts = ['{"id": 1, "a": "x"}', '{"id": 2, "a": 1.5}', '{"id": 3, "a": [1]}']
    old, new = _split_both(stream, "shopify", texts)
    assert new[0] == old[0] and [k for k, _ in new[0]] == [("1",)]
    assert [(r.record_key, r.reason) for r in new[1]] == [(r.record_key, r.reason) for r in old[1]]


def test_the_orders_projection_reads_only_what_the_checks_read() -> None:
    schema = _validator(SCHEMAS_DIR / "shopify" / "orders.json").schema
    projection = Projection.build(schema, ["id", "line_items[].sku"], ["updated_at"])
    assert projection is not None
    fields = projection.root.fields or {}
    assert set(fields) == {"id", "updated_at", "created_at", "currency", "total_price"} | {
        "line_items"
    }
    items = fields["line_items"].items
    assert items is not None and set(items.fields or {}) == {
        "id",
        "quantity",
        "price",
        "sku",
        "variant_id",
    }
    text = _page([ORDER_TEXTS[0]])
    listed = read_list_page(text, "orders")
    assert listed is not None
    (view,) = projection.read(listed[0])
    assert view is not None and "tax_lines" not in view and "note" not in view
    assert view["line_items"][0] == {
        "id": 1,
        "quantity": 2,
        "price": "5.00",
        "sku": "SKU-00001",
        "variant_id": 7,
    }


@pytest.mark.parametrize("path", sorted(SCHEMAS_DIR.rglob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_schema_gets_a_projection(path: Path) -> None:
    schema = _validator(path).schema
    assert Projection.build(schema, ["id"], []) is not None, path


# ------------------------------------------------------------------ unreadable pages
@pytest.mark.parametrize(
    "text",
    [
        '{"orders": [{"id": 1, "rate": NaN}]}',  # simplejson reads NaN, msgspec does not
        '\ufeff{"orders": [{"id": 1}]}',  # a byte-order mark
        '{"orders": [{"id": 1, "name": "\\ud800"}]}',  # a lone surrogate
        '{"orders": {"id": 1}}',
        '{"other": []}',
        "[1, 2]",
        "<html>Bad gateway</html>",
        '{"orders": [1 2]}',
    ],
)
def test_a_page_msgspec_does_not_read_is_read_as_before(text: str) -> None:
    assert read_list_page(text, "orders") is None
    connector = RestJsonConnector("wms", "http://127.0.0.1:9/", "token")
    response = httpx.Response(
        200, text=text, request=httpx.Request("GET", "http://127.0.0.1:9/v1/stock?limit=2")
    )
    parsed = connector._parse(response, "orders", ("next_cursor",))
    try:
        body = simplejson.loads(text, use_decimal=True)
        expected = body["orders"] if isinstance(body.get("orders"), list) else None
    except (ValueError, AttributeError):
        expected = None
    if expected is None:
        assert isinstance(parsed, BadInput) and "unreadable page" in parsed.reason
    else:
        assert not isinstance(parsed, BadInput)
        assert list(parsed[0]) == expected
    connector.close()


def test_a_list_page_gives_the_exact_records_to_whoever_iterates_it() -> None:
    text = _page(ORDER_TEXTS[:3])
    listed = read_list_page(text, "orders", ("other",))
    assert listed is not None
    records, extras = listed
    assert len(records) == 3
    assert extras == {"other": {"x": Decimal("1.50")}}
    assert list(records) == simplejson.loads(text, use_decimal=True)["orders"]
    assert records.exact_item(2) == records[2]
    assert json.loads(records.item_text(1)) == json.loads(ORDER_TEXTS[1])


# ------------------------------------------------------------------ the staging table
def test_pages_staged_in_one_session_land_only_their_own_rows(hub: str) -> None:
    """The staging table lives as long as the session: emptied at each commit, and before a
    page committed inside a caller's transaction; one per set of key columns."""

    def rows(n: int, start: int) -> list[Record]:
        return [Record((str(i),), {"id": i}, "t") for i in range(start, start + n)]

    with psycopg.connect(hub) as conn:
        orders = Landing(conn, "shop", "orders", ("id",))
        lines = Landing(conn, "shop", "lines", ("order_id", "line"))
        orders.ensure_table()
        lines.ensure_table()
        assert orders.commit_page(rows(3, 0)).inserted == 3
        assert orders.commit_page(rows(2, 10)).inserted == 2
        pair = [Record(("1", "1"), {"order_id": 1, "line": 1}, "t")]
        assert lines.commit_page(pair).inserted == 1
        with conn.transaction():  # two pages in the caller's transaction
            assert orders.commit_page(rows(2, 20)).as_dict()["read"] == 2
            second = orders.commit_page(rows(3, 30))
            staged = sql.SQL("select count(*) from {}").format(orders._staging)
            assert conn.execute(staged).fetchone() == (3,)  # the second page's rows only
        assert (second.inserted, second.unchanged) == (3, 0)
        assert orders.commit_page(rows(2, 0)).unchanged == 2
        count = conn.execute("select count(*) from raw.shop__orders").fetchone()[0]
        assert count == 10
