"""One publish of one target: verify the gate, diff and enqueue, deliver.

Used by the Dagster asset ``deliver/<target>`` and by ``distrohub publish``:

1. the data version of ``publish.<model>`` now; the gate's verdict recorded for exactly that
   version (evaluated here when there is none: the publish step never trusts a verdict for
   other rows); a held verdict refuses the publish, and nothing at all is sent for the target;
2. in one REPEATABLE READ transaction: the version again (it must not have moved), the diff
   against ``ops.published_state``, the blast radius once more (published state may have moved
   since the gate), and the enqueue into ``ops.outbox``; a dry run stops here and rolls back;
3. delivery of every due message (:mod:`~dagster_project.publish.deliver`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from dagster_project.publish import diff
from dagster_project.publish.deliver import DeliveryResult, connect, deliver
from dagster_project.publish.gate import Verdict, evaluate
from dagster_project.publish.targets import TargetConfig
from dagster_project.quality.checks import ChangeCounts, blast_radius_part, data_version, latest


class PublishRefused(Exception):
    """The gate held the publish; the message names what failed and the rows."""

    def __init__(self, target: str, message: str, verdict: Verdict | None = None) -> None:
        self.target = target
        self.verdict = verdict
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
    verdict: Verdict | None = None

    def metadata(self) -> dict[str, object]:
        meta: dict[str, object] = {
            "data_version": self.data_version,
            "records_added": self.counts.adds,
            "records_changed": self.counts.changes,
            "records_unchanged": self.counts.unchanged,
            "records_held": self.counts.held,
            "records_left_model": self.counts.removals,
            "published_before": self.counts.published,
        }
        if self.enqueued is not None:
            meta.update(
                messages_enqueued=self.enqueued.messages,
                suppressed_loop=self.enqueued.suppressed,
                superseded=self.enqueued.superseded,
            )
        if self.delivery is not None:
            meta.update(self.delivery.metadata())
        return meta


def verified_verdict(
    database_url: str,
    cfg: TargetConfig,
    *,
    run_id: str | None = None,
    accept_blast_radius: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[str, bool, str]:
    """(data version, passed, summary) of the gate for the model as it is now."""
    with psycopg.connect(database_url, connect_timeout=10, autocommit=True) as conn:
        version = data_version(conn, *cfg.relation)
        found = None if accept_blast_radius else latest(conn, cfg.model, version, "gate")
    if found is not None:
        return version, found.passed, found.summary
    log(
        f"{cfg.target}: no gate verdict for publish.{cfg.model} version {version}; running the gate"
    )
    verdict = evaluate(database_url, cfg, run_id=run_id, accept_blast_radius=accept_blast_radius)
    if verdict.data_version != version:
        return verdict.data_version, verdict.passed, verdict.summary
    return version, verdict.passed, verdict.summary


def publish(
    database_url: str,
    cfg: TargetConfig,
    *,
    dry_run: bool = False,
    accept_blast_radius: bool = False,
    run_id: str | None = None,
    sample_size: int = 20,
    log: Callable[[str], None] = print,
) -> PublishResult:
    version, passed, summary = verified_verdict(
        database_url, cfg, run_id=run_id, accept_blast_radius=accept_blast_radius, log=log
    )
    if not passed:
        raise PublishRefused(
            cfg.target,
            f"{cfg.target}: publish refused, nothing was sent. {summary}. Fix the rows in "
            f"publish.{cfg.model} (or their sources) and rebuild; the gate runs again on the "
            "new version.",
        )
    with connect(database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        tx = conn.transaction(force_rollback=dry_run)
        with tx:
            now = data_version(conn, *cfg.relation)
            if now != version:
                raise PublishRefused(
                    cfg.target,
                    f"{cfg.target}: publish.{cfg.model} changed after its gate ran (version "
                    f"{version} → {now}); nothing was sent. The next build gates the new version.",
                )
            counts = diff.compute(conn, cfg)
            radius = blast_radius_part(
                counts,
                cfg.blast_radius.max_changed_share,
                cfg.blast_radius.max_zeroed_share,
                cfg.blast_radius.min_published,
            )
            if not radius.passed and not accept_blast_radius:
                raise PublishRefused(
                    cfg.target, f"{cfg.target}: publish refused, nothing was sent. {radius.summary}"
                )
            result = PublishResult(cfg.target, version, counts, dry_run)
            if dry_run:
                result.sample = diff.sample(conn, sample_size)
                return result
            result.enqueued = diff.enqueue(conn, cfg, version)
    log(
        f"{cfg.target}: {counts.adds} added, {counts.changes} changed, {counts.unchanged} "
        f"unchanged, {counts.held} held; {result.enqueued.messages} messages enqueued, "
        f"{result.enqueued.suppressed} already in the target"
    )
    result.delivery = deliver(database_url, cfg, log=log)
    return result
