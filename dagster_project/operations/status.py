"""The state of the hub at a glance: what `distrohub status` shows.

:func:`collect` reads, in one connection:

* ``marts.ops_sync_health`` (a live view): every declared stream's lag against its SLA and
  every publish target's deliveries;
* the latest gate verdict of every declared publish target (``ops.gate_results``);
* the outbox depth per target (``ops.outbox``) and the open dead letters (``ops.dead_letter``);
* ``marts.ops_exceptions``: the open problems by category, as of its last build.

The hub is *healthy* when every stream is within its SLA and its last load did not fail, no
gate holds a target, no delivery is stalled or dead-lettered and no exception of severity
``error`` is open (quarantined records and orders on hold are warnings: shown, waiting for a
person, but the integration itself works). :func:`render` prints it with rich tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from dagster_project.hub.slas import describe_minutes

SYNC_HEALTH = ("marts", "ops_sync_health")
EXCEPTIONS = ("marts", "ops_exceptions")
BUILD_HINT = (
    "build the dbt models: materialize marts/ops_sync_health and marts/ops_exceptions in "
    "Dagster (or run `make demo`), or `python -m dagster_project.transform.dbt_run build "
    "--select ops_sync_health ops_exceptions`"
)


@dataclass(frozen=True)
class SyncRow:
    """One row of marts.ops_sync_health."""

    system: str
    direction: str
    stream: str
    last_success_at: datetime | None
    last_status: str | None
    last_error: str | None
    lag_minutes: float | None
    sla_minutes: int
    sla_status: str
    quarantined_open: int
    dead_letters_open: int
    outbox_pending: int
    message: str

    @property
    def late(self) -> bool:
        return self.sla_status in ("breached", "never_loaded")

    @property
    def lag_share(self) -> float:
        """Lag as a share of the SLA (a stream that never loaded is infinitely late)."""
        if self.lag_minutes is None:
            return float("inf")
        return self.lag_minutes / self.sla_minutes if self.sla_minutes else 0.0


@dataclass(frozen=True)
class SystemHealth:
    """The inbound streams of one system, summed up."""

    system: str
    streams: int
    late: list[str]
    failed: list[str]
    worst: SyncRow
    quarantined: int
    last_error: str | None

    @property
    def ok(self) -> bool:
        return not self.late and not self.failed


@dataclass(frozen=True)
class GateVerdict:
    """The latest verdict of a declared target's gate (passed None: never evaluated)."""

    target: str
    model: str
    passed: bool | None
    summary: str
    checked_at: datetime | None


@dataclass(frozen=True)
class OutboxDepth:
    """A target's outbox: messages waiting (and how old the oldest is), retrying, dead."""

    target: str
    pending: int
    retrying: int
    oldest_pending_at: datetime | None
    dead_letters_open: int


@dataclass(frozen=True)
class DeadLetter:
    id: int
    target: str
    system: str
    record_key: str
    error_code: str
    error: str
    failed_at: datetime


@dataclass(frozen=True)
class ExceptionCount:
    category: str
    severity: str
    count: int


@dataclass
class NarrowActivity:
    """What the worker's narrow path did in the last hour (ops.narrow_runs)."""

    target: str
    runs: int
    held: int
    failed: int
    messages: int
    median_seconds: float | None
    last_at: datetime | None
    last_error: str | None


@dataclass
class Status:
    """What `distrohub status` reports."""

    checked_at: datetime
    sync: list[SyncRow] = field(default_factory=list)
    gates: list[GateVerdict] = field(default_factory=list)
    outbox: list[OutboxDepth] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    exceptions: list[ExceptionCount] = field(default_factory=list)
    exceptions_as_of: datetime | None = None
    missing: list[str] = field(default_factory=list)  # ops marts not built yet
    narrow: list[NarrowActivity] = field(default_factory=list)

    @property
    def systems(self) -> list[SystemHealth]:
        by_system: dict[str, list[SyncRow]] = {}
        for row in self.sync:
            if row.direction == "inbound":
                by_system.setdefault(row.system, []).append(row)
        out = []
        for system, rows in sorted(by_system.items()):
            errors = [r.last_error for r in rows if r.last_error]
            out.append(
                SystemHealth(
                    system=system,
                    streams=len(rows),
                    late=[r.stream for r in rows if r.late],
                    failed=[r.stream for r in rows if r.last_status == "failed"],
                    worst=max(rows, key=lambda r: r.lag_share),
                    quarantined=sum(r.quarantined_open for r in rows),
                    last_error=errors[0] if errors else None,
                )
            )
        return out

    @property
    def late_streams(self) -> list[SyncRow]:
        return [r for r in self.sync if r.direction == "inbound" and r.late]

    @property
    def stalled_deliveries(self) -> list[SyncRow]:
        return [r for r in self.sync if r.direction == "outbound" and r.sla_status == "breached"]

    @property
    def held_gates(self) -> list[GateVerdict]:
        return [g for g in self.gates if g.passed is False]

    @property
    def breaches(self) -> list[str]:
        """One line per SLA breach a person should read."""
        lines = [r.message for r in self.late_streams]
        lines += [
            r.message
            for r in self.sync
            if r.direction == "inbound" and not r.late and r.last_status == "failed"
        ]
        lines += [r.message for r in self.stalled_deliveries]
        return lines

    @property
    def error_exceptions(self) -> int:
        return sum(e.count for e in self.exceptions if e.severity == "error")

    @property
    def healthy(self) -> bool:
        return not (
            self.missing
            or self.late_streams
            or any(r.last_status == "failed" for r in self.sync if r.direction == "inbound")
            or self.stalled_deliveries
            or self.held_gates
            or self.dead_letters
            or self.error_exceptions
        )

    def as_json(self) -> dict[str, Any]:
        return _jsonable(
            {
                "healthy": self.healthy,
                "checked_at": self.checked_at,
                "missing": self.missing,
                "systems": [
                    {**asdict(s), "worst": asdict(s.worst), "ok": s.ok} for s in self.systems
                ],
                "sync": [asdict(r) for r in self.sync],
                "gates": [asdict(g) for g in self.gates],
                "outbox": [asdict(o) for o in self.outbox],
                "dead_letters": [asdict(d) for d in self.dead_letters],
                "exceptions": {
                    "as_of": self.exceptions_as_of,
                    "by_category": [asdict(e) for e in self.exceptions],
                },
                "breaches": self.breaches,
                "narrow_last_hour": [asdict(n) for n in self.narrow],
            }
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value == float("inf"):
        return None
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int | float):
        return float(value)  # Decimal
    return value


# ------------------------------------------------------------------------------- reading
def relation_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    return conn.execute("select to_regclass(%s)", (f"{schema}.{name}",)).fetchone()[0] is not None


def sync_health(conn: psycopg.Connection) -> list[SyncRow]:
    """marts.ops_sync_health, worst first within each direction."""
    rows = conn.execute(
        """select system, direction, stream, last_success_at, last_status, last_error,
                  lag_minutes::float as lag_minutes, sla_minutes, sla_status,
                  quarantined_open, dead_letters_open, outbox_pending, message
             from marts.ops_sync_health
            order by direction, system, stream"""
    ).fetchall()
    return [SyncRow(*row) for row in rows]


def gate_verdicts(
    conn: psycopg.Connection, targets: Iterable[str] | None = None
) -> list[GateVerdict]:
    """The latest ``gate`` verdict of each declared publish target (or of ``targets``)."""
    from dagster_project.publish.targets import declared_targets

    declared = declared_targets()
    names = sorted(targets if targets is not None else declared)
    rows = conn.execute(
        """select distinct on (target) target, model, passed, summary, checked_at
             from ops.gate_results
            where gate = 'gate' and target = any(%s)
            order by target, checked_at desc, id desc""",
        (names,),
    ).fetchall()
    latest = {r[0]: r for r in rows}
    out = []
    for name in names:
        if name in latest:
            _, model, passed, summary, checked_at = latest[name]
            out.append(GateVerdict(name, model, passed, summary, checked_at))
        else:
            model = declared[name].model if name in declared else name
            out.append(
                GateVerdict(name, model, None, f"publish.{model} has not been gated yet", None)
            )
    return out


def outbox_depth(conn: psycopg.Connection) -> list[OutboxDepth]:
    """Per publish target with messages: pending (of which retrying), oldest pending, open
    dead letters."""
    rows = conn.execute(
        """with outbox as (
               select target,
                      count(*) filter (where status = 'pending') as pending,
                      count(*) filter (where status = 'pending' and attempts > 0) as retrying,
                      min(enqueued_at) filter (where status = 'pending') as oldest_pending_at
                 from ops.outbox group by target),
           dead as (
               select target, count(*) as dead_letters_open
                 from ops.dead_letter where resolved_at is null group by target)
           select coalesce(outbox.target, dead.target), coalesce(pending, 0),
                  coalesce(retrying, 0), oldest_pending_at, coalesce(dead_letters_open, 0)
             from outbox full join dead on dead.target = outbox.target
            order by 1"""
    ).fetchall()
    return [OutboxDepth(*r) for r in rows]


def dead_letters(conn: psycopg.Connection, limit: int = 50) -> list[DeadLetter]:
    rows = conn.execute(
        """select id, target, system, record_key, error_code, error, failed_at
             from ops.dead_letter where resolved_at is null
            order by failed_at, id limit %s""",
        (limit,),
    ).fetchall()
    return [DeadLetter(*r) for r in rows]


def exception_counts(conn: psycopg.Connection) -> tuple[list[ExceptionCount], datetime | None]:
    """marts.ops_exceptions by category and severity, and the instant it was built as of."""
    rows = conn.execute(
        """select category, severity, count(*)::integer, max(detected_at)
             from marts.ops_exceptions group by category, severity order by category"""
    ).fetchall()
    as_of = max((r[3] for r in rows), default=None)  # None: no open exception
    return [ExceptionCount(r[0], r[1], r[2]) for r in rows], as_of


def narrow_activity(conn: psycopg.Connection) -> list[NarrowActivity]:
    """Per target, the worker's narrow publishes of the last hour (and its last one ever)."""
    rows = conn.execute(
        """select target,
                  count(*) filter (where started_at > now() - interval '1 hour'),
                  count(*) filter (where started_at > now() - interval '1 hour'
                                   and passed is false),
                  count(*) filter (where started_at > now() - interval '1 hour'
                                   and error is not null),
                  coalesce(sum(messages) filter (where started_at > now() - interval '1 hour'), 0),
                  percentile_cont(0.5) within group (order by seconds)
                      filter (where started_at > now() - interval '1 hour'),
                  max(started_at),
                  (array_agg(error order by started_at desc) filter (where error is not null))[1]
             from ops.narrow_runs group by target order by target"""
    ).fetchall()
    return [
        NarrowActivity(t, int(n), int(h), int(f), int(m), float(p) if p is not None else None, a, e)
        for t, n, h, f, m, p, a, e in rows
    ]


def collect(conn: psycopg.Connection) -> Status:
    """Everything `distrohub status` shows, read in one go (see the module docstring)."""
    checked_at = conn.execute("select now()").fetchone()[0]
    status = Status(checked_at=checked_at)
    if relation_exists(conn, *SYNC_HEALTH):
        status.sync = sync_health(conn)
    else:
        status.missing.append(".".join(SYNC_HEALTH))
    status.gates = gate_verdicts(conn)
    status.narrow = narrow_activity(conn)
    status.outbox = outbox_depth(conn)
    status.dead_letters = dead_letters(conn)
    if relation_exists(conn, *EXCEPTIONS):
        status.exceptions, status.exceptions_as_of = exception_counts(conn)
    else:
        status.missing.append(".".join(EXCEPTIONS))
    conn.rollback()  # read-only: end the snapshot
    return status


# ------------------------------------------------------------------------------ rendering
def _ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    return describe_minutes(max((now - at).total_seconds(), 0) / 60) + " ago"


def _short(text: str | None, limit: int = 70) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(status: Status, console: Console) -> None:
    """Print ``status``: systems, gates, outbox, dead letters, SLA breaches."""
    now = status.checked_at
    verdict = "[green]healthy[/]" if status.healthy else "[red]attention needed[/]"
    console.print(f"[bold]distrohub status[/] at {now:%Y-%m-%d %H:%M:%S %Z}: {verdict}")
    for name in status.missing:
        console.print(f"[yellow]{name} does not exist yet[/]: {BUILD_HINT}.")

    if status.sync:
        table = Table(title="systems (inbound streams)", title_justify="left")
        for col in ("system", "streams", "worst lag / SLA", "quarantined", "last error"):
            table.add_column(col)
        for s in status.systems:
            w = s.worst
            lag = "never loaded" if w.lag_minutes is None else describe_minutes(w.lag_minutes)
            worst = f"{w.stream}: {lag} / {describe_minutes(w.sla_minutes)}"
            style = "green" if s.ok else "red"
            late = f", [red]{len(s.late)} late[/]" if s.late else ""
            failed = f", [red]{len(s.failed)} failed[/]" if s.failed else ""
            table.add_row(
                f"[{style}]{s.system}[/]",
                f"{s.streams}{late}{failed}",
                f"[{'red' if w.late else 'green'}]{worst}[/]",
                str(s.quarantined) if s.quarantined else "",
                _short(s.last_error),
            )
        console.print(table)

    table = Table(title="publish gates", title_justify="left")
    for col in ("target", "gate", "checked", "summary"):
        table.add_column(col)
    for g in status.gates:
        state = {True: "[green]passed[/]", False: "[red]held[/]", None: "[yellow]not run[/]"}
        table.add_row(g.target, state[g.passed], _ago(g.checked_at, now), _short(g.summary, 90))
    console.print(table)

    for n in status.narrow:
        median = f", median {n.median_seconds:.2f} s" if n.median_seconds is not None else ""
        problems = ""
        if n.held:
            problems += f", [red]{n.held} held[/]"
        if n.failed:
            problems += f", [red]{n.failed} failed: {_short(n.last_error, 80)}[/]"
        console.print(
            f"narrow path ({n.target}, `distrohub worker`): {n.runs} publishes in the last hour"
            f"{median}, {n.messages} messages{problems}; last {_ago(n.last_at, now)}"
        )

    if status.outbox:
        table = Table(title="outbox", title_justify="left")
        for col in ("target", "pending", "retrying", "oldest pending", "dead letters"):
            table.add_column(col)
        for o in status.outbox:
            table.add_row(
                o.target,
                str(o.pending),
                str(o.retrying),
                _ago(o.oldest_pending_at, now) if o.oldest_pending_at else "",
                f"[red]{o.dead_letters_open}[/]" if o.dead_letters_open else "0",
            )
        console.print(table)
    else:
        console.print("outbox: empty (nothing delivered or waiting)")

    if status.dead_letters:
        table = Table(title="open dead letters (`distrohub dlq retry|discard ID`)")
        for col in ("id", "target", "system", "record", "code", "error", "failed"):
            table.add_column(col)
        for d in status.dead_letters:
            table.add_row(
                str(d.id),
                d.target,
                d.system,
                d.record_key,
                d.error_code,
                _short(d.error, 60),
                _ago(d.failed_at, now),
            )
        console.print(table)

    console.print("[bold]SLA breaches[/]")
    breaches = status.breaches
    for line in breaches:
        console.print(f"  [red]•[/] {line}")
    if not breaches and status.sync:
        console.print("  none: every stream is within its SLA, every delivery moving")
    exceptions = ".".join(EXCEPTIONS)
    if status.exceptions:
        counts = ", ".join(f"{e.count} {e.category} ({e.severity})" for e in status.exceptions)
        as_of = f"{status.exceptions_as_of:%Y-%m-%d %H:%M %Z}"
        console.print(
            f"open exceptions ({exceptions} as of {as_of}): {counts}; "
            f"each one's remediation is in {exceptions}"
        )
    elif exceptions not in status.missing:
        console.print(f"open exceptions ({exceptions}, as of its last build): none")
