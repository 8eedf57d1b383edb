"""The diff: a publish model against what the target was last told, and the outbox.

All of it runs inside the caller's transaction (REPEATABLE READ, so the model is read once,
consistently): :func:`compute` builds three temporary tables (dropped at commit):

* ``publish_desired``: one row per record of the model: key, system, payload (the row as
  JSON, or ``{"lines": [...]}`` when several rows make one record), payload hash, whether
  the record is held (``hold_column``), whether it sets the zero column to 0, whether the
  target already holds this value by its own account (loop suppression) and, for a target
  with ``drift``, the target's own value of the record and when ingest read it;
* ``publish_told``: per record, the last thing we told, are about to tell, or failed to tell
  the target: the newest of its pending or dead outbox messages and ``ops.published_state``
  (a dead message is not enqueued again for the same state: `distrohub dlq` decides);
* ``publish_diff``: per record, ``add``, ``change``, ``unchanged``, ``drift``, ``held`` or
  ``remove``. ``drift`` is a record we last told (``ops.published_state``, nothing pending) what
  we still want, but whose value in the target's own feed differs, in a feed row ingest read
  after that publish (an older row may predate our send: it says nothing). A record missing
  from the feed is not drift.

:func:`enqueue` then writes the adds and changes (and, in drift mode ``correct``, the drift)
to ``ops.outbox`` (one message each, with
its idempotency key) in that same transaction, and supersedes pending messages the new
state makes obsolete. Removals are not sent: every current target keeps its last value
(``on_remove: ignore``), and a removed record's pending message is superseded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from dagster_project.publish.targets import TargetConfig
from dagster_project.quality.checks import ChangeCounts


def _col(name: str) -> sql.Composable:
    return sql.Identifier("t", name)


def _desired_query(cfg: TargetConfig, scope_column: str | None = None) -> sql.Composable:
    key = sql.SQL("concat_ws(':', {})").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(_col(c)) for c in cfg.key_columns)
    )
    system = (
        sql.Literal(cfg.system)
        if cfg.system is not None
        else sql.SQL("{}::text").format(_col(cfg.system_column or ""))
    )
    held = (
        sql.SQL("({} is not null)").format(_col(cfg.hold_column))
        if cfg.hold_column
        else sql.SQL("false")
    )
    zero_column = cfg.blast_radius.zero_column
    zero = (
        sql.SQL("coalesce({}::numeric = 0, false)").format(_col(zero_column))
        if zero_column
        else sql.SQL("false")
    )
    loop = cfg.loop_suppression
    # The narrow path (a scope) does not compare with the target's own feed: that relation is a
    # staging view over the target's whole catalog, read in full by the comparison; a record the
    # target already holds is then sent again, which an absolute set makes harmless. Nor does it
    # look for drift: the drift sweep (a full publish) does.
    relation = sql.Identifier(*cfg.relation)
    # The target's own value of each record, found in one join of the model with the target's
    # feed (an `exists` per record would scan the feed once per record: hours on a large
    # catalog): whether it already holds the desired value (loop suppression) and, for a target
    # with drift, its value and when ingest read it (drift: see compute).
    held_by_target = sql.SQL("")
    live_payload = sql.SQL("null::jsonb")
    live_loaded_at = sql.SQL("null::timestamptz")
    if loop is not None and not cfg.lines_order_by and not scope_column:
        schema, name = loop.relation.split(".")
        matches = [
            sql.SQL("l.{} = m.{}").format(sql.Identifier(live), sql.Identifier(ours))
            for ours, live in loop.match.items()
        ]
        same = sql.SQL(" and ").join(
            sql.SQL("l.{} is not distinct from m.{}").format(
                sql.Identifier(live), sql.Identifier(ours)
            )
            for ours, live in loop.compare.items()
        )
        key_m = sql.SQL("concat_ws(':', {})").format(
            sql.SQL(", ").join(
                sql.SQL("{}::text").format(sql.Identifier("m", c)) for c in cfg.key_columns
            )
        )
        if cfg.drift is not None:
            # the live values under the model's column names: comparable with the payload
            live_values = sql.SQL("jsonb_build_object({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{}, l.{}").format(sql.Literal(ours), sql.Identifier(live))
                    for ours, live in loop.compare.items()
                )
            )
            loaded = sql.SQL("l.{}").format(sql.Identifier(cfg.drift.loaded_at_column))
        else:
            live_values, loaded = sql.SQL("null::jsonb"), sql.SQL("null::timestamptz")
        held_by_target = sql.SQL(
            """left join (select distinct on (record_key)
                                 {key_m} as record_key, ({same}) as same,
                                 {live_values} as payload, {loaded} as loaded_at
                            from {relation} as m
                            join {live} as l on {matches}
                           order by record_key, same desc, loaded_at desc nulls last)
                          as in_target
                       on in_target.record_key = {key}"""
        ).format(
            key_m=key_m,
            same=same,
            live_values=live_values,
            loaded=loaded,
            relation=relation,
            live=sql.Identifier(schema, name),
            matches=sql.SQL(" and ").join(matches),
            key=key,
        )
        in_target = sql.SQL("coalesce(in_target.same, false)")
        live_payload = sql.SQL("in_target.payload")
        live_loaded_at = sql.SQL("in_target.loaded_at")
    else:
        in_target = sql.SQL("false")
    where = (
        sql.SQL("where {} = any(%(scope)s)").format(_col(scope_column))
        if scope_column
        else sql.SQL("")
    )
    if cfg.lines_order_by:
        order = sql.SQL(", ").join(_col(c) for c in cfg.lines_order_by)
        inner = sql.SQL(
            """select {key} as record_key, min({system}) as system,
                      jsonb_build_object('lines', jsonb_agg(to_jsonb(t) order by {order}))
                          as payload,
                      bool_or({held}) as held, false as zeroes, false as in_target,
                      null::jsonb as live_payload, null::timestamptz as live_loaded_at
                 from {relation} as t
                {where}
                group by 1"""
        ).format(key=key, system=system, order=order, held=held, relation=relation, where=where)
    else:
        inner = sql.SQL(
            """select {key} as record_key, {system} as system, to_jsonb(t) as payload,
                      {held} as held, {zero} as zeroes, {in_target} as in_target,
                      {live_payload} as live_payload, {live_loaded_at} as live_loaded_at
                 from {relation} as t
                {held_by_target}
                {where}"""
        ).format(
            key=key,
            system=system,
            held=held,
            zero=zero,
            in_target=in_target,
            live_payload=live_payload,
            live_loaded_at=live_loaded_at,
            relation=relation,
            held_by_target=held_by_target,
            where=where,
        )
    return sql.SQL("select d.*, md5(d.payload::text) as payload_hash from ({}) as d").format(inner)


def compute(
    conn: psycopg.Connection,
    cfg: TargetConfig,
    scope: tuple[str, Sequence[str]] | None = None,
) -> ChangeCounts:
    """Build the diff tables for ``cfg`` in the current transaction; the counts.

    ``scope`` = (column, values) restricts it to the model's rows whose column is one of the
    values (the narrow path): records outside it are neither compared nor counted, and
    removals cannot be seen (they are never sent anyway).
    """
    column, values = scope if scope else (None, ())
    conn.execute(
        sql.SQL("create temp table publish_desired on commit drop as {}").format(
            _desired_query(cfg, column)
        ),
        {"scope": list(values)} if column else None,
    )
    conn.execute("create index on publish_desired (record_key)")
    conn.execute("analyze publish_desired")
    only_desired = (
        sql.SQL("and record_key in (select record_key from publish_desired)")
        if column
        else sql.SQL("")
    )
    conn.execute(
        sql.SQL(
            """create temp table publish_told on commit drop as
           select distinct on (record_key) record_key, payload_hash, payload, pending,
                  published_at
             from (
                   select record_key, payload_hash, payload, status = 'pending' as pending,
                          enqueued_at as at, id, null::timestamptz as published_at
                     from ops.outbox
                    where target = %(t)s and status in ('pending', 'dead') {only}
                   union all
                   select record_key, payload_hash, payload, false, published_at, 0, published_at
                     from ops.published_state where target = %(t)s {only}
                  ) u
            order by record_key, at desc, id desc"""
        ).format(only=only_desired),
        {"t": cfg.target},
    )
    conn.execute("create index on publish_told (record_key)")
    conn.execute(
        sql.SQL(
            """create temp table publish_diff on commit drop as
           select coalesce(d.record_key, o.record_key) as record_key,
                  d.system, d.payload, d.payload_hash, d.in_target,
                  o.payload as told_payload, coalesce(o.pending, false) as told_pending,
                  d.live_payload, d.live_loaded_at, o.published_at,
                  case
                      when d.record_key is null then 'remove'
                      when d.held then 'held'
                      when o.record_key is null then 'add'
                      when o.payload_hash = d.payload_hash
                       and o.published_at is not null
                       and d.live_payload is not null and not d.in_target
                       and d.live_loaded_at > o.published_at then 'drift'
                      when o.payload_hash = d.payload_hash then 'unchanged'
                      else 'change'
                  end as change,
                  coalesce(d.zeroes, false) as zeroes
             from publish_desired d
             {join} publish_told o on o.record_key = d.record_key"""
        ).format(join=sql.SQL("left join") if column else sql.SQL("full join"))
    )
    zero_column = cfg.blast_radius.zero_column
    correct = cfg.drift is not None and cfg.drift.mode == "correct"
    # a drift correction changes the target's live value: it counts like a change (the blast
    # radius, the zeroed share), measured from what the target holds now; a change the target
    # already holds by its own feed (loop suppression: a store that took an order off a level
    # the hub now lowers the same way) changes nothing there and counts in neither
    zeroed = (
        sql.SQL(
            "count(*) filter (where zeroes and ((change = 'change' and not in_target and "
            "coalesce((told_payload ->> {z})::numeric > 0, false)) or (change = 'drift' and {c} "
            "and coalesce((live_payload ->> {z})::numeric > 0, false))))"
        ).format(z=sql.Literal(zero_column), c=sql.Literal(correct))
        if zero_column
        else sql.SQL("0")
    )
    row = conn.execute(
        sql.SQL(
            """select count(*) filter (where change = 'add'),
                      count(*) filter (where change = 'change'),
                      {zeroed},
                      count(*) filter (where change = 'remove'),
                      count(*) filter (where change = 'held'),
                      count(*) filter (where change = 'unchanged'),
                      (select count(*) from ops.published_state where target = {t}),
                      count(*) filter (where change = 'drift'),
                      count(*) filter (where change = 'change' and in_target)
                 from publish_diff"""
        ).format(zeroed=zeroed, t=sql.Literal(cfg.target))
    ).fetchone()
    assert row is not None
    adds, changes, zeroed_n, removals, held, unchanged, published, drift, held_by_target = row
    return ChangeCounts(
        published=published,
        adds=adds,
        changes=changes,
        zeroed=zeroed_n,
        removals=removals,
        held=held,
        unchanged=unchanged,
        drift=drift,
        drift_corrected=drift if correct else 0,
        changes_in_target=held_by_target,
    )


@dataclass(frozen=True)
class DiffRow:
    record_key: str
    change: str
    system: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    in_target: bool


def sample(
    conn: psycopg.Connection, limit: int = 20, changes=("add", "change", "drift")
) -> list[DiffRow]:
    """Up to ``limit`` rows of the diff built by :func:`compute`, for a dry run. A drift row's
    ``before`` is what the target holds now (its own feed), ``after`` the desired payload."""
    rows = conn.execute(
        """select record_key, change, system,
                  case when change = 'drift' then live_payload else told_payload end,
                  payload, coalesce(in_target, false)
             from publish_diff where change = any(%s)
            order by change, record_key limit %s""",
        (list(changes), limit),
    ).fetchall()
    return [DiffRow(*r) for r in rows]


@dataclass(frozen=True)
class Enqueued:
    messages: int
    suppressed: int
    superseded: int
    by_system: dict[str, int]
    drift_corrected: int = 0  # drift messages enqueued (mode correct), part of messages
    drift_reported: int = 0  # drift recorded only (mode report)


def enqueue(conn: psycopg.Connection, cfg: TargetConfig, version: str) -> Enqueued:
    """Write the diff's adds and changes to ``ops.outbox`` (same transaction as :func:`compute`).

    A record the target already holds by its own account (loop suppression) is recorded as
    ``suppressed`` and in ``ops.published_state`` without a call. Drift (the target's own feed,
    read since our last send, holds another value than the one we told and still want) is
    enqueued like a change (``change = 'drift'``) when the target's drift mode is ``correct``;
    every drift found is recorded in ``ops.drift_corrections`` (before = the live value,
    after = the desired payload, and the message when one was enqueued).
    """
    correct = cfg.drift is not None and cfg.drift.mode == "correct"
    send = ["add", "change", "drift"] if correct else ["add", "change"]
    superseded = conn.execute(
        """update ops.outbox o set status = 'superseded', last_error = 'superseded by a newer '
                  || 'state of the record (' || d.change || ')'
             from publish_diff d
            where o.target = %s and o.status = 'pending' and o.record_key = d.record_key
              and d.change in ('change', 'held', 'remove')""",
        (cfg.target,),
    ).rowcount
    rows = conn.execute(
        """with new as (
               insert into ops.outbox (id, target, system, record_key, action, change, payload,
                                       payload_hash, idempotency_key, data_version, status,
                                       sent_at, response)
               select n.id, %(t)s, n.system, n.record_key, 'upsert', n.change, n.payload,
                      n.payload_hash,
                      %(t)s || ':' || n.record_key || ':' || left(n.payload_hash, 12)
                          || ':' || n.id,
                      %(v)s,
                      case when n.in_target then 'suppressed' else 'pending' end,
                      case when n.in_target then now() end,
                      case when n.in_target then jsonb_build_object('suppressed',
                          'the target already holds this value (its own feed)') end
                 from (select nextval('ops.outbox_id_seq') as id, d.*
                         from publish_diff d where d.change = any(%(send)s)
                        order by d.record_key) n
               returning id, system, status, record_key, change, payload, payload_hash
           ),
           drifted as (
               insert into ops.drift_corrections (target, record_key, system, mode,
                                                  live_payload, desired_payload,
                                                  live_loaded_at, published_at, outbox_id)
               select %(t)s, d.record_key, d.system, %(mode)s, d.live_payload, d.payload,
                      d.live_loaded_at, d.published_at, new.id
                 from publish_diff d left join new on new.record_key = d.record_key
                where d.change = 'drift'
           ),
           kept as (
               insert into ops.published_state (target, record_key, payload, payload_hash)
               select %(t)s, record_key, payload, payload_hash from new where status = 'suppressed'
               on conflict (target, record_key) do update
                  set payload = excluded.payload, payload_hash = excluded.payload_hash,
                      published_at = now()
           )
           select system, status, change, count(*) from new group by system, status, change""",
        {
            "t": cfg.target,
            "v": version,
            "send": send,
            "mode": cfg.drift.mode if cfg.drift else None,
        },
    ).fetchall()
    by_system: dict[str, int] = {}
    messages = suppressed = corrected = 0
    for system, status, change, n in rows:
        if status == "suppressed":
            suppressed += n
        else:
            messages += n
            by_system[system] = by_system.get(system, 0) + n
            if change == "drift":
                corrected += n
    reported = 0
    if cfg.drift is not None and not correct:
        found = conn.execute("select count(*) from publish_diff where change = 'drift'").fetchone()
        reported = found[0] if found else 0
    return Enqueued(messages, suppressed, superseded, by_system, corrected, reported)
