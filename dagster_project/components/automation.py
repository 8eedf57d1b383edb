"""``AutomationComponent``: when the dbt models are rebuilt, declared in YAML.

The ingest assets bring each system's data in on their own schedules and sensors
(``SystemComponent``); the publish sensors deliver a publish model once it has a new
version (``PublishTargetComponent``). This component declares the part between: which
models are rebuilt, on a clock or when their inputs land.

Example (``defs/automation/defs.yaml``)::

    type: dagster_project.components.automation.AutomationComponent
    attributes:
      schedules:
        - name: prices_hourly
          cron: "10 * * * *"
          select: '+key:"publish/storefront_prices" and kind:dbt'
      sensors:
        - name: availability_on_stock_events
          when: 'key:"raw/wms_*__stock"'
          refresh: 'key:"raw/wms_*__stock"+ and +key:"publish/storefront_inventory" and kind:dbt'

becomes

* per schedule, the asset job ``<name>_job`` over ``select`` and the schedule ``<name>``;
* per sensor, the asset job ``<name>_job`` over ``refresh`` and the sensor ``<name>``: it
  requests one run of ``refresh`` when any asset in ``when`` has a materialization newer
  than the one it last saw (its cursor keeps the event-log storage id per asset key, the
  run key is the newest id, so a re-evaluation never launches the same refresh twice).
  With no cursor yet (a new sensor), every watched asset that has a materialization counts
  as new: the first evaluation catches the models up once.

Selections are Dagster's selection syntax (``AssetSelection.from_string``): ``key:"a/b*"``
(globs on the whole key), ``group:``, ``kind:dbt``, ``+x`` / ``x+`` (all ancestors /
descendants; ``2+x`` two levels), ``and`` / ``or`` / ``not`` and parentheses. The dbt
models are one multi-asset, and a job over some of them builds only those (dagster-dbt
passes the subset to ``dbt build --select``). A selection that does not parse, or that
matches no asset once every definition is loaded, fails loading with the entry's name.
"""

import json
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Literal

import dagster as dg
from pydantic import Field

TRIGGER_TAG = "distrohub/trigger"
ENTRY_TAG = "distrohub/automation"


class AutomationError(dg.DagsterInvalidDefinitionError):
    """A declared schedule or sensor whose selection is wrong: names the entry and the fix."""


class ScheduleEntry(dg.Model):
    name: str = Field(description="Schedule name; its job is <name>_job.")
    cron: str = Field(description="Cron expression, e.g. '*/15 * * * *'.")
    select: str = Field(description="Dagster asset selection string of what the schedule builds.")
    description: str = ""
    timezone: str = Field("UTC", description="IANA time zone the cron is read in.")


class SensorEntry(dg.Model):
    name: str = Field(description="Sensor name; its job is <name>_job.")
    when: str = Field(description="Selection of the monitored assets (usually raw streams).")
    refresh: str = Field(description="Selection of what to run when one of them is new.")
    description: str = ""
    minimum_interval_seconds: int = Field(30, description="Seconds between evaluations.")


class DeclaredSelection(dg.AssetSelection):
    """The selections of one YAML entry; resolving it checks all of them.

    Dagster resolves an asset job's selection when the definitions load, so a selection
    that matches nothing (a typo, a renamed model) stops loading with this entry's name
    instead of giving a job that runs nothing. For a sensor, ``watched`` (its ``when``)
    must not overlap ``target`` (its ``refresh``): each run would trigger the next.
    """

    def __init__(
        self, entry: str, texts: Mapping[str, str], target: str, watched: str | None = None
    ) -> None:
        self.entry = entry  # "schedule <name> in <defs.yaml>"
        self.texts = dict(texts)
        self.target = target
        self.watched = watched
        self._parsed = {field: parse_selection(entry, field, t) for field, t in texts.items()}

    def resolve_field(self, asset_graph, field: str) -> AbstractSet[dg.AssetKey]:
        keys = self._parsed[field].resolve(asset_graph, allow_missing=True)
        if not keys:
            raise AutomationError(
                f"{self.entry}: {field} {self.texts[field]!r} matches no asset. Check the "
                "keys in the asset graph (`dg list defs`, or the UI's asset catalog) and fix "
                'the selection; globs match the whole key, e.g. key:"marts/recon_*".'
            )
        return keys

    def resolve_inner(self, asset_graph, allow_missing: bool) -> AbstractSet[dg.AssetKey]:
        keys = {field: self.resolve_field(asset_graph, field) for field in self.texts}
        if self.watched is not None:
            loop = sorted(_key(k) for k in keys[self.watched] & keys[self.target])
            if loop:
                raise AutomationError(
                    f"{self.entry}: {self.target} {self.texts[self.target]!r} includes assets "
                    f"that {self.watched} watches ({', '.join(loop[:5])}), so each run would "
                    f"trigger the next; take them out of {self.target} (e.g. `and kind:dbt`)."
                )
        return keys[self.target]

    def to_selection_str(self) -> str:
        return self.texts[self.target]

    def __repr__(self) -> str:
        return f"DeclaredSelection({self.entry}, {self.target}={self.to_selection_str()!r})"


def parse_selection(entry: str, field: str, text: str) -> dg.AssetSelection:
    try:
        return dg.AssetSelection.from_string(text)
    except Exception as exc:  # the parser raises several error types
        raise AutomationError(
            f"{entry}: {field} {text!r} is not a Dagster asset selection "
            f'({exc}). Write e.g. key:"marts/recon_*", +key:"publish/storefront_prices" '
            'and kind:dbt, or key:"raw/wms_*__stock"+.'
        ) from exc


def declared_in(context: dg.ComponentLoadContext) -> str:
    """The YAML file the component was declared in, relative to the project (for errors)."""
    path = context.path
    if path.is_dir():
        path = path / "defs.yaml"
    if not path.is_file():
        return "the AutomationComponent's defs.yaml"
    try:
        return str(path.relative_to(context.project_root))
    except ValueError:
        return str(path)


def _key(key: dg.AssetKey) -> str:
    return key.to_user_string()


class AutomationComponent(dg.Component, dg.Model, dg.Resolvable):
    """Schedules and event sensors that rebuild selected dbt models (see module docstring)."""

    schedules: list[ScheduleEntry] = Field(default_factory=list)
    sensors: list[SensorEntry] = Field(default_factory=list)
    automation: Literal["running", "stopped"] = Field(
        "running", description="Default status of every schedule and sensor declared here."
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        where = declared_in(context)
        names = [e.name for e in (*self.schedules, *self.sensors)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise AutomationError(
                f"{where}: {', '.join(duplicates)} declared more than once; "
                "schedule and sensor names must be unique."
            )
        return dg.Definitions(
            schedules=[self._schedule(e, where) for e in self.schedules],
            sensors=[self._sensor(e, where) for e in self.sensors],
        )

    def _schedule(self, entry: ScheduleEntry, where: str) -> dg.ScheduleDefinition:
        selection = DeclaredSelection(
            f"schedule {entry.name} in {where}", {"select": entry.select}, target="select"
        )
        job = dg.define_asset_job(
            name=f"{entry.name}_job",
            selection=selection,
            description=entry.description or None,
            tags={TRIGGER_TAG: "schedule", ENTRY_TAG: entry.name},
        )
        return dg.ScheduleDefinition(
            name=entry.name,
            job=job,
            cron_schedule=entry.cron,
            execution_timezone=entry.timezone,
            default_status=(
                dg.DefaultScheduleStatus.RUNNING
                if self.automation == "running"
                else dg.DefaultScheduleStatus.STOPPED
            ),
            description=entry.description or f"Builds {entry.select} at {entry.cron}.",
        )

    def _sensor(self, entry: SensorEntry, where: str) -> dg.SensorDefinition:
        selection = DeclaredSelection(
            f"sensor {entry.name} in {where}",
            {"when": entry.when, "refresh": entry.refresh},
            target="refresh",
            watched="when",
        )
        job = dg.define_asset_job(
            name=f"{entry.name}_job",
            selection=selection,
            description=entry.description or None,
            tags={TRIGGER_TAG: "event", ENTRY_TAG: entry.name},
        )
        name = entry.name

        @dg.sensor(
            name=name,
            job=job,
            minimum_interval_seconds=entry.minimum_interval_seconds,
            default_status=(
                dg.DefaultSensorStatus.RUNNING
                if self.automation == "running"
                else dg.DefaultSensorStatus.STOPPED
            ),
            description=(
                (entry.description + " " if entry.description else "")
                + f"Runs {entry.refresh} when {entry.when} has a new materialization."
            ),
        )
        def _sensor(context: dg.SensorEvaluationContext):
            graph = context.repository_def.asset_graph
            watched = sorted(selection.resolve_field(graph, "when"), key=_key)
            seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
            latest: dict[str, int] = {}  # asset key → storage id of its newest materialization
            for record in context.instance.get_asset_records(watched):
                storage_id = record.asset_entry.last_materialization_storage_id
                if storage_id is not None:
                    latest[_key(record.asset_entry.asset_key)] = storage_id
            changed = sorted(k for k, sid in latest.items() if sid > seen.get(k, 0))
            if not changed:
                return dg.SkipReason(
                    f"no new materialization of the {len(watched)} assets {name} watches "
                    "since its last run request"
                )
            context.update_cursor(json.dumps({**seen, **latest}, sort_keys=True))
            newest = max(latest[k] for k in changed)
            refresh = sorted(selection.resolve_field(graph, "refresh"), key=_key)
            return dg.RunRequest(
                run_key=f"{name}:{newest}",
                asset_selection=refresh,
                tags={
                    TRIGGER_TAG: "event",
                    ENTRY_TAG: name,
                    "distrohub/changed": ", ".join(changed)[:200],
                },
            )

        return _sensor
