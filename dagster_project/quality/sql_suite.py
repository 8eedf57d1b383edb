"""A publish model's GX suite as SQL, for a subset of its rows (the narrow path's gate).

Great Expectations validates a whole table in a second or more; the narrow path
(:mod:`dagster_project.publish.narrow`) must gate a few SKUs' rows in milliseconds, inside the
transaction that rewrote them. This module reads the SAME suite files
(``expectations/expectations/publish/<model>.json``) and turns each expectation into one SQL
count of unexpected rows over a batch relation (``(select … where sku = any(…)) as batch``),
with the meaning GX gives it. One suite, two evaluators: the full gate runs GX on the whole
table; the narrow gate runs this on the rows it is about to send.

An expectation type this module cannot express is an error naming it (never skipped): add
its SQL form here or take ``narrow`` off the target.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from dagster_project.quality.checks import GatePart
from dagster_project.quality.expectations import suite_path


class UnsupportedExpectation(ValueError):
    """A suite expectation with no SQL form here."""


@dataclass(frozen=True)
class SqlExpectation:
    type: str
    column: str | None
    # the batch relation -> a query returning one row: (unexpected rows, rows considered)
    query: Callable[[sql.Composable], sql.Composable]
    mostly: float = 1.0


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _counting(where: sql.Composable) -> Callable[[sql.Composable], sql.Composable]:
    return lambda batch: sql.SQL("select count(*) filter (where {}), count(*) from {} as b").format(
        where, batch
    )


def _translate(exp: dict[str, Any]) -> SqlExpectation:
    kind, kw = exp["type"], exp.get("kwargs") or {}
    mostly = float(kw.get("mostly", 1.0))
    col = kw.get("column")
    if kind == "expect_column_values_to_not_be_null":
        where = sql.SQL("{} is null").format(_ident(col))
        return SqlExpectation(kind, col, _counting(where), mostly)
    if kind == "expect_column_values_to_be_between":
        bounds = []
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None:
            op = sql.SQL("<=") if kw.get("strict_min") else sql.SQL("<")
            bounds.append(sql.SQL("{} {} {}").format(_ident(col), op, sql.Literal(lo)))
        if hi is not None:
            op = sql.SQL(">=") if kw.get("strict_max") else sql.SQL(">")
            bounds.append(sql.SQL("{} {} {}").format(_ident(col), op, sql.Literal(hi)))
        where = sql.SQL("{} is not null and ({})").format(
            _ident(col), sql.SQL(" or ").join(bounds) if bounds else sql.SQL("false")
        )
        return SqlExpectation(kind, col, _counting(where), mostly)
    if kind == "expect_column_values_to_be_in_set":
        where = sql.SQL("{c} is not null and {c}::text not in ({v})").format(
            c=_ident(col), v=sql.SQL(", ").join(sql.Literal(str(v)) for v in kw["value_set"])
        )
        return SqlExpectation(kind, col, _counting(where), mostly)
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        columns = [col] if col else list(kw["column_list"])
        cols = sql.SQL(", ").join(_ident(c) for c in columns)
        not_null = sql.SQL(" and ").join(
            sql.SQL("{} is not null").format(_ident(c)) for c in columns
        )

        def duplicates(batch: sql.Composable) -> sql.Composable:
            return sql.SQL(
                "select coalesce(sum(n) filter (where n > 1), 0), coalesce(sum(n), 0) from "
                "(select count(*) as n from {batch} as b where {nn} group by {cols}) as g"
            ).format(batch=batch, nn=not_null, cols=cols)

        return SqlExpectation(kind, ", ".join(columns), duplicates, mostly)
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = _ident(kw["column_A"]), _ident(kw["column_B"])
        op = sql.SQL(">=") if kw.get("or_equal") else sql.SQL(">")
        # as GX evaluates it in SQL: a row where either value is missing is not unexpected
        where = sql.SQL("not ({a} {op} {b})").format(a=a, b=b, op=op)
        columns = f"{kw['column_A']}, {kw['column_B']}"
        return SqlExpectation(kind, columns, _counting(where), mostly)
    if kind == "unexpected_rows_expectation":
        text = kw["unexpected_rows_query"]

        def unexpected(batch: sql.Composable) -> sql.Composable:
            # GX puts a table name where {batch} is: a subquery there needs an alias
            rows = sql.SQL(text).format(batch=sql.SQL("{} as batch").format(batch))
            return sql.SQL("select count(*), null::bigint from ({}) as u").format(rows)

        columns = (exp.get("meta") or {}).get("columns")
        return SqlExpectation(kind, ", ".join(columns) if columns else None, unexpected)
    raise UnsupportedExpectation(
        f"the narrow gate has no SQL form for {kind!r}: add it to "
        "dagster_project/quality/sql_suite.py, or remove `narrow` from the publish target"
    )


def load(model: str) -> list[SqlExpectation]:
    """The SQL form of every expectation in ``publish.<model>``'s suite."""
    suite = json.loads(suite_path(model).read_text())
    return [_translate(e) for e in suite["expectations"]]


def run(
    conn: psycopg.Connection,
    model: str,
    batch: sql.Composable,
    params: dict[str, Any],
    expectations: list[SqlExpectation] | None = None,
) -> GatePart:
    """Evaluate the suite on ``batch`` (a parenthesised subquery; ``params`` bind it)."""
    results = []
    for exp in expectations if expectations is not None else load(model):
        unexpected, total = conn.execute(exp.query(batch), params).fetchone()
        unexpected = int(unexpected or 0)
        ok = (
            unexpected == 0
            if exp.mostly >= 1 or not total
            else unexpected / total <= 1 - exp.mostly
        )
        results.append((exp, unexpected, ok))
    failed = [(e, n) for e, n, ok in results if not ok]
    name = f"publish.{model}"
    if failed:
        detail = "; ".join(
            f"{e.type}{'(' + e.column + ')' if e.column else ''}: {n} rows" for e, n in failed
        )
        summary = f"{len(failed)} of {len(results)} expectations of {name} failed: {detail}"
    else:
        summary = f"all {len(results)} expectations of {name} passed"
    return GatePart(
        "expectations",
        not failed,
        summary,
        {
            "failures": [
                {"expectation": e.type, "column": e.column, "unexpected_count": n}
                for e, n in failed
            ],
            "evaluator": "sql",
        },
    )
