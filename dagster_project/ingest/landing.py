"""Landing records into ``raw``: bulk, idempotent, with quarantine and cursor in one transaction.

Each system instance and stream has one table ``raw.<system>__<stream>``::

    <key columns> text      the record's natural key, as text (64-bit ids stay exact)
    payload       jsonb     the record as received
    _payload_hash text      md5 of the payload's canonical jsonb text
    _loaded_at    timestamptz
    _batch_id     uuid      the load that brought this version
    _source       text      where it came from (URL path, file name, webhook event)
    _seq          bigint    arrival order (the latest version of a key has the highest)

A key may have several versions (one row per distinct payload): raw is the
record of what each system said. Loading the latest version again is a no-op
(``ON CONFLICT (keys, _payload_hash)``), so every load is safe to repeat; a
payload that returns to an earlier version (5 → 3 → 5) revives that row as the
latest (a new ``_seq``), so "the latest version of a key" is always right.
Rows go in by COPY into a temporary table and one merge statement.

:meth:`Landing.commit_page` writes a page's rows, its quarantined input and the
stream's new cursor in ONE transaction: a crash leaves either all of it or none.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import simplejson
from psycopg import pq, sql
from psycopg.types.json import Jsonb

MAX_IDENTIFIER = 63


def dumps(value: Any) -> str:
    """JSON text with exact decimals (``Decimal`` written as a number) and ISO dates."""
    return simplejson.dumps(value, use_decimal=True, default=_default, separators=(",", ":"))


_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def jsonb_text(value: Any) -> str:
    """A payload as JSON text for a ``jsonb`` column: what :func:`dumps` writes, as jsonb
    reads it (same values, exact decimals), about ten times faster (orjson; a ``Decimal``
    goes in as its own digits). Text kept as text (quarantine) still comes from ``dumps``,
    since escaping differs (orjson writes UTF-8 where simplejson writes \\u escapes)."""
    try:
        return orjson.dumps(value, default=_orjson_default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the exact, slower way
        return dumps(value)


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    return _default(value)


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot store a {type(value).__name__} in a JSON payload")


def raw_table_name(system: str, stream: str) -> str:
    name = f"{system}__{stream}"
    if len(name) > MAX_IDENTIFIER:
        raise ValueError(
            f"raw table name {name!r} is longer than PostgreSQL's {MAX_IDENTIFIER} characters: "
            "shorten the system or stream name in its defs.yaml"
        )
    return name


@dataclass(frozen=True)
class Record:
    """One valid record: its key values (in key-field order) and its payload.

    ``text`` is the payload's JSON text when the validator has it at hand: for a record of a
    JSON list page, its own text as received (``payload`` then holds only what the checks
    read, ingest/projection.py); otherwise written ahead by :func:`jsonb_text`."""

    key: tuple[str, ...]
    payload: Any
    source: str
    text: str | None = None


#: the code of a rejection whose site names none (also ops.quarantine's column default)
INVALID_RECORD = "invalid_record"


@dataclass(frozen=True)
class Rejected:
    """Input that must not load, with the reason a person can act on and its business error
    code (snake_case, e.g. ``schema_invalid``, ``unknown_reference``): what an operator sorts
    quarantined input by and what ``marts.ops_exceptions`` turns into a remediation hint."""

    record_key: str
    payload_text: str
    reason: str
    code: str = INVALID_RECORD


@dataclass
class LoadCounts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0

    def add(self, other: LoadCounts) -> None:
        for name in ("read", "inserted", "updated", "unchanged", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }


@dataclass
class Landing:
    """Writes one stream's pages into its raw table (see the module docstring)."""

    conn: psycopg.Connection
    system: str
    stream: str
    key_fields: tuple[str, ...]
    batch_id: uuid.UUID = field(default_factory=uuid.uuid4)
    volatile_fields: tuple[str, ...] = ()
    snapshot: bool = False
    _has_lz4: bool | None = field(default=None, init=False, repr=False)
    _staging_ready: bool = field(default=False, init=False, repr=False)

    @property
    def table(self) -> sql.Identifier:
        return sql.Identifier("raw", raw_table_name(self.system, self.stream))

    @property
    def _keys(self) -> sql.Composed:
        return sql.SQL(", ").join(sql.Identifier(k) for k in self.key_fields)

    def ensure_table(self) -> None:
        ddl = sql.SQL(
            """create table if not exists {table} (
                   {key_defs},
                   payload jsonb not null,
                   _payload_hash text not null,
                   _loaded_at timestamptz not null default now(),
                   _batch_id uuid not null,
                   _source text not null,
                   _seq bigint generated always as identity,
                   unique ({keys}, _payload_hash))"""
        ).format(
            table=self.table,
            key_defs=sql.SQL(", ").join(
                sql.SQL("{} text not null").format(sql.Identifier(k)) for k in self.key_fields
            ),
            keys=self._keys,
        )
        with self.conn.transaction():
            self.conn.execute(ddl)

    # ------------------------------------------------------------- batches
    def start_batch(self, cursor_before: Any, scope: str | None = None) -> None:
        """Record the load in ops.ingest_batches; ``scope`` names the keys of a partial re-read
        (which feed ages and freshness do not count as a reading of the whole feed)."""
        with self.conn.transaction():
            self.conn.execute(
                """insert into ops.ingest_batches
                       (batch_id, system, stream, started_at, status, cursor_before, scope)
                   values (%s, %s, %s, now(), 'running', %s, %s)""",
                (self.batch_id, self.system, self.stream, Jsonb(cursor_before), scope),
            )

    def finish_batch(
        self,
        counts: LoadCounts,
        cursor_after: Any,
        lag_seconds: float | None,
        error: str | None = None,
    ) -> None:
        with self.conn.transaction():
            self.conn.execute(
                """update ops.ingest_batches
                      set finished_at = now(), status = %s, read = %s, inserted = %s,
                          updated = %s, unchanged = %s, quarantined = %s,
                          cursor_after = %s, source_lag_seconds = %s, error = %s
                    where batch_id = %s""",
                (
                    "failed" if error else "succeeded",
                    counts.read,
                    counts.inserted,
                    counts.updated,
                    counts.unchanged,
                    counts.quarantined,
                    Jsonb(cursor_after),
                    lag_seconds,
                    error,
                    self.batch_id,
                ),
            )

    # -------------------------------------------------------------- cursor
    def read_cursor(self) -> Any:
        row = self.conn.execute(
            "select cursor from ops.sync_cursors where system = %s and stream = %s",
            (self.system, self.stream),
        ).fetchone()
        self.conn.commit()
        return row[0] if row else None

    # ---------------------------------------------------------------- load
    def commit_page(
        self,
        records: Sequence[Record],
        rejected: Sequence[Rejected] = (),
        cursor: Any = None,
        advance_cursor: bool = True,
        also: Callable[[psycopg.Connection], Any] | None = None,
    ) -> LoadCounts:
        """Land one page: rows, quarantine, the cursor (if ``advance_cursor``) and ``also``
        (e.g. marking webhook deliveries processed), all in one transaction."""
        counts = LoadCounts(read=len(records) + len(rejected))
        # the page's own transaction, or a savepoint inside the caller's
        top_level = self.conn.info.transaction_status == pq.TransactionStatus.IDLE
        with self.conn.transaction():
            if records:
                new_rows, new_keys = self._merge(records, top_level)
                counts.inserted = new_keys
                counts.updated = new_rows - new_keys
                counts.unchanged = len(records) - new_rows
                self._resolve_quarantine()
            if rejected:
                counts.quarantined = self._quarantine(rejected)
            if advance_cursor and cursor is not None:
                self.conn.execute(
                    """insert into ops.sync_cursors (system, stream, cursor, updated_at)
                       values (%s, %s, %s, now())
                       on conflict (system, stream)
                       do update set cursor = excluded.cursor, updated_at = now()""",
                    (self.system, self.stream, Jsonb(cursor)),
                )
            if also is not None:
                also(self.conn)
        if records and top_level:
            self._staging_ready = True  # created by a transaction that committed
        return counts

    def _lz4(self) -> bool:
        """Whether the server can compress with lz4. The staging table's payloads then are:
        pglz, the default, costs as much as parsing the page's JSON (half a COPY of Shopify
        orders); the values keep lz4 when they move into the raw table (a storage detail)."""
        if self._has_lz4 is None:
            row = self.conn.execute(
                "select 'lz4' = any(enumvals) from pg_settings "
                "where name = 'default_toast_compression'"
            ).fetchone()
            self._has_lz4 = bool(row and row[0])
        return self._has_lz4

    @property
    def _staging(self) -> sql.Identifier:
        """The session's temporary table a page is copied into, one per set of key columns."""
        digest = hashlib.md5("\0".join(self.key_fields).encode()).hexdigest()[:12]
        return sql.Identifier(f"_landing_{digest}")

    def _stage(
        self, records: Sequence[Record], key_cols: list[sql.Identifier], top_level: bool
    ) -> None:
        """COPY the page's rows into the staging table. It lives as long as the session and
        is emptied at each commit (created once, not per page: no catalog churn, no new
        files); rows up to a page long stay inline, uncompressed, and longer ones are
        compressed inline (lz4), not moved out of line into a TOAST table."""
        if not self._staging_ready:
            self.conn.execute(
                sql.SQL(
                    "create temp table if not exists {table} ({cols}, ord integer, "
                    "payload jsonb {compression}, source text) "
                    "with (toast_tuple_target = 8160) on commit delete rows"
                ).format(
                    table=self._staging,
                    cols=sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in key_cols),
                    compression=sql.SQL("compression lz4" if self._lz4() else ""),
                )
            )
        if not top_level:  # an earlier page of the caller's transaction may still be there
            self.conn.execute(sql.SQL("delete from {}").format(self._staging))
        with self.conn.cursor() as cur:
            copy_sql = sql.SQL("copy {table} ({cols}, ord, payload, source) from stdin").format(
                table=self._staging, cols=sql.SQL(", ").join(key_cols)
            )
            with cur.copy(copy_sql) as copy:
                for ord_, rec in enumerate(records):
                    text = rec.text if rec.text is not None else jsonb_text(rec.payload)
                    copy.write_row((*rec.key, ord_, text, rec.source))

    def _merge(self, records: Sequence[Record], top_level: bool) -> tuple[int, int]:
        key_cols = [sql.Identifier(k) for k in self.key_fields]
        self._stage(records, key_cols, top_level)
        join = sql.SQL(" and ").join(sql.SQL("r.{k} = n.{k}").format(k=c) for c in key_cols)
        revive = sql.SQL(" and ").join(
            sql.SQL("r.{k} = excluded.{k}").format(k=c) for c in key_cols
        )
        merge = sql.SQL(
            """with incoming as (
                   select distinct on ({keys}, h) {keys}, payload, h, source, ord
                     from (select *, md5((payload - %(volatile)s::text[])::text) as h
                             from {staging}) l
                    order by {keys}, h, ord
               ),
               inserted as (
                   insert into {table} ({keys}, payload, _payload_hash, _batch_id, _source)
                   select {keys}, payload, h, %(batch)s, source from incoming order by ord
                   on conflict ({keys}, _payload_hash) do update
                      set _seq = default, _loaded_at = now(),
                          _batch_id = excluded._batch_id, _source = excluded._source
                    where {table}._seq < (select max(r._seq) from {table} r where {revive})
                   returning {keys}, _seq
               )
               -- {table} is read as of the statement's start: "exists" means known before
               select count(*) as new_rows,
                      count(distinct ({keys})) filter (
                          where not exists (
                              select 1 from {table} r where {join})
                      ) as new_keys
                 from inserted n"""
        ).format(
            keys=sql.SQL(", ").join(key_cols),
            table=self.table,
            join=join,
            revive=revive,
            staging=self._staging,
        )
        params = {"batch": self.batch_id, "volatile": list(self.volatile_fields)}
        new_rows, new_keys = self.conn.execute(merge, params).fetchone()
        if self.snapshot:
            self.conn.execute(
                sql.SQL(
                    "insert into _snapshot_keys select distinct {keys} from {staging} "
                    "on conflict do nothing"
                ).format(keys=sql.SQL(", ").join(key_cols), staging=self._staging)
            )
        return new_rows, new_keys

    # ------------------------------------------------------------ snapshots
    def begin_snapshot(self) -> None:
        """Start collecting the keys this sync sees (session-scoped temp table)."""
        key_cols = [sql.Identifier(k) for k in self.key_fields]
        self.conn.execute("drop table if exists _snapshot_keys")
        self.conn.execute(
            sql.SQL("create temp table _snapshot_keys ({cols}, primary key ({keys}))").format(
                cols=sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in key_cols),
                keys=sql.SQL(", ").join(key_cols),
            )
        )
        self.conn.commit()

    def close_snapshot(self, source: str, scope: tuple[str, Sequence[str]] | None = None) -> int:
        """After a COMPLETE sync: tombstone every live key this sync did not see.

        ``scope`` = (key column, values): the sync read only the keys with those values (the
        stream re-read for a few SKUs), so only those can have disappeared."""
        key_cols = [sql.Identifier(k) for k in self.key_fields]
        keys = sql.SQL(", ").join(key_cols)
        join = sql.SQL(" and ").join(sql.SQL("s.{k} = l.{k}").format(k=c) for c in key_cols)
        only = sql.SQL("")
        if scope is not None:
            if scope[0] not in self.key_fields:
                raise ValueError(f"{scope[0]!r} is not a key column of raw.{self.stream}")
            only = sql.SQL("where {} = any(%(scope)s)").format(sql.Identifier(scope[0]))
        statement = sql.SQL(
            """with latest as (
                   select distinct on ({keys}) {keys}, payload
                     from {table} {only} order by {keys}, _seq desc
               )
               insert into {table} ({keys}, payload, _payload_hash, _batch_id, _source)
               select {keys}, '{{"_deleted": true}}'::jsonb, md5('{{"_deleted": true}}'),
                      %(batch)s, %(source)s
                 from latest l
                where not (l.payload ? '_deleted')
                  and not exists (select 1 from _snapshot_keys s where {join})
               on conflict ({keys}, _payload_hash) do update
                  set _seq = default, _loaded_at = now(), _batch_id = excluded._batch_id,
                      _source = excluded._source"""
        ).format(keys=keys, table=self.table, join=join, only=only)
        params = {
            "batch": self.batch_id,
            "source": source,
            "scope": list(scope[1]) if scope else [],
        }
        with self.conn.transaction():
            cur = self.conn.execute(statement, params)
            gone = cur.rowcount
        self.conn.execute("drop table if exists _snapshot_keys")
        self.conn.commit()
        return gone

    def _resolve_quarantine(self) -> None:
        """A record whose key was quarantined and now loads valid is fixed at the source: its
        open quarantine rows are resolved (in the page's transaction, before this page's own
        rejections are written; a bad version that arrives again reopens its row)."""
        self.conn.execute(
            sql.SQL(
                """update ops.quarantine set resolved_at = now()
                    where system = %s and stream = %s and resolved_at is null
                      and record_key in (select concat_ws('/', {keys}) from {staging})"""
            ).format(keys=self._keys, staging=self._staging),
            (self.system, self.stream),
        )

    def _quarantine(self, rejected: Sequence[Rejected]) -> int:
        with self.conn.cursor() as cur:
            cur.executemany(
                """insert into ops.quarantine
                       (system, stream, record_key, payload, payload_hash, reason, error_code,
                        batch_id)
                   values (%s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (system, stream, record_key, payload_hash) do update
                      set last_seen = now(), occurrences = ops.quarantine.occurrences + 1,
                          reason = excluded.reason, error_code = excluded.error_code,
                          batch_id = excluded.batch_id, resolved_at = null""",
                [
                    (
                        self.system,
                        self.stream,
                        r.record_key,
                        r.payload_text.replace("\x00", ""),
                        hashlib.sha256(r.payload_text.encode("utf-8", "replace")).hexdigest(),
                        r.reason,
                        r.code,
                        self.batch_id,
                    )
                    for r in rejected
                ],
            )
        return len(rejected)
