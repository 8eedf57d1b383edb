"""One sync of one stream: read pages, validate, land, move the cursor, record the batch."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
import simplejson

from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.ingest.landing import Landing, LoadCounts, Record, Rejected
from dagster_project.ingest.validation import RecordValidator, cursor_max, load_known_values

Reader = Callable[[StreamConfig, Any], Iterator[Page]]
T = TypeVar("T")
log = logging.getLogger("distrohub.ingest")


@dataclass
class SyncResult:
    system: str
    stream: str
    batch_id: str
    counts: LoadCounts
    cursor_before: Any
    cursor_after: Any
    lag_seconds: float | None
    pages: int
    webhook_deliveries: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            **self.counts.as_dict(),
            "cursor": simplejson.dumps(self.cursor_after, default=str),
            "lag_seconds": self.lag_seconds,
            "pages": self.pages,
            "webhook_deliveries": self.webhook_deliveries,
            "batch_id": self.batch_id,
        }


def _lag(cursor_value: Any) -> float | None:
    if cursor_value is None:
        return None
    try:
        at = datetime.fromisoformat(str(cursor_value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - at).total_seconds())


def read_ahead(items: Iterator[T], name: str = "reader") -> Generator[T, None, None]:
    """``items`` (pages), read one ahead in a background thread.

    While a page is committed (mostly waiting on PostgreSQL, which runs on another core),
    the next one is already being fetched, parsed and validated. Requests stay strictly
    one after the other, each only once the previous answer is in (a cursor such as
    Shopify's ``page_info`` comes from the previous page), and pages are handed out and
    committed in the order read; the reader fetches page n+1 only once page n has been
    taken, so it is never more than one page ahead. An error the reader raises is raised
    here, where that page would have been taken, so every page before it is committed
    first, as without read-ahead. Closing early (an error while committing) stops the
    reader after the page it is reading."""
    box: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    ahead = threading.Semaphore(1)  # pages fetched and not yet taken: at most one
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                box.put(("item", item))
                while not ahead.acquire(timeout=0.1):  # wait until it is taken
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(("error", exc))

    ahead.acquire()  # the first page is fetched at once
    worker = threading.Thread(target=produce, name=f"read-ahead {name}", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            ahead.release()  # taken: the reader may fetch the next one meanwhile
            yield item
    finally:
        stop.set()
        worker.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()


def sync_stream(
    conn: psycopg.Connection,
    system: str,
    kind: str,
    stream: StreamConfig,
    reader: Reader | None,
    progress: Callable[[str], None] = log.info,
) -> SyncResult:
    """Sync ``stream``: drain its webhook deliveries, then read incrementally from the source.

    Pages commit one by one (rows + quarantine, atomically); the cursor commits
    with the page when the source returns pages in cursor order, otherwise with
    the last page. A page that could not be read whole stops the cursor from
    moving for this run, so nothing is skipped; its rows are re-read next time
    (and land as unchanged).
    """
    landing = Landing(
        conn,
        system,
        stream.name,
        stream.key_columns,
        volatile_fields=tuple(stream.volatile_fields),
        snapshot=stream.snapshot and reader is not None,
    )
    landing.ensure_table()
    stored = landing.read_cursor()
    cursor_value = stored.get("value") if isinstance(stored, dict) else None
    landing.start_batch(stored)
    validator = RecordValidator(system, kind, stream, load_known_values(conn, stream))
    counts = LoadCounts()
    pages = 0
    deliveries = 0
    all_complete = True
    newest = cursor_value
    reported: Any = None  # the newest cursor a reader reported itself (e.g. Tryton's stamps)
    ahead: Generator[tuple[Page, tuple[list[Record], list[Rejected]]], None, None] | None = None

    def cursor_doc(value: Any) -> dict:
        return {"field": stream.cursor_field, "value": value}

    try:
        if stream.webhook_topics:
            deliveries = _drain_inbox(conn, landing, validator, system, stream, counts)
        if reader is not None:
            if landing.snapshot:
                landing.begin_snapshot()
            # read, parsed and validated one page ahead of the commit (a background thread)
            ahead = read_ahead(
                ((page, validator.split(page)) for page in reader(stream, cursor_value)),
                f"{system} {stream.name}",
            )
            for page, (records, rejected) in ahead:
                pages += 1
                validator.check_drift(len(page.records), rejected)
                all_complete = all_complete and page.complete
                if stream.cursor_field:
                    for rec in records:
                        newest = cursor_max(newest, rec.payload.get(stream.cursor_field))
                if page.cursor is not None:
                    reported = page.cursor
                page_cursor = reported if reported is not None else cursor_doc(newest)
                advance = stream.ordered_by_cursor and all_complete
                counts.add(landing.commit_page(records, rejected, page_cursor, advance))
                for callback in page.after_commit:
                    callback()
                if pages % 20 == 0:
                    progress(f"{system} {stream.name}: {pages} pages, {counts.read} records")
            final = (
                reported
                if reported is not None
                else (cursor_doc(newest) if stream.cursor_field and newest is not None else None)
            )
            if all_complete and final is not None:
                landing.commit_page([], [], final, advance_cursor=True)
                newest = final.get("value") if isinstance(final, dict) else newest
            if landing.snapshot and all_complete:
                gone = landing.close_snapshot(f"snapshot:{landing.batch_id}")
                if gone:
                    progress(f"{system} {stream.name}: {gone} keys no longer present (tombstoned)")
            if not all_complete:
                progress(
                    f"{system} {stream.name}: a page was unreadable (quarantined); "
                    "the cursor stays where it was so nothing is skipped"
                )
    except Exception as exc:
        if ahead is not None:
            ahead.close()  # stop the reader before the batch is closed
        landing.finish_batch(counts, stored, None, error=str(exc))
        raise
    after = landing.read_cursor()
    lag = _lag(newest)
    landing.finish_batch(counts, after, lag)
    return SyncResult(
        system, stream.name, str(landing.batch_id), counts, stored, after, lag, pages, deliveries
    )


def _drain_inbox(
    conn: psycopg.Connection,
    landing: Landing,
    validator: RecordValidator,
    system: str,
    stream: StreamConfig,
    counts: LoadCounts,
    batch_size: int = 500,
) -> int:
    """Land pending webhook deliveries of the stream's topics; mark them processed atomically."""
    drained = 0
    while True:
        rows = conn.execute(
            """select id, event_id, topic, body from ops.webhook_inbox
                where source = %s and topic = any(%s) and processed_at is null
                order by id limit %s""",
            (system, stream.webhook_topics, batch_size),
        ).fetchall()
        conn.commit()
        if not rows:
            return drained
        records: list[Record] = []
        rejected: list[Rejected] = []
        for _id, event_id, topic, body in rows:
            source = f"webhook:{topic}:{event_id}"
            try:
                payload = simplejson.loads(body, use_decimal=True)
            except ValueError as exc:
                rejected.append(
                    Rejected(
                        f"event:{event_id}",
                        body,
                        f"{system} webhook {topic} {event_id}: body is not JSON ({exc})",
                        "webhook_body_invalid",
                    )
                )
                continue
            page_records, page_rejected = validator.split(Page([payload], source))
            records += page_records
            rejected += page_rejected
        ids = [r[0] for r in rows]
        counts.add(
            landing.commit_page(
                records,
                rejected,
                cursor=None,
                advance_cursor=False,
                also=lambda c, ids=ids: c.execute(
                    "update ops.webhook_inbox set processed_at = now() where id = any(%s)", (ids,)
                ),
            )
        )
        drained += len(rows)
