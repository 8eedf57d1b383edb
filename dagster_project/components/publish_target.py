"""``PublishTargetComponent``: one block of YAML per publish target → its gate, its delivery
asset and its sensor.

Example (``defs/publish/defs.yaml``)::

    type: dagster_project.components.publish_target.PublishTargetComponent
    attributes:
      target: storefront_inventory
      publish_model: storefront_inventory
      key_columns: [record_key]
      system_column: system
      transport: shopify_inventory_levels
      blast_radius: {max_changed_share: 0.5, zero_column: available}
      pool: publish_storefronts

becomes

* ``gate``, a blocking asset check on ``publish/<model>``: dbt tests, the GX suite, source
  freshness and the blast radius for the model's current data version (a failed gate stops
  the delivery in the same run, and is recorded so a delivery in another run refuses too);
* ``deliver/<target>`` (group ``deliver``, pool ``<pool>``): re-verifies the gate for the
  exact rows, diffs against ``ops.published_state``, enqueues into ``ops.outbox`` and
  delivers;
* ``<target>_on_new_version``, a sensor that launches the delivery when the publish model has
  a new materialization, or when messages waiting for a retry are due;
* with ``drift: {mode, schedule}``, ``drift_sweep__<target>``, a schedule of the job
  ``drift_sweep__<target>_job``: the raw streams the target's own feed (the loop suppression
  relation) reads, that feed's staging view, then ``deliver/<target>``, so the diff compares
  the desired state with the target's live state read moments before (drift: publish/diff.py).
  The delivery asset depends on that staging view (it reads it), which orders the steps.
"""

import json
from typing import Any

import dagster as dg
from pydantic import Field

from dagster_project.components.automation import DeclaredSelection
from dagster_project.hub.resource import HubDatabase
from dagster_project.publish.targets import TargetConfig
from dagster_project.publish.transports.base import TransportConfigError

TRANSPORT_KINDS = {
    "shopify_inventory_levels": "shopify",
    "shopify_variant_prices": "shopify",
    "shopify_fulfillments": "shopify",
    "tryton_sales_orders": "tryton",
    "wms_releases": "rest",
    "x12_940": "x12",
    "x12_850": "x12",
    "tryton_sale_cancels": "tryton",
    "wms_release_cancels": "rest",
    "x12_940_cancel": "x12",
}


class PublishTargetComponent(dg.Component, dg.Model, dg.Resolvable):
    """A publish target: a publish model, its gate and its delivery (see publish/targets.py)."""

    target: str
    publish_model: str
    description: str = ""
    key_columns: list[str]
    lines_order_by: list[str] | None = None
    system: str | None = None
    system_column: str | None = None
    transport: str | dict[str, str]
    hold_column: str | None = None
    on_remove: str = "ignore"
    blast_radius: dict[str, Any] = Field(default_factory=dict)
    freshness: dict[str, Any] = Field(default_factory=dict)
    loop_suppression: dict[str, Any] | None = None
    batch_size: int = 50
    max_attempts: int = 5
    retry_backoff_seconds: float = 30.0
    pool: str | None = None
    narrow: dict[str, Any] | None = Field(
        None, description="The narrow path: column, models, scope, streams (publish/targets.py)."
    )
    drift: dict[str, Any] | None = Field(
        None, description="Drift sweep: mode (correct or report), schedule (publish/targets.py)."
    )
    automation: str = Field("running", description="The sensor and schedule: running or stopped.")

    @property
    def config(self) -> TargetConfig:
        fields = self.model_dump(exclude={"automation"})
        for optional in ("loop_suppression", "narrow", "drift"):
            if fields[optional] is None:
                fields.pop(optional)
        return TargetConfig(**fields)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        cfg = self.config
        model_key = dg.AssetKey(["publish", cfg.model])
        deliver_key = dg.AssetKey(["deliver", cfg.target])
        transports = (
            [cfg.transport] if isinstance(cfg.transport, str) else list(cfg.transport.values())
        )
        kinds = {TRANSPORT_KINDS.get(t, "api") for t in transports}
        # the target's own feed (a staging view), which the diff reads for loop suppression and
        # drift: a dependency of the delivery, so a job with both runs the feed first
        live_key = (
            dg.AssetKey(cfg.loop_suppression.relation.split("."))
            if cfg.loop_suppression is not None and cfg.drift is not None
            else None
        )

        @dg.asset_check(
            asset=model_key,
            name="gate",
            blocking=True,
            description=(
                f"The publish gate of {cfg.target}: dbt tests, the GX suite publish.{cfg.model} "
                "(expectations/), source freshness (every raw stream it reads loaded within "
                + (
                    f"{cfg.freshness.max_age_minutes} min"
                    if cfg.freshness.max_age_minutes
                    else "its SLA"
                )
                + ") and the blast radius (at most "
                f"{cfg.blast_radius.max_changed_share:.0%} of published records changed). "
                "Failing it holds the delivery."
            ),
        )
        def _gate(context: dg.AssetCheckExecutionContext, hub: HubDatabase) -> dg.AssetCheckResult:
            from dagster_project.publish.gate import evaluate

            verdict = evaluate(hub.url, cfg, run_id=context.run.run_id)
            context.log.info(verdict.summary)
            return dg.AssetCheckResult(
                passed=verdict.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                description=verdict.summary,
                metadata={
                    "data_version": verdict.data_version,
                    **{
                        f"{p.gate}": ("passed: " if p.passed else "HELD: ") + p.summary
                        for p in verdict.parts
                    },
                    "report": dg.MetadataValue.md(verdict.markdown),
                },
            )

        @dg.asset(
            key=deliver_key,
            deps=[model_key, *([live_key] if live_key else [])],
            group_name="deliver",
            kinds=kinds | {"postgres"},
            pool=cfg.pool or f"publish_{cfg.target}",
            description=(
                f"{cfg.description or cfg.target} Re-verifies the gate for the exact rows of "
                f"publish.{cfg.model}, sends only what changed since ops.published_state "
                "(through ops.outbox, one idempotency key per message), retries with backoff "
                f"and makes a dead letter after {cfg.max_attempts} attempts."
            ),
            metadata={"target": cfg.target, "model": f"publish.{cfg.model}"},
        )
        def _deliver(context: dg.AssetExecutionContext, hub: HubDatabase) -> dg.MaterializeResult:
            from dagster_project.publish.run import PublishRefused, publish

            try:
                result = publish(hub.url, cfg, run_id=context.run.run_id, log=context.log.info)
            except PublishRefused as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from exc
            except TransportConfigError as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from exc
            delivery = result.delivery
            if delivery is not None and delivery.dead:
                context.log.warning(
                    f"{cfg.target}: {len(delivery.dead)} dead letters (distrohub dlq list "
                    f"--target {cfg.target}): " + "; ".join(delivery.dead[:5])
                )
            if result.counts.drift and cfg.drift is not None:
                context.log.warning(
                    f"{cfg.target}: {result.counts.drift} records drifted at the target (its "
                    f"own feed differs from what we told it), drift mode {cfg.drift.mode}: "
                    "recorded in ops.drift_corrections"
                )
            return dg.MaterializeResult(metadata=result.metadata())

        @dg.sensor(
            name=f"{cfg.target}_on_new_version",
            asset_selection=[deliver_key],
            minimum_interval_seconds=30,
            default_status=(
                dg.DefaultSensorStatus.RUNNING
                if self.automation == "running"
                else dg.DefaultSensorStatus.STOPPED
            ),
            description=(
                f"Launches deliver/{cfg.target} when publish/{cfg.model} has a new "
                "materialization, or when messages waiting for a retry are due."
            ),
        )
        def _sensor(context: dg.SensorEvaluationContext, hub: HubDatabase):
            state = json.loads(context.cursor or "{}")
            found = context.instance.fetch_materializations(model_key, limit=1)
            newest = found.records[0].storage_id if found.records else None
            if newest is not None and newest != state.get("version"):
                state["version"] = newest
                context.update_cursor(json.dumps(state))
                return dg.RunRequest(
                    run_key=f"{cfg.target}:version:{newest}",
                    tags={"distrohub/trigger": "new_version", "distrohub/target": cfg.target},
                )
            with hub.connect() as conn:
                row = conn.execute(
                    """select count(*), max(id), coalesce(sum(attempts), 0) from ops.outbox
                        where target = %s and status = 'pending' and next_attempt_at <= now()""",
                    (cfg.target,),
                ).fetchone()
            if row and row[0]:
                marker = f"{row[1]}:{row[2]}"
                if marker != state.get("due"):
                    state["due"] = marker
                    context.update_cursor(json.dumps(state))
                    return dg.RunRequest(
                        run_key=f"{cfg.target}:due:{marker}",
                        tags={"distrohub/trigger": "retry_due", "distrohub/target": cfg.target},
                    )
            return dg.SkipReason(
                f"{cfg.target}: no new version of publish.{cfg.model}, no retry due"
            )

        schedules = []
        if cfg.drift is not None and live_key is not None:
            schedules.append(self._drift_sweep(cfg, live_key, deliver_key))
        return dg.Definitions(
            assets=[_deliver], asset_checks=[_gate], sensors=[_sensor], schedules=schedules
        )

    def _drift_sweep(
        self, cfg: TargetConfig, live_key: dg.AssetKey, deliver_key: dg.AssetKey
    ) -> dg.ScheduleDefinition:
        """The drift sweep: read the target's own feed afresh (its raw streams and staging
        view), then diff and deliver (publish/diff.py finds the drift)."""
        assert cfg.drift is not None
        name = f"drift_sweep__{cfg.target}"
        live, deliver = live_key.to_user_string(), deliver_key.to_user_string()
        select = f'(+key:"{live}" and key:"raw/*") or key:"{live}" or key:"{deliver}"'
        description = (
            f"Drift sweep of {cfg.target} (mode {cfg.drift.mode}): reads the target's own feed "
            f"(the raw streams of {live} and the view), then runs {deliver}, whose diff "
            "finds records the target holds otherwise than we told it (read after our last "
            "send) and "
            + (
                "sends the desired value again through the gate and outbox"
                if cfg.drift.mode == "correct"
                else "records them in ops.drift_corrections without sending"
            )
            + "."
        )
        job = dg.define_asset_job(
            name=f"{name}_job",
            selection=DeclaredSelection(
                f"drift sweep of publish target {cfg.target}", {"select": select}, target="select"
            ),
            description=description,
            tags={"distrohub/trigger": "drift_sweep", "distrohub/target": cfg.target},
        )
        return dg.ScheduleDefinition(
            name=name,
            job=job,
            cron_schedule=cfg.drift.schedule,
            execution_timezone="UTC",
            default_status=(
                dg.DefaultScheduleStatus.RUNNING
                if self.automation == "running"
                else dg.DefaultScheduleStatus.STOPPED
            ),
            description=description,
        )
