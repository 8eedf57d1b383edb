"""One publish of one target: verify the gate, diff and enqueue, deliver.

Used by the Dagster asset ``deliver/<target>`` and by ``distrohub publish``:

1. in one REPEATABLE READ transaction: the data version of ``publish.<model>`` (a hash of its
   rows) and the gate's verdict recorded for exactly that version (when there is none, the
   gate runs here and the transaction starts again: the publish step never trusts a verdict
   for other rows; a held verdict refuses the publish and nothing at all is sent for the
   target), the diff against ``ops.published_state``, the blast radius once more (published
   state may have moved since the gate), and the enqueue into ``ops.outbox``; a dry run stops
   here and rolls back;
3. delivery of every due message (:mod:`~dagster_project.publish.deliver`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from dagster_project.publish import diff
from dagster_project.publish.deliver import DeliveryResult, connect, deliver
from dagster_project.publish.gate import blast_radius_of, evaluate
from dagster_project.publish.targets import TargetConfig
from dagster_project.quality.checks import ChangeCounts, GatePart, data_version, latest
from dagster_project.transform.project import DBT_PROJECT_DIR


class PublishRefused(Exception):
    """The gate held the publish; the message names what failed and the rows."""

    def __init__(self, target: str, message: str) -> None:
        self.target = target
        super().__init__(message)


@dataclass
class PublishResult:
    target: str
    data_version: str
    counts: ChangeCounts
    dry_run: bool
    enqueued: diff.Enqueued | None = None
    delivery: DeliveryResult | None = None
    sample: list[diff.DiffRow] = field(default_factory=list)

    def metadata(self) -> dict[str, object]:
        meta: dict[str, object] = {
            "data_version": self.data_version,
            "records_added": self.counts.adds,
            "records_changed": self.counts.changes,
            "records_unchanged": self.counts.unchanged,
            "records_held": self.counts.held,
            "records_left_model": self.counts.removals,
            "published_before": self.counts.published,
            "drift_found": self.counts.drift,
        }
        if self.enqueued is not None:
            meta.update(
                messages_enqueued=self.enqueued.messages,
                suppressed_loop=self.enqueued.suppressed,
                superseded=self.enqueued.superseded,
                drift_corrected=self.enqueued.drift_corrected,
                drift_reported=self.enqueued.drift_reported,
            )
        if self.delivery is not None:
            meta.update(self.delivery.metadata())
        return meta


def publish(
    database_url: str,
    cfg: TargetConfig,
    *,
    dry_run: bool = False,
    accept_blast_radius: bool = False,
    run_id: str | None = None,
    sample_size: int = 20,
    log: Callable[[str], None] = print,
    project_dir: Path = DBT_PROJECT_DIR,
    defs_dir: Path | None = None,
) -> PublishResult:
    """Gate (when this version has no verdict yet), diff, enqueue and deliver one target.
    ``project_dir`` and ``defs_dir`` name the dbt project and the declarations the gate reads
    (the repository's own by default)."""
    gated = False  # the gate has run in this call
    while True:
        with connect(database_url) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction(force_rollback=dry_run):
                version = data_version(conn, *cfg.relation)
                verdict = latest(conn, cfg.model, version, "gate")
                if verdict is not None and (gated or not accept_blast_radius):
                    result = _enqueue(conn, cfg, version, verdict, dry_run, accept_blast_radius)
                    if dry_run:
                        result.sample = diff.sample(conn, sample_size)
                        return result
                    break
        if gated:
            raise PublishRefused(
                cfg.target,
                f"{cfg.target}: publish.{cfg.model} changed after its gate ran (now version "
                f"{version}); nothing was sent. The next build gates the new version.",
            )
        log(f"{cfg.target}: no gate verdict for publish.{cfg.model} version {version}; gating")
        evaluate(
            database_url,
            cfg,
            run_id=run_id,
            accept_blast_radius=accept_blast_radius,
            project_dir=project_dir,
            defs_dir=defs_dir,
        )
        gated = True
    assert result.enqueued is not None
    c = result.counts
    log(
        f"{cfg.target}: {c.adds} added, {c.changes} changed, {c.unchanged} unchanged, "
        f"{c.held} held, {c.drift} drifted at the target; {result.enqueued.messages} messages "
        f"enqueued ({result.enqueued.drift_corrected} drift corrections), "
        f"{result.enqueued.suppressed} already in the target"
    )
    result.delivery = deliver(database_url, cfg, log=log)
    return result


def _enqueue(
    conn: psycopg.Connection,
    cfg: TargetConfig,
    version: str,
    verdict: GatePart,
    dry_run: bool,
    accept_blast_radius: bool,
) -> PublishResult:
    """Inside the publish transaction: refuse on a held verdict, diff, re-check the blast
    radius (published state may have moved since the gate), enqueue unless a dry run."""
    if not verdict.passed:
        raise PublishRefused(
            cfg.target,
            f"{cfg.target}: publish refused, nothing was sent. {verdict.summary}. Fix the rows "
            f"in publish.{cfg.model} (or their sources) and rebuild; the gate runs again on the "
            "new version.",
        )
    counts = diff.compute(conn, cfg)
    radius = blast_radius_of(cfg, counts)
    if not radius.passed and not accept_blast_radius:
        raise PublishRefused(
            cfg.target, f"{cfg.target}: publish refused, nothing was sent. {radius.summary}"
        )
    result = PublishResult(cfg.target, version, counts, dry_run)
    if not dry_run:
        result.enqueued = diff.enqueue(conn, cfg, version)
    return result
