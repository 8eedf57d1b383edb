"""The gate of a publish target, for one data version of its model.

Nothing leaves the hub ungated (docs/architecture.md, Principles).

Four parts, each recorded in ``ops.gate_results`` with the data version, then the verdict:

* ``dbt_tests``: the model's dbt tests passed on this version (recorded by the dbt run);
* ``expectations``: its GX suite (``expectations/``) passes;
* ``freshness``: every raw stream it reads was loaded successfully within the SLA;
* ``blast_radius``: what it would change against ``ops.published_state`` is inside the limit.

The Dagster check runs it after the model is built; delivery re-verifies the verdict for
the exact version it reads (and evaluates the gate itself when none was recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from dagster_project.publish import diff
from dagster_project.publish.targets import TargetConfig
from dagster_project.quality.checks import (
    ChangeCounts,
    GatePart,
    blast_radius_part,
    data_version,
    freshness_part,
    latest,
    record,
)
from dagster_project.quality.expectations import run_suite
from dagster_project.transform.project import DBT_PROJECT_DIR, upstream_streams


@dataclass(frozen=True)
class Verdict:
    target: str
    model: str
    data_version: str
    passed: bool
    parts: tuple[GatePart, ...]
    counts: ChangeCounts | None = None

    @property
    def summary(self) -> str:
        failed = [p for p in self.parts if not p.passed]
        if not failed:
            return f"gate passed for publish.{self.model} (version {self.data_version})"
        return f"gate held publish.{self.model}: " + " | ".join(
            f"{p.gate}: {p.summary}" for p in failed
        )

    @property
    def markdown(self) -> str:
        lines = ["| part | result | detail |", "|---|---|---|"]
        for p in self.parts:
            text = p.summary.replace("|", "\\|")
            lines.append(f"| {p.gate} | {'passed' if p.passed else '**held**'} | {text} |")
        suite = next((p for p in self.parts if p.gate == "expectations"), None)
        if suite and suite.details.get("markdown"):
            lines += ["", str(suite.details["markdown"])]
        return "\n".join(lines)


def blast_radius_of(cfg: TargetConfig, counts: ChangeCounts) -> GatePart:
    limits = cfg.blast_radius
    return blast_radius_part(
        counts, limits.max_changed_share, limits.max_zeroed_share, limits.min_published
    )


def dbt_tests_of(conn: psycopg.Connection, cfg: TargetConfig, version: str) -> GatePart:
    found = latest(conn, cfg.model, version, "dbt_tests")
    if found is not None:
        return found
    return GatePart(
        "dbt_tests",
        False,
        f"dbt tests have not run on this version of publish.{cfg.model}: rebuild it "
        f"(materialize publish/{cfg.model}, or `dbt build --select {cfg.model}`)",
    )


def expectations_of(database_url: str, cfg: TargetConfig) -> GatePart:
    suite = run_suite(database_url, cfg.model)
    failures = [
        f"{f.expectation}{'(' + f.column + ')' if f.column else ''}: {f.unexpected_count} rows"
        for f in suite.failures
    ]
    if suite.success:
        summary = f"all {suite.evaluated} expectations of {suite.suite} passed"
    else:
        summary = (
            f"{len(suite.failures)} of {suite.evaluated} expectations of {suite.suite} failed: "
            + "; ".join(failures)
        )
    return GatePart(
        "expectations",
        suite.success,
        summary,
        {
            "markdown": suite.markdown,
            "failures": [
                {
                    "expectation": f.expectation,
                    "column": f.column,
                    "unexpected_count": f.unexpected_count,
                    "sample": [str(v) for v in f.sample[:10]],
                    "detail": f.detail,
                }
                for f in suite.failures
            ],
        },
    )


def evaluate(
    database_url: str,
    cfg: TargetConfig,
    *,
    run_id: str | None = None,
    accept_blast_radius: bool = False,
    project_dir: Path = DBT_PROJECT_DIR,
    defs_dir: Path | None = None,
) -> Verdict:
    """Run the whole gate on the model as it is now; record every part and the verdict.

    ``project_dir`` (the dbt project whose manifest says which raw streams the model reads) and
    ``defs_dir`` (where those streams' SLAs are declared) default to the project's own; a copy of
    both gates a hub built from other declarations (the bench's scale world)."""
    with psycopg.connect(database_url, connect_timeout=10, autocommit=True) as conn:
        with conn.transaction():
            version = data_version(conn, *cfg.relation)
        dbt_part = dbt_tests_of(conn, cfg, version)
        suite_part = expectations_of(database_url, cfg)
        fresh_part = freshness_part(
            conn,
            upstream_streams(cfg.model, project_dir),
            cfg.freshness.max_age_minutes,
            cfg.freshness.handled_by_model,
            defs_dir,
        )
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            after = data_version(conn, *cfg.relation)
            counts = diff.compute(conn, cfg)
        parts = [dbt_part, suite_part, fresh_part]
        if after != version:
            parts.append(
                GatePart(
                    "expectations",
                    False,
                    f"publish.{cfg.model} changed while its gate ran (version {version} → "
                    f"{after}); the gate runs again on the next build",
                )
            )
        radius = blast_radius_of(cfg, counts)
        if accept_blast_radius and not radius.passed:
            radius = GatePart(
                "blast_radius", True, "accepted by the operator: " + radius.summary, radius.details
            )
        parts.append(radius)
        passed = all(p.passed for p in parts)
        verdict = Verdict(cfg.target, cfg.model, version, passed, tuple(parts), counts)
        with conn.transaction():
            for part in parts:
                record(conn, cfg.target, cfg.model, version, part, run_id)
            record(
                conn,
                cfg.target,
                cfg.model,
                version,
                GatePart(
                    "gate",
                    passed,
                    verdict.summary,
                    {"parts": {p.gate: p.passed for p in parts}},
                ),
                run_id,
            )
    return verdict
