"""``SlaChecksComponent``: freshness and SLA breaches as asset checks an operator can act on.

One block of YAML (``defs/operations/defs.yaml``) gives:

* ``freshness`` on every ``raw/<system>__<stream>``: its last successful load (``ops.
  ingest_batches``) is within the stream's SLA (``freshness_minutes`` in the system's
  ``defs.yaml``; :mod:`dagster_project.hub.slas`), the same rule as the freshness
  part of every publish gate, so a stale source fails its check and holds what it feeds;
* ``freshness`` on every dbt model with ``meta.freshness_sla_minutes`` (its ``config()``, else
  its folder's in ``dbt_project.yml``):
  it was built within its SLA (its last materialization);
* ``sla`` on each declared reconciliation mart: no discrepancy is older than its SLA; the
  failure says what, where and for how long ("240 shipment confirmations from DC-EAST not
  posted to ERP for 2 h");
* ``delivery`` on every ``deliver/<target>``: no open dead letter and no message waiting in
  the outbox longer than ``ops_outbound_sla_minutes`` (dbt_project.yml's vars, also used by
  ``marts.ops_sync_health``);
* a job of all of them and a schedule (``sla_checks_<cadence>``) that runs it, so a feed
  that stops arriving is noticed even when nothing runs.

The checks also run with their asset (an ingest, a dbt build, a delivery), so the UI shows
the state after every run. None blocks: the publish gate is what holds a delivery.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import psycopg
from psycopg import sql
from pydantic import BaseModel, Field

from dagster_project.components.system import cadence_name
from dagster_project.hub.freshness import feed_ages
from dagster_project.hub.resource import HubDatabase
from dagster_project.hub.slas import describe_minutes, first_few, model_sla_minutes
from dagster_project.ingest.slas import declared_slas
from dagster_project.publish.targets import declared_targets
from dagster_project.transform.project import outbound_sla_minutes


class ReconSla(BaseModel):
    """How to word the breaches of one reconciliation mart."""

    model: str = Field(description="The mart (marts.<model>), with sla_status per row.")
    what: str | None = Field(
        None, description="What a row is, plural ('storefront orders'); not with message."
    )
    problem: str = Field("discrepancy", description="The column naming the discrepancy.")
    where: str | None = Field(None, description="The column naming the system or location.")
    message: str | None = Field(
        None,
        description="A column that already holds the sentence (rows grouped in the mart, "
        "e.g. recon_shipments_by_warehouse.message); breached rows are quoted as they are.",
    )


def _words(code: str) -> str:
    """missing_in_erp → 'missing in ERP'."""
    upper = {"erp": "ERP", "wms": "WMS", "asn": "ASN", "po": "PO", "sku": "SKU"}
    return " ".join(upper.get(w, w) for w in str(code).split("_"))


def recon_breaches(conn: psycopg.Connection, recon: ReconSla) -> tuple[int, list[str]]:
    """(rows in breach, one sentence per group) for one reconciliation mart."""
    table = sql.Identifier("marts", recon.model)
    if recon.message:
        rows = conn.execute(
            sql.SQL(
                "select {m} from {t} where sla_status = 'breached' order by {m} limit 50"
            ).format(m=sql.Identifier(recon.message), t=table)
        ).fetchall()
        return len(rows), [r[0] for r in rows]
    where = sql.Identifier(recon.where) if recon.where else sql.SQL("null::text")
    rows = conn.execute(
        sql.SQL(
            """select {problem}::text, {where}::text, count(*), max(age_hours), max(sla_hours)
                 from {t} where sla_status = 'breached'
                group by 1, 2 order by count(*) desc, 1, 2"""
        ).format(problem=sql.Identifier(recon.problem), where=where, t=table)
    ).fetchall()
    lines = []
    for problem, place, count, oldest, sla_hours in rows:
        what = recon.what or "rows"
        lines.append(
            f"{count} {what}{' at ' + place if place else ''} {_words(problem)} for "
            f"{describe_minutes(float(oldest) * 60)}"
            + (f" (SLA {describe_minutes(float(sla_hours) * 60)})" if sla_hours else "")
        )
    return sum(r[2] for r in rows), lines


def model_slas() -> dict[dg.AssetKey, int]:
    """Every dbt model with a freshness SLA (meta.freshness_sla_minutes) → its SLA."""
    import json

    from dagster_project.transform.project import ensure_manifest
    from dagster_project.transform.translator import DistrohubDbtTranslator

    translator = DistrohubDbtTranslator()
    manifest = json.loads(ensure_manifest().read_text())
    out: dict[dg.AssetKey, int] = {}
    for node in manifest["nodes"].values():
        minutes = model_sla_minutes(node)
        if minutes:
            out[translator.get_asset_key(node)] = minutes
    return out


class SlaChecksComponent(dg.Component, dg.Model, dg.Resolvable):
    """Freshness, reconciliation and delivery SLAs as asset checks, and their schedule."""

    schedule: str = Field("*/5 * * * *", description="Cron of the job that runs every check.")
    automation: str = Field("running", description="The schedule: running or stopped.")
    reconciliation: list[ReconSla] = Field(default_factory=list)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        checks = [
            self._source_freshness(),
            self._model_freshness(),
            self._reconciliation(),
            self._delivery(),
        ]
        checks = [c for c in checks if c is not None]
        keys = [key for c in checks for key in c.check_keys]
        job = dg.define_asset_job(
            "sla_checks",
            selection=dg.AssetSelection.checks(*keys),
            description="Every freshness, reconciliation and delivery SLA check.",
        )
        schedule = dg.ScheduleDefinition(
            name=f"sla_checks_{cadence_name(self.schedule)}",
            job=job,
            cron_schedule=self.schedule,
            default_status=dg.DefaultScheduleStatus.RUNNING
            if self.automation == "running"
            else dg.DefaultScheduleStatus.STOPPED,
            description="Runs every SLA check, so a feed that stops arriving or a discrepancy "
            "that ages past its SLA is reported even when nothing else runs.",
        )
        return dg.Definitions(asset_checks=checks, jobs=[job], schedules=[schedule])

    # ------------------------------------------------------------------ sources
    def _source_freshness(self) -> dg.AssetChecksDefinition:
        slas = declared_slas()
        by_key = {dg.AssetKey(["raw", f"{s}__{t}"]): (s, t) for s, t in slas}
        specs = [
            dg.AssetCheckSpec(
                "freshness",
                asset=key,
                description=f"The last successful load of {system} {stream} is at most "
                f"{describe_minutes(slas[(system, stream)])} old (its SLA in defs.yaml).",
            )
            for key, (system, stream) in sorted(by_key.items(), key=lambda kv: kv[0].path)
        ]

        @dg.multi_asset_check(specs=specs, name="source_freshness", can_subset=True)
        def source_freshness(
            context: dg.AssetCheckExecutionContext, hub: HubDatabase
        ) -> Iterator[dg.AssetCheckResult]:
            chosen = {by_key[k.asset_key] for k in context.selected_asset_check_keys}
            with hub.connect() as conn:
                feeds = feed_ages(conn, {s: slas[s] for s in chosen})
            for feed in feeds:
                text = feed.describe()
                yield dg.AssetCheckResult(
                    asset_key=dg.AssetKey(["raw", f"{feed.system}__{feed.stream}"]),
                    check_name="freshness",
                    passed=not feed.stale,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=text + (f". {feed.remedy()}" if feed.stale else ""),
                    metadata={
                        "sla_minutes": feed.sla_minutes,
                        "age_minutes": round(feed.age_minutes, 1)
                        if feed.age_minutes is not None
                        else None,
                        "last_success": str(feed.last_success or "never"),
                        "last_error": (feed.last_error or "")[:500] if feed.failing else "",
                    },
                )

        return source_freshness

    # ------------------------------------------------------------------ models
    def _model_freshness(self) -> dg.AssetChecksDefinition | None:
        slas = model_slas()
        if not slas:
            return None
        specs = [
            dg.AssetCheckSpec(
                "freshness",
                asset=key,
                description=f"{key.to_user_string()} was built at most "
                f"{describe_minutes(minutes)} ago (meta.freshness_sla_minutes: the model's "
                "config(), else its folder's in dbt_project.yml).",
            )
            for key, minutes in sorted(slas.items(), key=lambda kv: kv[0].path)
        ]

        @dg.multi_asset_check(specs=specs, name="model_freshness", can_subset=True)
        def model_freshness(
            context: dg.AssetCheckExecutionContext,
        ) -> Iterator[dg.AssetCheckResult]:
            keys = sorted({k.asset_key for k in context.selected_asset_check_keys}, key=str)
            latest = context.instance.get_latest_materialization_events(keys)
            now = datetime.now(UTC).timestamp()
            for key in keys:
                sla = slas[key]
                event = latest.get(key)
                name = key.to_user_string()
                if event is None:
                    passed, text, age = (
                        False,
                        f"{name} was never built (SLA {describe_minutes(sla)})",
                        None,
                    )
                else:
                    age = (now - event.timestamp) / 60
                    passed = age <= sla
                    text = (
                        f"{name} was built {describe_minutes(age)} ago "
                        f"(SLA {describe_minutes(sla)})"
                    )
                if not passed:
                    text += (
                        ". Look at the schedules and sensors that rebuild it (Automation in the "
                        "UI) and the last runs of distrohub_dbt; materialize it to catch up"
                    )
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name="freshness",
                    passed=passed,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=text,
                    metadata={
                        "sla_minutes": sla,
                        "age_minutes": round(age, 1) if age is not None else None,
                    },
                )

        return model_freshness

    # ------------------------------------------------------------------ reconciliation
    def _reconciliation(self) -> dg.AssetChecksDefinition | None:
        if not self.reconciliation:
            return None
        recons = {dg.AssetKey(["marts", r.model]): r for r in self.reconciliation}
        specs = [
            dg.AssetCheckSpec(
                "sla",
                asset=key,
                description=f"No discrepancy in marts.{r.model} is older than its SLA "
                "(recon_sla_hours in dbt_project.yml).",
            )
            for key, r in recons.items()
        ]

        @dg.multi_asset_check(specs=specs, name="reconciliation_slas", can_subset=True)
        def reconciliation_slas(
            context: dg.AssetCheckExecutionContext, hub: HubDatabase
        ) -> Iterator[dg.AssetCheckResult]:
            keys = sorted({k.asset_key for k in context.selected_asset_check_keys}, key=str)
            with hub.connect() as conn:
                for key in keys:
                    recon = recons[key]
                    try:
                        count, lines = recon_breaches(conn, recon)
                    except psycopg.errors.UndefinedTable:
                        conn.rollback()
                        yield dg.AssetCheckResult(
                            asset_key=key,
                            check_name="sla",
                            passed=False,
                            severity=dg.AssetCheckSeverity.WARN,
                            description=f"marts.{recon.model} does not exist yet: materialize "
                            f"marts/{recon.model}.",
                        )
                        continue
                    yield dg.AssetCheckResult(
                        asset_key=key,
                        check_name="sla",
                        passed=count == 0,
                        severity=dg.AssetCheckSeverity.ERROR,
                        description=first_few(lines) if lines else "no discrepancy past its SLA",
                        metadata={
                            "breached_rows": count,
                            "breaches": dg.MetadataValue.md(
                                "\n".join(f"- {line}" for line in lines[:50]) or "none"
                            ),
                        },
                    )

        return reconciliation_slas

    # ------------------------------------------------------------------ delivery
    def _delivery(self) -> dg.AssetChecksDefinition | None:
        targets = sorted(declared_targets())
        if not targets:
            return None
        sla = outbound_sla_minutes()
        specs = [
            dg.AssetCheckSpec(
                "delivery",
                asset=dg.AssetKey(["deliver", t]),
                description=f"No open dead letter for {t} and no message waiting in the outbox "
                f"longer than {describe_minutes(sla)}.",
            )
            for t in targets
        ]

        @dg.multi_asset_check(specs=specs, name="delivery_slas", can_subset=True)
        def delivery_slas(
            context: dg.AssetCheckExecutionContext, hub: HubDatabase
        ) -> Iterator[dg.AssetCheckResult]:
            chosen = sorted({k.asset_key.path[-1] for k in context.selected_asset_check_keys})
            with hub.connect() as conn:
                for target in chosen:
                    problems = delivery_problems(conn, target, sla)
                    yield dg.AssetCheckResult(
                        asset_key=dg.AssetKey(["deliver", target]),
                        check_name="delivery",
                        passed=not problems,
                        severity=dg.AssetCheckSeverity.ERROR,
                        description=first_few(problems)
                        if problems
                        else f"nothing dead, nothing waiting longer than {describe_minutes(sla)}",
                        metadata={"problems": len(problems)},
                    )

        return delivery_slas


def delivery_problems(conn: psycopg.Connection, target: str, sla_minutes: int) -> list[str]:
    """Sentences for a target's open dead letters and overdue outbox messages, per system."""
    lines = []
    dead = conn.execute(
        """select system, count(*), string_agg(distinct error_code, ', ' order by error_code),
                  extract(epoch from now() - min(failed_at)) / 60
             from ops.dead_letter where target = %s and resolved_at is null
            group by system order by system""",
        (target,),
    ).fetchall()
    for system, count, codes, oldest in dead:
        lines.append(
            f"{count} {target} message{'s' if count != 1 else ''} to {system} dead ({codes}), "
            f"oldest {describe_minutes(float(oldest))}: `distrohub dlq list --target {target}`, "
            f"fix the cause, then `distrohub dlq retry --target {target}`"
        )
    waiting = conn.execute(
        """select system, count(*), extract(epoch from now() - min(enqueued_at)) / 60
             from ops.outbox
            where target = %s and status = 'pending'
              and enqueued_at < now() - make_interval(mins => %s)
            group by system order by system""",
        (target, sla_minutes),
    ).fetchall()
    for system, count, oldest in waiting:
        lines.append(
            f"{count} {target} message{'s' if count != 1 else ''} to {system} not delivered "
            f"for {describe_minutes(float(oldest))} (SLA {describe_minutes(sla_minutes)}): is "
            f"{system} reachable? Materialize deliver/{target} to send them now"
        )
    return lines
