"""``distrohub worker``: stock events to the storefronts in about a second, gated.

The Dagster path for a stock event is: the webhook sensor launches the stream's sync (a run),
the event sensor rebuilds sellable inventory (a run, dbt's start-up, every row), the publish
sensor delivers (a run). Each run costs seconds before it does anything, and the rebuild costs
the whole catalog. That path stays (it is what keeps every model and reconciliation right);
the worker runs beside it, long-lived, and takes the short way for what events name:

1. it waits on ``ops.webhook_inbox`` (a NOTIFY per stored delivery, migration 0008; a poll
   every few seconds as well, so nothing is missed if a notification is);
2. for each delivery whose topic triggers a stream that declares ``refresh_by_key`` (the WMS
   stock stream), it reads the key from the body (``data.sku``) and re-reads just those keys
   from the system (:mod:`dagster_project.ingest.refresh`);
3. for each publish target whose ``narrow.streams`` match, it runs the narrow path
   (:mod:`dagster_project.publish.narrow`): the SKUs' rows rebuilt through the same dbt
   models, gated in SQL (dbt tests, GX suite, freshness, blast radius), diffed, enqueued,
   delivered.

Deliveries that arrive while one batch runs are taken together in the next. The worker keeps
its place in ``ops.worker_cursors`` and starts, the first time, at the newest delivery (the
full path has everything older). Every narrow publish is a row in ``ops.narrow_runs``; its
gate's parts are in ``ops.gate_results`` like every other gate's.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import psycopg
import simplejson
from psycopg import sql

from dagster_project.connectors.base import StreamConfig
from dagster_project.ingest.readers import SystemConfig, open_reader
from dagster_project.ingest.refresh import RefreshResult, refresh_keys
from dagster_project.ingest.registry import DEFS_DIR, declared_systems
from dagster_project.publish.narrow import NarrowProgram, NarrowResult, compile_program
from dagster_project.publish.narrow import publish_narrow as run_narrow
from dagster_project.publish.targets import TargetConfig, declared_targets
from dagster_project.transform.project import DBT_PROJECT_DIR

WORKER = "narrow"
CHANNEL = "distrohub_webhook_inbox"
log = logging.getLogger("distrohub.worker")


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


@dataclass
class Batch:
    """What one pass over new inbox rows found: per (system, stream), the keys and events."""

    keys: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    events: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    skipped: int = 0
    last_id: int | None = None


@dataclass
class PassResult:
    inbox_rows: int = 0
    refreshes: list[RefreshResult] = field(default_factory=list)
    publishes: list[NarrowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class NarrowWorker:
    def __init__(
        self,
        database_url: str,
        *,
        defs_dir: Path = DEFS_DIR,
        project_dir: Path = DBT_PROJECT_DIR,
        say: Callable[[str], None] = log.info,
        report: Callable[[NarrowResult], None] | None = None,
    ) -> None:
        self.database_url = database_url
        self.project_dir = project_dir
        self.defs_dir = defs_dir
        self.say = say
        self.report = report
        self.systems = declared_systems(defs_dir)
        self.targets: dict[str, TargetConfig] = {
            name: cfg for name, cfg in declared_targets(defs_dir).items() if cfg.narrow
        }
        # (system, topic) -> the streams that topic re-reads by key
        self.routes: dict[tuple[str, str], list[StreamConfig]] = defaultdict(list)
        for system, (_config, streams) in self.systems.items():
            for stream in streams:
                if stream.refresh_by_key is None:
                    continue
                for topic in {*stream.trigger_topics, *stream.webhook_topics}:
                    self.routes[(system, topic)].append(stream)
        self.programs: dict[str, NarrowProgram] = {}

    # ------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Compile every target's narrow path (dbt compile, cached while the project is as it
        was) and place the cursor."""
        for name, cfg in self.targets.items():
            self.programs[name] = compile_program(
                cfg, self.database_url, project_dir=self.project_dir, progress=self.say
            )
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(
                """insert into ops.worker_cursors (worker, last_id)
                   select %s, coalesce(max(id), 0) from ops.webhook_inbox
                   on conflict (worker) do nothing""",
                (WORKER,),
            )
        routed = sorted({f"{s}/{st.name}" for (s, _t), sts in self.routes.items() for st in sts})
        self.say(
            f"worker ready: {len(self.targets)} narrow target(s) "
            f"({', '.join(sorted(self.targets)) or 'none'}), events of {', '.join(routed) or '-'}"
        )

    # ------------------------------------------------------------------ one pass
    def _collect(self, conn: psycopg.Connection, limit: int = 2000) -> Batch:
        cursor = conn.execute(
            "select last_id from ops.worker_cursors where worker = %s", (WORKER,)
        ).fetchone()
        last = cursor[0] if cursor else 0
        rows = conn.execute(
            """select id, source, topic, event_id, body from ops.webhook_inbox
                where id > %s order by id limit %s""",
            (last, limit),
        ).fetchall()
        batch = Batch()
        for row_id, source, topic, event_id, body in rows:
            batch.last_id = row_id
            streams = self.routes.get((source, topic))
            if not streams:
                continue
            try:
                payload = simplejson.loads(body)
            except ValueError:
                batch.skipped += 1  # the sync quarantines it with the reason
                continue
            for stream in streams:
                assert stream.refresh_by_key is not None
                value = _at(payload, stream.refresh_by_key.event_path)
                if value is None or value == "":
                    batch.skipped += 1
                    continue
                batch.keys[(source, stream.name)].add(str(value))
                batch.events[(source, stream.name)].append(f"{topic}:{event_id}")
        return batch

    def run_once(self) -> PassResult:
        """Everything new in the inbox: re-read the keys, publish narrowly, move the cursor."""
        result = PassResult()
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            batch = self._collect(conn)
            if batch.last_id is None:
                return result
            changed: dict[str, set[str]] = defaultdict(set)
            triggers: dict[str, list[str]] = defaultdict(list)
            reread: dict[str, float] = defaultdict(float)
            for (system, stream_name), values in sorted(batch.keys.items()):
                config, streams = self.systems[system]
                stream = next(s for s in streams if s.name == stream_name)
                started = time.perf_counter()
                try:
                    refreshed = self._refresh(conn, config, stream, sorted(values))
                except Exception as exc:  # the full sync will load it; say what failed
                    result.errors.append(
                        f"{system} {stream_name}: re-reading {', '.join(sorted(values))} "
                        f"failed: {exc}"
                    )
                    continue
                result.refreshes.append(refreshed)
                for name, cfg in self.targets.items():
                    assert cfg.narrow is not None
                    if any(fnmatch(f"{system}/{stream_name}", p) for p in cfg.narrow.streams):
                        changed[name] |= values
                        reread[name] += time.perf_counter() - started
                        triggers[name] += [
                            f"webhook:{system}:{e}" for e in batch.events[(system, stream_name)]
                        ]
            for name, values in sorted(changed.items()):
                try:
                    published = run_narrow(
                        self.database_url,
                        self.targets[name],
                        self.programs[name],
                        sorted(values),
                        trigger=", ".join(triggers[name][:20]),
                        defs_dir=self.defs_dir,
                        before={"reread": reread[name]},
                        log=self.say,
                    )
                except Exception as exc:
                    result.errors.append(f"{name}: narrow publish failed: {exc}")
                    continue
                result.publishes.append(published)
                if self.report is not None:
                    try:
                        self.report(published)
                    except Exception as exc:  # the UI's record must not stop the worker
                        self.say(f"[worker] could not record {name} in Dagster: {exc}")
            conn.execute(
                """update ops.worker_cursors set last_id = %s, updated_at = now()
                    where worker = %s""",
                (batch.last_id, WORKER),
            )
            result.inbox_rows = batch.last_id
        for error in result.errors:
            self.say(f"[worker] {error}")
        return result

    def _refresh(
        self, conn: psycopg.Connection, config: SystemConfig, stream: StreamConfig, values
    ) -> RefreshResult:
        with open_reader(config, stream) as reader:
            if reader is None:
                raise RuntimeError(f"{config.system} {stream.name} has no reader")
            refreshed = refresh_keys(conn, config.system, config.kind, stream, reader, values)
        c = refreshed.counts
        self.say(
            f"{config.system} {stream.name}: re-read {len(values)} key(s): {c.read} read, "
            f"{c.inserted + c.updated} new versions, {refreshed.tombstoned} gone, "
            f"{c.quarantined} quarantined"
        )
        return refreshed

    # ------------------------------------------------------------------ forever
    def serve(self, stop: threading.Event | None = None, poll_seconds: float = 5.0) -> None:
        """Wait on the inbox's notifications (and poll every ``poll_seconds``) until stopped."""
        stop = stop or threading.Event()
        self.prepare()
        with psycopg.connect(self.database_url, autocommit=True) as listener:
            listener.execute(sql.SQL("listen {}").format(sql.Identifier(CHANNEL)))
            self.run_once()
            while not stop.is_set():
                ready = select.select([listener.fileno()], [], [], poll_seconds)
                if ready[0]:
                    # drain what arrived; the pass reads the inbox itself
                    for _ in listener.notifies(timeout=0):
                        pass
                    time.sleep(0.02)  # let a burst of deliveries land together
                try:
                    self.run_once()
                except psycopg.OperationalError as exc:
                    self.say(f"[worker] the hub is unreachable ({exc}); retrying in 5 s")
                    stop.wait(5)
