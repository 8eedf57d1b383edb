"""The narrow path: a publish target's rows for a few keys rebuilt, gated and delivered at once.

A WMS stock event names one SKU at one warehouse. Rebuilding ``sellable_inventory`` and its
publish model for the whole catalog (dbt's start-up, every model, every test, the GX suite
over every row) takes far longer than the storefront should wait, and costs the same for one
changed SKU as for all of them. The narrow path keeps the cost with the change:

* **the same dbt models, compiled for a scope.** ``dbt compile`` with the var
  ``distrohub_narrow`` turns every ``narrow_scope('sku')`` in the narrowed models into
  ``sku = any($1)`` (``macros/narrow.sql``); the compiled SQL is kept and executed here with the
  scope bound as a parameter, so PostgreSQL reads only the scope's rows through the indexes of
  raw and of the tables. The declared chain (``narrow.models`` of the target in
  ``defs/publish/defs.yaml``) is rewritten model by model: the scope's rows deleted and
  inserted again, in one transaction, under the lock the models' full builds take too
  (``narrow_lock``), so a full build and a narrow rebuild never overwrite each other.
* **the scope is closed over what the figures depend on** (a dbt analysis, ``narrow.scope``:
  kits and their components for sellable inventory).
* **the gate, for exactly the rows it sends, in SQL.** The chain's dbt tests (compiled with the
  same scope: they test the scope's rows), the target's GX suite evaluated as SQL on those rows
  (:mod:`dagster_project.quality.sql_suite`), source freshness, and the blast radius of the
  scope's diff. A held gate sends nothing and is recorded like any other.
* **the same diff and outbox** as a full publish, restricted to the scope's records, then
  delivery.
* **the full table's verdict stays true.** The publish model's data version is kept in
  ``ops.model_versions`` (written by its full build, moved here by what was deleted and
  inserted), so the version after the rewrite is known without reading the table. When the
  version before had passed its gate, the parts that hold for the rewritten table (the earlier
  version's dbt tests and GX suite, and the scope's) are recorded for the new version, so a
  full delivery that runs next does not find the table ungated.

``distrohub worker`` runs it as events arrive; ``distrohub publish --narrow`` runs it by hand.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from dagster_project.publish import diff
from dagster_project.publish.deliver import DeliveryResult, connect, deliver
from dagster_project.publish.gate import blast_radius_of
from dagster_project.publish.targets import TargetConfig
from dagster_project.quality import sql_suite
from dagster_project.quality.checks import ChangeCounts, GatePart, freshness_part, latest, record
from dagster_project.transform.dbt_env import dbt_env
from dagster_project.transform.project import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    WATCHED,
    streams_in_manifest,
)

#: the advisory lock of every narrowed model's build (macros/narrow.sql narrow_lock)
NARROW_LOCK = (72616, 1)
#: the parameter the compiled SQL's $1 becomes
SCOPE = "scope"


class NarrowError(RuntimeError):
    """The narrow path cannot run (not declared, not compiled, models not built yet)."""


@dataclass(frozen=True)
class CompiledModel:
    name: str
    schema: str
    table: str
    sql: str  # the model's select, its scope as %(scope)s


@dataclass(frozen=True)
class CompiledTest:
    name: str
    model: str
    sql: str  # the failing rows of the scope
    severity: str


@dataclass(frozen=True)
class NarrowProgram:
    """The compiled narrow path of one target, for one database."""

    target: str
    column: str
    scope_sql: str
    models: tuple[CompiledModel, ...]
    tests: tuple[CompiledTest, ...]
    streams: tuple[tuple[str, str], ...]  # the raw streams the publish model reads

    @property
    def publish_model(self) -> CompiledModel:
        return self.models[-1]


def _psycopg(code: str) -> str:
    """Compiled SQL with its ``$1`` as a psycopg named parameter (every other % escaped)."""
    return code.replace("%", "%%").replace("$1", f"%({SCOPE})s")


def _newest_input(project_dir: Path) -> float:
    newest = 0.0
    for name in (*WATCHED, "analyses"):
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
    return newest


def compile_program(
    cfg: TargetConfig,
    database_url: str,
    *,
    project_dir: Path = DBT_PROJECT_DIR,
    progress: Callable[[str], None] = lambda _m: None,
) -> NarrowProgram:
    """The target's narrow program: ``dbt compile`` of its chain, its tests and its scope
    analysis with the narrow var, for ``database_url``'s database (compiled SQL names it).
    Kept under ``target/narrow/`` and compiled again only when the project changed."""
    narrow = cfg.narrow
    if narrow is None:
        raise NarrowError(
            f"publish target {cfg.target} declares no narrow path (add `narrow:` to its block "
            "in dagster_project/defs/publish/defs.yaml)"
        )
    database = make_url(database_url).database or "hub"
    tag = hashlib.sha256(f"{cfg.target}:{database}".encode()).hexdigest()[:10]
    target_path = project_dir / "target" / "narrow" / f"{cfg.target}-{tag}"
    manifest_path = target_path / "manifest.json"
    vars_ = {"distrohub_narrow": {"column": narrow.column, "models": narrow.models}}
    stale = not manifest_path.exists() or manifest_path.stat().st_mtime < _newest_input(project_dir)
    if stale:
        progress(f"{cfg.target}: compiling the narrow path ({', '.join(narrow.models)})")
        env = dbt_env({**_os_environ(), "DISTROHUB_DATABASE_URL": database_url})
        done = subprocess.run(
            [
                str(DBT_EXECUTABLE),
                "compile",
                "--quiet",
                "--select",
                *narrow.models,
                narrow.scope,
                "--vars",
                json.dumps(vars_),
                "--target-path",
                str(target_path),
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
            ],
            env=env,
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise NarrowError(
                f"{cfg.target}: dbt compile of the narrow path failed (exit {done.returncode}); "
                f"fix the models or analyses/{narrow.scope}.sql:\n{done.stdout[-3000:]}"
                f"{done.stderr[-1500:]}"
            )
    return _program(cfg, json.loads(manifest_path.read_text()))


def _os_environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _program(cfg: TargetConfig, manifest: dict[str, Any]) -> NarrowProgram:
    narrow = cfg.narrow
    assert narrow is not None
    nodes = manifest["nodes"]
    by_name = {(n["resource_type"], n["name"]): n for n in nodes.values() if n.get("compiled_code")}
    models = []
    for name in narrow.models:
        node = by_name.get(("model", name))
        if node is None:
            raise NarrowError(f"{cfg.target}: narrow model {name!r} is not a dbt model")
        if node["config"].get("materialized") != "table":
            raise NarrowError(f"{cfg.target}: narrow model {name} must be a table")
        code = node["compiled_code"]
        if "$1" not in code:
            raise NarrowError(
                f"{cfg.target}: model {name} reads no input through narrow_scope(): a narrow "
                "rebuild would rewrite its scope with every row (see macros/narrow.sql)"
            )
        models.append(
            CompiledModel(name, node["schema"], node.get("alias") or name, _psycopg(code))
        )
    scope = by_name.get(("analysis", narrow.scope))
    if scope is None:
        raise NarrowError(
            f"{cfg.target}: no dbt analysis {narrow.scope!r} (dbt_project/analyses/) for the "
            "narrow scope"
        )
    unique_ids = {n["unique_id"]: n["name"] for (kind, _), n in by_name.items() if kind == "model"}
    tests = []
    for (kind, name), node in sorted(by_name.items()):
        if kind != "test":
            continue
        attached = node.get("attached_node") or ""
        model = unique_ids.get(attached)
        if model not in narrow.models:
            continue
        tests.append(
            CompiledTest(
                name,
                model,
                _psycopg(node["compiled_code"]),
                str(node["config"].get("severity") or "error").lower(),
            )
        )
    return NarrowProgram(
        cfg.target,
        narrow.column,
        _psycopg(scope["compiled_code"]),
        tuple(models),
        tuple(tests),
        tuple(streams_in_manifest(manifest, cfg.model)),
    )


# ---------------------------------------------------------------------- running it
@dataclass
class NarrowResult:
    target: str
    changed: int
    scope: int
    rows_written: int = 0
    passed: bool = False
    parts: list[GatePart] = field(default_factory=list)
    counts: ChangeCounts | None = None
    enqueued: diff.Enqueued | None = None
    delivery: DeliveryResult | None = None
    version: str = ""
    full_version: str | None = None
    carried: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        failed = [p for p in self.parts if not p.passed]
        if not failed:
            return (
                f"narrow gate passed for {self.scope} SKUs of publish.{self.target} "
                f"({self.rows_written} rows)"
            )
        return "narrow gate held: " + " | ".join(f"{p.gate}: {p.summary}" for p in failed)

    @property
    def messages(self) -> int:
        return self.enqueued.messages if self.enqueued else 0


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        """select attname from pg_attribute
            where attrelid = to_regclass(%s)::oid and attnum > 0 and not attisdropped
            order by attnum""",
        (sql.Identifier(schema, table).as_string(conn),),
    ).fetchall()
    if not rows:
        raise NarrowError(
            f"{schema}.{table} does not exist: build the models once (materialize "
            f"{schema}/{table}) before the narrow path can rewrite them"
        )
    return [r[0] for r in rows]


def _row_hashes(conn: psycopg.Connection, model: CompiledModel, column: str, scope: list[str]):
    """(count, sum of row hashes) of the scope's rows: the data version's terms."""
    row = conn.execute(
        sql.SQL(
            "select count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint),"
            " 0) from {} as t where {} = any(%(scope)s)"
        ).format(sql.Identifier(model.schema, model.table), sql.Identifier(column)),
        {SCOPE: scope},
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _version(count: int, total: int) -> str:
    return f"{count}:{total:x}"


def _dbt_tests(conn: psycopg.Connection, program: NarrowProgram, scope: list[str]) -> GatePart:
    failed, warned = [], []
    for test in program.tests:
        row = conn.execute(
            sql.SQL("select count(*) from ({}) as failing").format(sql.SQL(test.sql)),
            {SCOPE: scope},
        ).fetchone()
        if row and row[0]:
            (warned if test.severity == "warn" else failed).append(f"{test.name} ({row[0]} rows)")
    details = {"tests": len(program.tests), "failed": failed, "warned": warned, "scope": len(scope)}
    if failed:
        return GatePart(
            "dbt_tests",
            False,
            f"{len(failed)} of {len(program.tests)} dbt tests failed on the scope's rows: "
            + ", ".join(failed),
            details,
        )
    return GatePart(
        "dbt_tests",
        True,
        f"all {len(program.tests)} dbt tests of the chain passed on the scope's rows",
        details,
    )


def publish_narrow(
    database_url: str,
    cfg: TargetConfig,
    program: NarrowProgram,
    changed: Sequence[str],
    *,
    trigger: str = "manual",
    deliver_now: bool = True,
    defs_dir: Path | None = None,
    before: dict[str, float] | None = None,
    log: Callable[[str], None] = print,
) -> NarrowResult:
    """Rebuild, gate, diff and enqueue the target's rows for ``changed`` keys (and those that
    depend on them) in one transaction; then deliver. Never sends rows whose gate was held."""
    narrow = cfg.narrow
    assert narrow is not None
    started = time.perf_counter()
    result = NarrowResult(cfg.target, len(set(changed)), 0)
    result.seconds.update(before or {})  # what the caller did first (the worker's re-read)
    changed = sorted(set(changed))
    publish_model = program.publish_model
    column = program.column
    with connect(database_url) as conn:
        run_id = conn.execute(
            """insert into ops.narrow_runs (target, trigger, changed_skus, scope_skus)
               values (%s, %s, %s, 0) returning id""",
            (cfg.target, trigger[:500], len(changed)),
        ).fetchone()[0]
        conn.commit()
        try:
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(%s, %s)", NARROW_LOCK)
                tick = time.perf_counter()
                result.seconds["lock"] = tick - started
                scope = sorted(
                    {r[0] for r in conn.execute(program.scope_sql, {SCOPE: changed}).fetchall()}
                )
                result.scope = len(scope)
                stored = _stored_version(conn, publish_model)
                before = _row_hashes(conn, publish_model, column, scope)
                for model in program.models:
                    cols = sql.SQL(", ").join(
                        sql.Identifier(c) for c in _columns(conn, model.schema, model.table)
                    )
                    relation = sql.Identifier(model.schema, model.table)
                    # the new rows first (a model may read its own table, e.g. the ERP book
                    # kept by inventory_position), then the old ones out and the new ones in
                    conn.execute(
                        sql.SQL(
                            "create temp table narrow_rows on commit drop as "
                            "select {} from ({}) as q"
                        ).format(cols, sql.SQL(model.sql)),
                        {SCOPE: scope},
                    )
                    conn.execute(
                        sql.SQL("delete from {} where {} = any(%(scope)s)").format(
                            relation, sql.Identifier(column)
                        ),
                        {SCOPE: scope},
                    )
                    written = conn.execute(
                        sql.SQL("insert into {} ({}) select {} from narrow_rows").format(
                            relation, cols, cols
                        )
                    ).rowcount
                    conn.execute("drop table narrow_rows")
                    if model is publish_model:
                        result.rows_written = written
                after = _row_hashes(conn, publish_model, column, scope)
                result.version = "narrow@" + _version(*after)
                now = time.perf_counter()
                result.seconds["rebuild"], tick = now - tick, now

                # the gate, for exactly these rows
                batch = sql.SQL("(select * from {} where {} = any(%(scope)s))").format(
                    sql.Identifier(publish_model.schema, publish_model.table),
                    sql.Identifier(column),
                )
                tests = _dbt_tests(conn, program, scope)
                suite = sql_suite.run(conn, cfg.model, batch, {SCOPE: scope})
                fresh = freshness_part(
                    conn,
                    program.streams,
                    cfg.freshness.max_age_minutes,
                    cfg.freshness.handled_by_model,
                    defs_dir,
                )
                result.counts = diff.compute(conn, cfg, scope=(column, scope))
                radius = blast_radius_of(cfg, result.counts)
                result.parts = [tests, suite, fresh, radius]
                result.passed = all(p.passed for p in result.parts)
                now = time.perf_counter()
                result.seconds["gate"], tick = now - tick, now
                for part in result.parts:
                    record(conn, cfg.target, cfg.model, result.version, part, f"narrow:{run_id}")
                record(
                    conn,
                    cfg.target,
                    cfg.model,
                    result.version,
                    GatePart("gate", result.passed, result.summary, {"scope": len(scope)}),
                    f"narrow:{run_id}",
                )
                if result.passed:
                    result.enqueued = diff.enqueue(conn, cfg, result.version)
                if stored is not None:
                    result.full_version = _move_version(
                        conn, publish_model.name, stored, before, after
                    )
                    result.carried = _carry(conn, cfg, stored, result, run_id)
                result.seconds["enqueue"] = time.perf_counter() - tick
        except Exception as exc:
            conn.rollback()
            conn.execute(
                """update ops.narrow_runs set finished_at = now(), error = %s,
                          seconds = %s where id = %s""",
                (str(exc)[:2000], time.perf_counter() - started, run_id),
            )
            conn.commit()
            raise
        log(
            f"{cfg.target}: narrow rebuild of {result.scope} SKUs ({len(changed)} changed): "
            f"{result.rows_written} rows, "
            + ("gate passed" if result.passed else result.summary)
            + f", {result.messages} messages enqueued"
        )
        if result.passed and result.messages and deliver_now:
            tick = time.perf_counter()
            result.delivery = deliver(database_url, cfg, log=log)
            result.seconds["deliver"] = time.perf_counter() - tick
        conn.execute(
            """update ops.narrow_runs
                  set finished_at = now(), scope_skus = %s, rows_written = %s, passed = %s,
                      summary = %s, messages = %s, delivered = %s, seconds = %s, steps = %s
                where id = %s""",
            (
                result.scope,
                result.rows_written,
                result.passed,
                result.summary[:2000],
                result.messages,
                result.delivery.delivered if result.delivery else 0,
                round(time.perf_counter() - started, 4),
                Jsonb({k: round(v, 4) for k, v in result.seconds.items()}),
                run_id,
            ),
        )
        conn.commit()
    result.seconds["total"] = time.perf_counter() - started
    return result


def _stored_version(conn: psycopg.Connection, model: CompiledModel) -> tuple[int, int] | None:
    """The publish model's data version as its full build recorded it, if it is of the table
    that exists now (a table built without the post-hook has none)."""
    row = conn.execute(
        """select row_count, hash_sum from ops.model_versions
            where model = %s and relation_oid = to_regclass(%s)::oid
            for update""",
        (model.name, sql.Identifier(model.schema, model.table).as_string(conn)),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _move_version(
    conn: psycopg.Connection,
    model: str,
    stored: tuple[int, int],
    before: tuple[int, int],
    after: tuple[int, int],
) -> str:
    count = stored[0] - before[0] + after[0]
    total = stored[1] - before[1] + after[1]
    conn.execute(
        """update ops.model_versions set row_count = %s, hash_sum = %s, updated_at = now()
            where model = %s""",
        (count, total, model),
    )
    return _version(count, total)


def _carry(
    conn: psycopg.Connection,
    cfg: TargetConfig,
    stored: tuple[int, int],
    result: NarrowResult,
    run_id: int,
) -> bool:
    """Record for the rewritten table the parts that still hold: the earlier version's dbt
    tests and GX suite passed, and so did the scope's. The full gate's verdict is carried only
    when the earlier version had passed all of it (delivery re-checks the blast radius)."""
    if not result.passed or result.full_version is None:
        return False
    previous = _version(*stored)
    if previous == result.full_version:
        return False
    carried = False
    for name in ("dbt_tests", "expectations"):
        earlier = latest(conn, cfg.model, previous, name)
        if earlier is None or not earlier.passed:
            continue
        # the version a full build gated, and how many narrow rebuilds passed theirs since
        origin = earlier.details.get("origin_version", previous)
        origin_summary = earlier.details.get("origin_summary", earlier.summary)
        rebuilds = int(earlier.details.get("narrow_rebuilds", 0)) + 1
        record(
            conn,
            cfg.target,
            cfg.model,
            result.full_version,
            GatePart(
                name,
                True,
                f"{origin_summary} on version {origin}; {rebuilds} narrow rebuild(s) since "
                f"passed theirs (the last: {result.scope} SKUs)",
                {
                    "origin_version": origin,
                    "origin_summary": origin_summary,
                    "narrow_rebuilds": rebuilds,
                    "carried_from": previous,
                    "narrow_version": result.version,
                },
            ),
            f"narrow:{run_id}",
        )
        carried = True
    earlier_gate = latest(conn, cfg.model, previous, "gate")
    if earlier_gate is not None and earlier_gate.passed:
        record(
            conn,
            cfg.target,
            cfg.model,
            result.full_version,
            GatePart(
                "gate",
                True,
                f"gate passed for publish.{cfg.model} (version {result.full_version}: version "
                f"{previous}, which passed, with {result.scope} SKUs rebuilt and gated narrowly)",
                {"carried_from": previous, "narrow_version": result.version},
            ),
            f"narrow:{run_id}",
        )
        carried = True
    return carried
