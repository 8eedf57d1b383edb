"""Re-read a stream for a few key values (``refresh_by_key``): the worker's narrow ingest.

A WMS stock event names the SKU that moved; re-reading the whole stock listing for it would
cost as much as the next scheduled sync. :func:`refresh_keys` asks the system for just those
values (``?sku=…``), validates and lands the records exactly as a sync does (same landing,
same quarantine, one transaction per page), and, for a snapshot stream, tombstones the bins
of those SKUs that are gone. It never moves the stream's cursor, and its load is recorded in
``ops.ingest_batches`` with its ``scope``, so it does not count as a reading of the whole feed
(freshness and feed ages still wait for the full sync).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from dagster_project.connectors.base import StreamConfig
from dagster_project.ingest.landing import Landing, LoadCounts
from dagster_project.ingest.sync import Reader
from dagster_project.ingest.validation import RecordValidator, load_known_values


@dataclass
class RefreshResult:
    system: str
    stream: str
    values: list[str]
    counts: LoadCounts
    tombstoned: int
    complete: bool
    batch_id: str


def refresh_keys(
    conn: psycopg.Connection,
    system: str,
    kind: str,
    stream: StreamConfig,
    reader: Reader,
    values: Sequence[str],
) -> RefreshResult:
    """Re-read ``stream`` of ``system`` for ``values`` of its ``refresh_by_key`` field."""
    rule = stream.refresh_by_key
    if rule is None:
        raise ValueError(
            f"{system} {stream.name}: the stream declares no refresh_by_key (defs.yaml), so it "
            "cannot be re-read for a few keys"
        )
    values = sorted(set(values))
    landing = Landing(
        conn,
        system,
        stream.name,
        stream.key_columns,
        volatile_fields=tuple(stream.volatile_fields),
        snapshot=stream.snapshot,
    )
    landing.ensure_table()
    stored = landing.read_cursor()
    scope = f"{rule.field} in ({', '.join(values)})"
    landing.start_batch(stored, scope=scope[:1000])
    validator = RecordValidator(system, kind, stream, load_known_values(conn, stream))
    counts = LoadCounts()
    complete = True
    tombstoned = 0
    try:
        if landing.snapshot:
            landing.begin_snapshot()
        for value in values:
            narrowed = stream.model_copy(update={"params": {**stream.params, rule.param: value}})
            for page in reader(narrowed, None):
                records, rejected = validator.split(page)
                validator.check_drift(len(page.records), rejected)
                complete = complete and page.complete
                counts.add(
                    landing.commit_page(records, rejected, cursor=None, advance_cursor=False)
                )
                for callback in page.after_commit:
                    callback()
        if landing.snapshot and complete:
            tombstoned = landing.close_snapshot(
                f"refresh:{landing.batch_id}", scope=(rule.field, values)
            )
    except Exception as exc:
        landing.finish_batch(counts, stored, None, error=str(exc))
        raise
    landing.finish_batch(counts, stored, None)
    return RefreshResult(
        system, stream.name, values, counts, tombstoned, complete, str(landing.batch_id)
    )
