"""What an operator does to the outbox by hand: resolve dead letters, replay a target.

The command line (``distrohub dlq``, ``distrohub replay``) is a thin shell over these, so
any other front end (the Dagster UI, a script) resolves dead letters the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True)
class Resolution:
    dead_letter_id: int
    target: str
    record_key: str
    note: str
    requeued: bool = False


def _open(
    conn: psycopg.Connection, ids: Sequence[int], target: str | None
) -> list[tuple[int, int, str, str]]:
    """Open dead letters by id, or all of ``target``'s (one of the two must be given)."""
    if not ids and not target:
        raise ValueError("name dead letter ids, or a target for all of its dead letters")
    return conn.execute(
        """select id, outbox_id, target, record_key from ops.dead_letter
            where resolved_at is null
              and (cardinality(%(ids)s::bigint[]) = 0 or id = any(%(ids)s))
              and (%(t)s::text is null or target = %(t)s)
            order by id""",
        {"ids": list(ids), "t": target},
    ).fetchall()


def _resolve(conn: psycopg.Connection, dead_letter_id: int, resolution: str, note: str) -> None:
    conn.execute(
        """update ops.dead_letter set resolved_at = now(), resolution = %s, note = %s
            where id = %s""",
        (resolution, note, dead_letter_id),
    )


def retry_dead_letters(
    conn: psycopg.Connection, ids: Sequence[int] = (), target: str | None = None
) -> list[Resolution]:
    """Put dead letters' messages back in the outbox (same message, same idempotency key).

    A message that a newer state of its record has replaced is not sent again; its dead
    letter is closed with a note saying which message carries the newer state.
    """
    done = []
    with conn.transaction():
        for dl_id, outbox_id, dl_target, record_key in _open(conn, ids, target):
            newer = conn.execute(
                """select id from ops.outbox where target = %s and record_key = %s and id > %s
                      and status in ('pending', 'delivered', 'existed', 'suppressed')
                    order by id desc limit 1""",
                (dl_target, record_key, outbox_id),
            ).fetchone()
            if newer:
                note = f"not resent: message {newer[0]} carries a newer state of the record"
            else:
                conn.execute(
                    """update ops.outbox set status = 'pending', attempts = 0,
                              next_attempt_at = now(), change = 'retry'
                        where id = %s""",
                    (outbox_id,),
                )
                note = "back in the outbox"
            _resolve(conn, dl_id, "retried", note)
            done.append(Resolution(dl_id, dl_target, record_key, note, requeued=not newer))
    return done


def discard_dead_letters(
    conn: psycopg.Connection, reason: str, ids: Sequence[int] = (), target: str | None = None
) -> list[Resolution]:
    """Close dead letters without sending them; the reason is kept with each."""
    done = []
    with conn.transaction():
        for dl_id, _, dl_target, record_key in _open(conn, ids, target):
            _resolve(conn, dl_id, "discarded", reason)
            done.append(Resolution(dl_id, dl_target, record_key, reason))
    return done


def replay(conn: psycopg.Connection, target: str, since: datetime) -> int:
    """Enqueue again, as new messages, the latest state of every record of ``target`` that was
    delivered since ``since`` (UTC) and has nothing pending; the number enqueued."""
    with conn.transaction():
        return conn.execute(
            """insert into ops.outbox (id, target, system, record_key, action, change, payload,
                                       payload_hash, idempotency_key, data_version, status)
               select n.new_id, n.target, n.system, n.record_key, n.action, 'replay', n.payload,
                      n.payload_hash,
                      n.target || ':' || n.record_key || ':' || left(n.payload_hash, 12)
                      || ':' || n.new_id, n.data_version, 'pending'
                 from (select nextval('ops.outbox_id_seq') as new_id, latest.*
                         from (select distinct on (record_key) o.*
                                 from ops.outbox o
                                where o.target = %s and o.status in ('delivered', 'existed')
                                  and o.sent_at >= %s::timestamp at time zone 'UTC'
                                order by record_key, id desc) latest
                        where not exists (
                              select 1 from ops.outbox p
                               where p.target = latest.target and p.record_key = latest.record_key
                                 and p.status = 'pending')
                      ) n""",
            (target, since),
        ).rowcount
