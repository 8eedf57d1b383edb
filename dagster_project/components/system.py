"""``SystemComponent``: one block of YAML per system instance → its ingest assets, schedules
and sensors.

Example (``defs/systems/storefronts/defs.yaml``)::

    type: dagster_project.components.system.SystemComponent
    attributes:
      system: shopify_b2b
      webhook_path: shopify/b2b
      kind: shopify
      url_env: DISTROHUB_SHOPIFY_B2B_URL
      credentials: {token: DISTROHUB_SHOPIFY_B2B_TOKEN}
      pool: shopify_b2b
      streams:                      # overrides of the kind's streams, by name
        - {name: orders, schedule: "*/5 * * * *"}
      disabled_streams: [locations]

The block holds only what is the instance's own; the streams and kind-wide settings come
from its kind's template, ``defs/kinds/shopify.yaml``, merged by
:func:`dagster_project.ingest.declarations.resolve_block` (rules there and in
``dagster_project/defs/kinds/README.md``). Each stream becomes the asset
``raw/<system>__<stream>`` (group ``<system>``, pool ``<pool>``) that lands into the table of
the same name. Adding a second
storefront or warehouse is another block like this one: no Python.
"""

import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, ConfigDict

from dagster_project.connectors.base import StreamConfig
from dagster_project.connectors.http import AuthenticationFailed, HttpError, HttpStatusError
from dagster_project.hub.resource import HubDatabase
from dagster_project.hub.slas import freshness_policy, sla_minutes
from dagster_project.ingest.declarations import SystemDeclaration, resolve_block
from dagster_project.ingest.files import sync_folder
from dagster_project.ingest.readers import ConfigurationError, open_reader
from dagster_project.ingest.sync import sync_stream
from dagster_project.ingest.validation import SchemaDrift

KIND_LABELS = {
    "tryton": "tryton",
    "shopify": "shopify",
    "wms_rest": "rest",
    "file_drop_3pl": "csv",
    "file_drop_csv": "csv",
    "carrier_webhook": "webhook",
    "x12_supplier": "x12",
    "smtp": "smtp",
}


@contextmanager
def as_dagster_failure(where: str) -> Iterator[None]:
    """Turn an ingest error into a Dagster failure that says where, and whether to retry.

    Configuration errors, refused credentials, schema drift and refusals (4xx other
    than 429) will not change by themselves, so Dagster's retry policy is skipped;
    a system that is down or slow (transport errors, 5xx after the client's own
    retries, an OS error) may be retried.
    """
    try:
        yield
    except (AuthenticationFailed, SchemaDrift, ConfigurationError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except HttpStatusError as exc:
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise dg.Failure(description=f"{where}: {exc}", allow_retries=not permanent) from exc
    except (HttpError, OSError) as exc:
        raise dg.Failure(description=f"{where}: {exc}") from exc


FOLDER_KINDS = ("x12_supplier", "file_drop_3pl", "file_drop_csv")

CADENCES = {
    "*/5 * * * *": "every_5_minutes",
    "*/15 * * * *": "every_15_minutes",
    "0 * * * *": "hourly",
    "0 2 * * *": "nightly",
}


def cadence_name(cron: str) -> str:
    """A readable schedule name for a cron expression."""
    if cron in CADENCES:
        return CADENCES[cron]
    slug = "".join(c if c.isalnum() else "_" for c in cron.replace("*", "x"))
    return f"cron_{slug}".strip("_")


class _Block(BaseModel):
    """A block as written (any fields): :func:`resolve_block` checks every one of them, with
    the file, the system and what is allowed in its message, after merging the kind's template."""

    model_config = ConfigDict(extra="allow")


class SystemComponent(dg.Component, SystemDeclaration, dg.Resolvable):
    """A system instance (ERP, storefront, WMS, 3PL, carrier, supplier) and its streams.

    Built from YAML, its block is first merged onto its kind's template
    (``defs/kinds/<kind>.yaml``; :mod:`dagster_project.ingest.declarations`); built in
    Python (tests), it takes the resolved declaration as is."""

    @classmethod
    def get_model_cls(cls) -> type[BaseModel]:
        return _Block

    @classmethod
    def load(cls, attributes: BaseModel | None, context: dg.ComponentLoadContext):
        where = context.path / "defs.yaml" if context.path.is_dir() else context.path
        declaration = resolve_block(
            attributes.model_dump() if attributes is not None else {}, str(where)
        )
        resolved = cls.model()(**declaration.model_dump(exclude_unset=True))
        return super().load(resolved, context)

    # ------------------------------------------------------------------ defs
    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        if self.kind in FOLDER_KINDS:
            assets = [self._folder_assets()]
        else:
            assets = [self._asset(stream) for stream in self.streams]
        return dg.Definitions(assets=assets, schedules=self._schedules(), sensors=self._sensors())

    def sla_minutes(self, stream: StreamConfig) -> int:
        """The stream's freshness SLA (its own, else the system's, else the kind's)."""
        return sla_minutes(self.kind, self.freshness_minutes, stream.freshness_minutes)

    def asset_key(self, stream: StreamConfig) -> dg.AssetKey:
        return dg.AssetKey(["raw", f"{self.system}__{stream.name}"])

    def _asset(self, stream: StreamConfig) -> dg.AssetsDefinition:
        config = self.config
        kind = self.kind
        trigger = (
            ", ".join(
                t
                for t in (
                    f"schedule {stream.schedule}" if stream.schedule else "",
                    f"webhooks {', '.join(stream.webhook_topics + stream.trigger_topics)}"
                    if stream.webhook_topics or stream.trigger_topics
                    else "",
                    "drop folder sensor" if stream.drop_folder else "",
                )
                if t
            )
            or "on demand"
        )

        @dg.asset(
            key=self.asset_key(stream),
            group_name=self.system,
            kinds={KIND_LABELS[kind], "postgres"},
            pool=self.pool or self.system,
            description=(
                f"{stream.name} from {self.system} ({kind}), landed as received in "
                f"raw.{self.system}__{stream.name} (key {', '.join(stream.primary_key)}"
                f"{', cursor ' + stream.cursor_field if stream.cursor_field else ''}). "
                f"Triggered by {trigger}."
            ),
            retry_policy=dg.RetryPolicy(
                max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
            ),
            metadata={
                "system": self.system,
                "stream": stream.name,
                "kind": kind,
                "freshness_sla_minutes": self.sla_minutes(stream),
            },
            freshness_policy=freshness_policy(self.sla_minutes(stream)),
        )
        def _ingest(context: dg.AssetExecutionContext, hub: HubDatabase) -> dg.MaterializeResult:
            with as_dagster_failure(f"{config.system} {stream.name}"):
                with open_reader(config, stream) as reader, hub.connect() as conn:
                    result = sync_stream(
                        conn, config.system, kind, stream, reader, progress=context.log.info
                    )
            return dg.MaterializeResult(metadata=result.metadata())

        return _ingest

    def _folder_assets(self) -> dg.AssetsDefinition:
        """One step reads the drop folder once and lands every stream it declares."""
        config = self.config
        streams = list(self.streams)
        specs = [
            dg.AssetSpec(
                key=self.asset_key(s),
                group_name=self.system,
                kinds={KIND_LABELS[self.kind], "postgres"},
                description=(
                    f"{s.name} from {self.system}'s drop folder ({self.kind}): "
                    + (
                        f"X12 {s.params['transaction_set']} documents"
                        if s.params.get("transaction_set")
                        else f"files {s.params.get('pattern')}"
                    )
                    + f", landed in raw.{self.system}__{s.name}, keyed by "
                    f"{', '.join(s.primary_key)}. Files are archived when loaded, quarantined "
                    "with the reason when unreadable."
                ),
                metadata={
                    "system": self.system,
                    "stream": s.name,
                    "kind": self.kind,
                    "freshness_sla_minutes": self.sla_minutes(s),
                },
                freshness_policy=freshness_policy(self.sla_minutes(s)),
            )
            for s in streams
        ]

        @dg.multi_asset(
            name=f"{self.system}__files",
            specs=specs,
            pool=self.pool or self.system,
            retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
        )
        def _files(context: dg.AssetExecutionContext, hub: HubDatabase):
            with as_dagster_failure(config.system), hub.connect() as conn:
                result = sync_folder(conn, config, streams, context.log.info)
            for s in streams:
                yield dg.MaterializeResult(
                    asset_key=self.asset_key(s),
                    metadata={
                        **result.counts[s.name].as_dict(),
                        "files_loaded": result.files_loaded,
                        "files_quarantined": result.files_quarantined,
                        "files_already_loaded": result.files_already_loaded,
                        "acknowledgments_sent": result.acknowledgments,
                        "cursor": result.last_file or "(no new file)",
                        "lag_seconds": result.lag_seconds,
                        "batch_id": result.batch_ids[s.name],
                    },
                )

        return _files

    def _job(self, name: str, streams: list[StreamConfig]):
        return dg.define_asset_job(
            name=name, selection=dg.AssetSelection.assets(*[self.asset_key(s) for s in streams])
        )

    def _status(self) -> dg.DefaultScheduleStatus:
        return (
            dg.DefaultScheduleStatus.RUNNING
            if self.automation == "running"
            else dg.DefaultScheduleStatus.STOPPED
        )

    def _schedules(self) -> list[dg.ScheduleDefinition]:
        by_cron: dict[str, list[StreamConfig]] = defaultdict(list)
        for stream in self.streams:
            if stream.schedule:
                by_cron[stream.schedule].append(stream)
        schedules = []
        for cron, streams in sorted(by_cron.items()):
            name = f"{self.system}_{cadence_name(cron)}"
            schedules.append(
                dg.ScheduleDefinition(
                    name=name,
                    job=self._job(f"{name}_job", streams),
                    cron_schedule=cron,
                    default_status=self._status(),
                    description=f"Syncs {', '.join(s.name for s in streams)} from {self.system}.",
                )
            )
        return schedules

    def _sensors(self) -> list[dg.SensorDefinition]:
        sensors = []
        webhook_streams = [s for s in self.streams if s.webhook_topics or s.trigger_topics]
        if webhook_streams:
            sensors.append(self._webhook_sensor(webhook_streams))
        folder_streams = [s for s in self.streams if s.drop_folder]
        if folder_streams:
            sensors.append(self._folder_sensor(folder_streams))
        return sensors

    def _sensor_status(self) -> dg.DefaultSensorStatus:
        return (
            dg.DefaultSensorStatus.RUNNING
            if self.automation == "running"
            else dg.DefaultSensorStatus.STOPPED
        )

    def _webhook_sensor(self, streams: list[StreamConfig]) -> dg.SensorDefinition:
        system = self.system
        topic_to_keys: dict[str, list[dg.AssetKey]] = defaultdict(list)
        for stream in streams:
            for topic in (*stream.webhook_topics, *stream.trigger_topics):
                topic_to_keys[topic].append(self.asset_key(stream))

        @dg.sensor(
            name=f"{system}_webhooks",
            job=self._job(f"{system}_webhooks_job", streams),
            minimum_interval_seconds=5,
            default_status=self._sensor_status(),
            description=f"Launches a sync of {system}'s streams when ops.webhook_inbox has new "
            "deliveries for them (one run per new batch of deliveries; the run key dedups).",
        )
        def _sensor(context: dg.SensorEvaluationContext, hub: HubDatabase):
            after = int(context.cursor or 0)
            with hub.connect() as conn:
                rows = conn.execute(
                    """select topic, max(id), count(*) from ops.webhook_inbox
                        where source = %s and id > %s and processed_at is null
                          and topic = any(%s)
                        group by topic""",
                    (system, after, list(topic_to_keys)),
                ).fetchall()
            if not rows:
                return dg.SkipReason(f"no new webhook deliveries from {system}")
            newest = max(r[1] for r in rows)
            keys = sorted(
                {k for topic, _, _ in rows for k in topic_to_keys[topic]},
                key=lambda k: k.to_user_string(),
            )
            context.update_cursor(str(newest))
            count = sum(r[2] for r in rows)
            return dg.RunRequest(
                run_key=f"{system}:inbox:{newest}",
                asset_selection=keys,
                tags={"distrohub/trigger": "webhook", "distrohub/deliveries": str(count)},
            )

        return _sensor

    def _folder_sensor(self, streams: list[StreamConfig]) -> dg.SensorDefinition:
        system = self.system
        folder_env = self.folder_env

        @dg.sensor(
            name=f"{system}_drop_folder",
            job=self._job(f"{system}_files_job", streams),
            minimum_interval_seconds=15,
            default_status=self._sensor_status(),
            description=f"Launches a load of {system}'s drop folder when new files arrive.",
        )
        def _sensor(context: dg.SensorEvaluationContext):
            folder = os.environ.get(folder_env or "")
            if not folder or not Path(folder).is_dir():
                return dg.SkipReason(f"{system}: drop folder {folder_env} is not set or missing")
            files = sorted(
                (p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith(".")),
                key=lambda p: (p.stat().st_mtime_ns, p.name),
            )
            if not files:
                return dg.SkipReason(f"{system}: no files waiting in {folder}")
            marker = f"{files[-1].stat().st_mtime_ns}:{files[-1].name}:{len(files)}"
            if marker == context.cursor:
                return dg.SkipReason(f"{system}: the {len(files)} files were already picked up")
            context.update_cursor(marker)
            return dg.RunRequest(
                run_key=f"{system}:files:{marker}", tags={"distrohub/trigger": "drop_folder"}
            )

        return _sensor
