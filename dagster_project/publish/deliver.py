"""Delivery: the outbox's pending messages of one target, sent and acknowledged one by one.

One delivery per target at a time (a PostgreSQL advisory lock; a second one waits for
nothing and reports that the first is running). Messages go in id order, grouped by the
system they are for and sent in batches through that system's transport. Every outcome is
acknowledged in its own transaction as soon as the transport yields it: the message's
status, attempts, the target's answer, and, when delivered, ``ops.published_state``.

A crash between a send and its acknowledgement leaves the message pending; it is sent
again on resume, and the transport makes that second send harmless (an absolute set, an
idempotency key the target checks, or a search before a create). A message that fails
with a transient error waits ``retry_backoff_seconds × 2^(attempts-1)`` (or the target's
``Retry-After``, if longer) and becomes a dead letter after ``max_attempts``; a refusal
becomes a dead letter at once (sending it again would be refused again).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import psycopg
import simplejson

from dagster_project.ingest.registry import declared_systems
from dagster_project.publish.targets import TargetConfig
from dagster_project.publish.transports import open_transport
from dagster_project.publish.transports.base import Message, Outcome, Status, Transport

#: Seconds to wait after each send before acknowledging it (crash tests only).
ENV_PAUSE_AFTER_SEND = "DISTROHUB_DELIVERY_PAUSE_AFTER_SEND"
LOCK_NAMESPACE = 72_615  # advisory lock: (namespace, hashtext(target))


def connect(database_url: str) -> psycopg.Connection:
    """A hub connection whose JSON numbers load as Decimal (money never passes through float)."""
    conn = psycopg.connect(database_url, connect_timeout=10)
    psycopg.types.json.set_json_loads(partial(simplejson.loads, use_decimal=True), conn)
    return conn


@dataclass
class DeliveryResult:
    target: str
    outcomes: Counter = field(default_factory=Counter)  # status -> count
    by_system: Counter = field(default_factory=Counter)  # system -> delivered + existed
    dead: list[str] = field(default_factory=list)  # "record: error"
    waiting: int = 0  # pending messages not due yet (backoff)
    seconds: float = 0.0
    locked_out: bool = False

    @property
    def delivered(self) -> int:
        return self.outcomes[Status.DELIVERED] + self.outcomes[Status.EXISTED]

    def metadata(self) -> dict[str, object]:
        return {
            "delivered": self.outcomes[Status.DELIVERED],
            "already_there": self.outcomes[Status.EXISTED],
            "retry_scheduled": self.outcomes[Status.RETRY],
            "dead_letters": self.outcomes[Status.DEAD],
            "waiting_for_retry": self.waiting,
            "delivery_seconds": round(self.seconds, 2),
            **{f"delivered_to_{s}": n for s, n in sorted(self.by_system.items())},
        }


def _backoff(cfg: TargetConfig, attempts: int, retry_after: float | None) -> float:
    delay = min(cfg.retry_backoff_seconds * 2 ** max(attempts - 1, 0), 3600.0)
    return max(delay, retry_after or 0.0)


def _acknowledge(conn: psycopg.Connection, cfg: TargetConfig, msg: Message, out: Outcome) -> str:
    """Record one outcome; the message's new status."""
    attempts = msg.attempts + 1
    response = json.dumps(out.response, default=str) if out.response is not None else None
    with conn.transaction():
        if out.status in (Status.DELIVERED, Status.EXISTED):
            conn.execute(
                """update ops.outbox set status = %s, attempts = %s, sent_at = now(),
                          response = %s, last_error = null, error_code = null
                    where id = %s""",
                (str(out.status), attempts, response, msg.id),
            )
            conn.execute(
                """insert into ops.published_state (target, record_key, payload, payload_hash)
                   select target, record_key, payload, payload_hash from ops.outbox where id = %s
                   on conflict (target, record_key) do update
                      set payload = excluded.payload, payload_hash = excluded.payload_hash,
                          published_at = now()""",
                (msg.id,),
            )
            return str(out.status)
        dead = out.status == Status.DEAD or attempts >= cfg.max_attempts
        if not dead:
            conn.execute(
                """update ops.outbox set attempts = %s, last_error = %s, error_code = %s,
                          response = %s,
                          next_attempt_at = now() + make_interval(secs => %s)
                    where id = %s""",
                (
                    attempts,
                    out.error,
                    out.error_code,
                    response,
                    _backoff(cfg, attempts, out.retry_after),
                    msg.id,
                ),
            )
            return "retry"
        error = out.error or "no error text"
        if out.status == Status.RETRY:
            error = f"gave up after {attempts} attempts: {error}"
        conn.execute(
            """update ops.outbox set status = 'dead', attempts = %s, last_error = %s,
                      error_code = %s, response = %s
                where id = %s""",
            (attempts, error, out.error_code or "target_unavailable", response, msg.id),
        )
        conn.execute(
            """insert into ops.dead_letter
                   (outbox_id, target, system, record_key, error_code, error, response, attempts)
               values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                msg.id,
                msg.target,
                msg.system,
                msg.record_key,
                out.error_code or "target_unavailable",
                error,
                response,
                attempts,
            ),
        )
        return "dead"


def _due(conn: psycopg.Connection, cfg: TargetConfig, after_id: int) -> list[Message]:
    rows = conn.execute(
        """select id, target, system, record_key, action, payload, idempotency_key, attempts
             from ops.outbox
            where target = %s and status = 'pending' and next_attempt_at <= now() and id > %s
            order by id limit %s""",
        (cfg.target, after_id, cfg.batch_size * 4),
    ).fetchall()
    return [Message(*row) for row in rows]


def deliver(
    database_url: str,
    cfg: TargetConfig,
    *,
    log: Callable[[str], None] = print,
) -> DeliveryResult:
    """Send every due pending message of ``cfg``'s target; what became of them."""
    started = time.monotonic()
    result = DeliveryResult(cfg.target)
    pause = float(os.environ.get(ENV_PAUSE_AFTER_SEND) or 0)
    kinds = {name: config.kind for name, (config, _) in declared_systems().items()}
    with connect(database_url) as conn:
        conn.autocommit = True
        # Acknowledgements need not wait for the disk: losing the last few to a server crash
        # leaves those messages pending, and sending them again is harmless (see above), so
        # each one costs a round trip instead of a WAL flush.
        conn.execute("set synchronous_commit = off")
        got = conn.execute(
            "select pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, cfg.target)
        ).fetchone()
        if not got or not got[0]:
            log(f"{cfg.target}: another delivery of this target is running; leaving it to it")
            result.locked_out = True
            return result
        transports: dict[str, Transport] = {}
        try:
            last_id = 0
            while True:
                due = _due(conn, cfg, last_id)
                if not due:
                    break
                last_id = due[-1].id
                by_system: dict[str, list[Message]] = {}
                for msg in due:
                    by_system.setdefault(msg.system, []).append(msg)
                for system, messages in by_system.items():
                    if system not in kinds:
                        raise RuntimeError(
                            f"{cfg.target}: messages for {system!r}, which is not a declared "
                            "system (dagster_project/defs/systems/); declare it or fix the "
                            "publish model's system column"
                        )
                    transport = transports.get(system)
                    if transport is None:
                        transport = open_transport(
                            cfg.transport_for(kinds[system]), system, hub_url=database_url
                        )
                        transports[system] = transport
                    by_id = {m.id: m for m in messages}
                    for start in range(0, len(messages), cfg.batch_size):
                        batch = messages[start : start + cfg.batch_size]
                        for outcome in transport.send(batch):
                            msg = by_id[outcome.message_id]
                            if pause:
                                print(
                                    f"sent {cfg.target} {msg.record_key} (message {msg.id}); "
                                    "acknowledging",
                                    flush=True,
                                    file=sys.stdout,
                                )
                                time.sleep(pause)
                            status = _acknowledge(conn, cfg, msg, outcome)
                            result.outcomes[outcome.status] += 1
                            if status in ("delivered", "existed"):
                                result.by_system[system] += 1
                            elif status == "dead":
                                result.dead.append(f"{msg.record_key}: {outcome.error}")
                        log(
                            f"{cfg.target} → {system}: {result.delivered} delivered so far, "
                            f"{result.outcomes[Status.RETRY]} to retry, "
                            f"{result.outcomes[Status.DEAD]} dead"
                        )
        finally:
            for transport in transports.values():
                transport.close()
            conn.execute(
                "select pg_advisory_unlock(%s, hashtext(%s))", (LOCK_NAMESPACE, cfg.target)
            )
        row = conn.execute(
            "select count(*) from ops.outbox where target = %s and status = 'pending'",
            (cfg.target,),
        ).fetchone()
        result.waiting = row[0] if row else 0
    result.seconds = time.monotonic() - started
    return result
