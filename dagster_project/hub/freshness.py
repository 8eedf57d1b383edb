"""How old each feed is against its SLA: one query over ``ops.ingest_batches``.

Used by the ``freshness`` asset checks on ``raw/<system>__<stream>`` and by the freshness part
of every publish gate, so both say the same thing about the same stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import psycopg

from dagster_project.hub.slas import describe_minutes


@dataclass(frozen=True)
class FeedAge:
    """One stream's last successful load (and last failure) against its SLA."""

    system: str
    stream: str
    sla_minutes: int
    last_success: datetime | None
    age_minutes: float | None
    last_failure: datetime | None
    last_error: str | None

    @property
    def name(self) -> str:
        return f"{self.system} {self.stream}"

    @property
    def asset_key(self) -> str:
        return f"raw/{self.system}__{self.stream}"

    @property
    def stale(self) -> bool:
        return self.age_minutes is None or self.age_minutes > self.sla_minutes

    @property
    def failing(self) -> bool:
        """Its newest attempt failed (after its last success, if any)."""
        return self.last_failure is not None and (
            self.last_success is None or self.last_failure > self.last_success
        )

    def describe(self) -> str:
        """One line for a person: how old, against which SLA, and the last error if newer."""
        sla = describe_minutes(self.sla_minutes)
        if self.age_minutes is None:
            text = f"{self.name}: never loaded (SLA {sla})"
        else:
            late = self.age_minutes - self.sla_minutes
            text = (
                f"{self.name}: last loaded {describe_minutes(self.age_minutes)} ago (SLA {sla}"
                + (f", {describe_minutes(late)} late)" if late > 0 else ")")
            )
        if self.failing and self.last_error:
            first_line = self.last_error.strip().splitlines()[0][:300]
            text += f"; the last attempt failed: {first_line}"
        return text

    def remedy(self) -> str:
        return (
            f"Look at the runs of {self.asset_key} in the Dagster UI; when {self.system} is "
            f"reachable again, materialize {self.asset_key} (or wait for its schedule)."
        )


def feed_ages(conn: psycopg.Connection, slas: Mapping[tuple[str, str], int]) -> list[FeedAge]:
    """The age of each (system, stream) in ``slas``, sorted by system and stream."""
    if not slas:
        return []
    keys = sorted(slas)
    rows = conn.execute(
        """select s.system, s.stream, ok.finished_at,
                  extract(epoch from now() - ok.finished_at) / 60,
                  bad.finished_at, bad.error
             from unnest(%s::text[], %s::text[]) as s(system, stream)
             left join lateral (
                  select max(finished_at) as finished_at from ops.ingest_batches b
                   where b.system = s.system and b.stream = s.stream and b.status = 'succeeded'
                     and b.scope is null
             ) ok on true
             left join lateral (
                  select coalesce(finished_at, started_at) as finished_at, error
                    from ops.ingest_batches b
                   where b.system = s.system and b.stream = s.stream and b.status = 'failed'
                   order by coalesce(finished_at, started_at) desc limit 1
             ) bad on true
            order by s.system, s.stream""",
        ([s for s, _ in keys], [t for _, t in keys]),
    ).fetchall()
    return [
        FeedAge(
            system,
            stream,
            slas[(system, stream)],
            last,
            float(age) if age is not None else None,
            failed_at,
            error,
        )
        for system, stream, last, age, failed_at, error in rows
    ]
