"""The gate's parts besides the GX suites: the data version of a model, the blast radius,
source freshness, and the record of every verdict in ``ops.gate_results``.

A verdict is tied to a *data version*: a hash of every row of the model, so the delivery
step can re-verify that the gate passed for exactly the rows it is about to send.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dagster_project.hub.freshness import feed_ages
from dagster_project.hub.slas import DEFAULT_SLA_MINUTES, first_few
from dagster_project.ingest.slas import declared_slas


@dataclass(frozen=True)
class GatePart:
    """One part of a gate's verdict."""

    gate: str
    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def data_version(conn: psycopg.Connection, schema: str, table: str) -> str:
    """A hash of every row of ``schema.table``: row count and an order-free sum of row hashes.

    Order-free so no sort is needed (a few hundred ms for a million rows); any changed,
    added or removed row changes it.
    """
    row = conn.execute(
        sql.SQL(
            "select count(*),"
            " coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)"
            " from {} as t"
        ).format(sql.Identifier(schema, table))
    ).fetchone()
    assert row is not None
    return f"{row[0]}:{int(row[1]):x}"


def record(
    conn: psycopg.Connection,
    target: str,
    model: str,
    version: str,
    part: GatePart,
    run_id: str | None = None,
) -> None:
    conn.execute(
        """insert into ops.gate_results
               (target, model, data_version, gate, passed, summary, details, run_id)
           values (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            target,
            model,
            version,
            part.gate,
            part.passed,
            part.summary,
            json.dumps(part.details, default=str),
            run_id,
        ),
    )


def latest(conn: psycopg.Connection, model: str, version: str, gate: str) -> GatePart | None:
    """The newest verdict of ``gate`` for this version of ``model``, if any."""
    row = conn.execute(
        """select passed, summary, details from ops.gate_results
            where model = %s and data_version = %s and gate = %s
            order by checked_at desc, id desc limit 1""",
        (model, version, gate),
    ).fetchone()
    if row is None:
        return None
    return GatePart(gate, row[0], row[1], row[2] or {})


# ------------------------------------------------------------------------ dbt tests
def dbt_tests_part(results: Sequence[tuple[str, bool]]) -> GatePart:
    """The dbt tests of one model in one build: (test name, passed) each."""
    failed = sorted(name for name, ok in results if not ok)
    if not results:
        return GatePart("dbt_tests", False, "no dbt test ran on this version")
    if failed:
        return GatePart(
            "dbt_tests",
            False,
            f"{len(failed)} of {len(results)} dbt tests failed: {', '.join(failed)}",
            {"failed": failed, "tests": len(results)},
        )
    return GatePart(
        "dbt_tests", True, f"all {len(results)} dbt tests passed", {"tests": len(results)}
    )


# ------------------------------------------------------------------------ blast radius
@dataclass(frozen=True)
class ChangeCounts:
    """What a publish would change against what was last published."""

    published: int  # records in ops.published_state for the target
    adds: int
    changes: int
    zeroed: int  # changes (and drift corrections) that take the zero column from > 0 to 0
    removals: int
    held: int
    unchanged: int
    drift: int = 0  # told as desired, but the target's own feed (read since) says otherwise
    drift_corrected: int = 0  # of those, sent again (drift mode correct): they count as changes
    changes_in_target: int = 0  # changes the target already holds (its own feed): not sent

    @property
    def changing(self) -> int:
        """Published records this publish changes at the target: changes (less those the target
        already holds, which are not sent) and drift corrections."""
        return self.changes - self.changes_in_target + self.drift_corrected


def blast_radius_part(
    counts: ChangeCounts, max_changed_share: float, max_zeroed_share: float, min_published: int
) -> GatePart:
    details = {
        "published": counts.published,
        "changes": counts.changes,
        "changes_already_in_target": counts.changes_in_target,
        "drift_corrections": counts.drift_corrected,
        "zeroed": counts.zeroed,
        "adds": counts.adds,
        "max_changed_share": max_changed_share,
        "max_zeroed_share": max_zeroed_share,
    }
    if counts.published < min_published:
        return GatePart(
            "blast_radius",
            True,
            f"{counts.published} records published so far (limit applies from {min_published})",
            details,
        )
    changed = counts.changing / counts.published
    zeroed = counts.zeroed / counts.published
    details.update(changed_share=round(changed, 4), zeroed_share=round(zeroed, 4))
    problems = []
    if changed > max_changed_share:
        problems.append(
            f"{counts.changing} of {counts.published} published records would change "
            f"({changed:.0%}, limit {max_changed_share:.0%})"
        )
    if zeroed > max_zeroed_share:
        problems.append(
            f"{counts.zeroed} of {counts.published} would be set to zero "
            f"({zeroed:.0%}, limit {max_zeroed_share:.0%})"
        )
    if problems:
        return GatePart(
            "blast_radius",
            False,
            "; ".join(problems) + ". If the change is intended, raise the target's blast_radius in "
            "defs/publish/defs.yaml or publish with "
            "`distrohub publish TARGET --accept-blast-radius`",
            details,
        )
    return GatePart(
        "blast_radius",
        True,
        f"{counts.changing} of {counts.published} published records change ({changed:.0%})",
        details,
    )


# ------------------------------------------------------------------------ freshness
def freshness_part(
    conn: psycopg.Connection,
    streams: Sequence[tuple[str, str]],
    cap_minutes: int | None = None,
    handled_by_model: Sequence[str] = (),
    defs_dir: Path | None = None,
) -> GatePart:
    """Every source stream was loaded successfully within its SLA (``defs.yaml``
    ``freshness_minutes``; ``cap_minutes``, when set, is the most any may be for this target).
    Streams matching ``handled_by_model`` ('<system>/<stream>' globs) are left to the model's
    own policy (a stale stock feed holds its location's rows, not the whole publish).
    ``defs_dir`` is where the systems are declared (default: the project's ``defs/``)."""
    streams = [
        s for s in streams if not any(fnmatch(f"{s[0]}/{s[1]}", p) for p in handled_by_model)
    ]
    if not streams:
        return GatePart("freshness", True, "the model reads no source stream")
    declared = declared_slas(defs_dir)
    slas = {}
    for stream in streams:
        sla = declared.get(stream, DEFAULT_SLA_MINUTES)
        slas[stream] = min(sla, cap_minutes) if cap_minutes else sla
    feeds = feed_ages(conn, slas)
    stale = [f.describe() for f in feeds if f.stale]
    details = {
        "streams": len(feeds),
        "sla_minutes": {f"{f.system}/{f.stream}": f.sla_minutes for f in feeds},
        "stale": stale,
    }
    if stale:
        shown = first_few(stale)
        return GatePart(
            "freshness",
            False,
            f"{len(stale)} of {len(feeds)} source streams are older than their SLA: {shown}. "
            "Materialize them (raw/<system>__<stream>) or fix their system",
            details,
        )
    return GatePart(
        "freshness", True, f"all {len(feeds)} source streams loaded within their SLA", details
    )
