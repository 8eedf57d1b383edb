"""The dbt models as Dagster assets; their dbt tests as asset checks.

Sources are the ingest assets (``raw/<system>__<stream>``, from the generated
sources' ``meta.dagster.asset_key``), so the UI draws one lineage from a
system's stream to its staging model; models are ``<layer>/<model>`` in group
``<layer>`` (staging, core, marts, publish): see
:mod:`dagster_project.transform.translator`.
"""

import json
from datetime import UTC, datetime

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.hub.resource import HubDatabase
from dagster_project.publish.targets import declared_targets
from dagster_project.quality.checks import data_version, dbt_tests_part, record
from dagster_project.transform.project import dbt_project, ensure_manifest
from dagster_project.transform.translator import DistrohubDbtTranslator


def run_started_at(context: dg.AssetExecutionContext) -> str:
    """The run's start on the hub's clock (ISO 8601, UTC): every dbt model of the run measures
    "now" from it (macros/as_of.sql run_clock), however long the build takes."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    assert record is not None, f"run {context.run.run_id} has no record in the instance"
    started = record.start_time or record.create_timestamp.timestamp()
    return datetime.fromtimestamp(started, UTC).isoformat()


def record_publish_tests(
    conn, built: set[str], tests: dict[str, list[tuple[str, bool]]], run_id: str
) -> None:
    """Each built publish model's dbt tests, against its data version, in ops.gate_results."""
    target_of = {cfg.model: name for name, cfg in declared_targets().items()}
    for model in sorted(built):
        version = data_version(conn, "publish", model)
        part = dbt_tests_part(tests.get(model, []))
        record(conn, target_of.get(model, model), model, version, part, run_id)
    conn.commit()


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project(),
    dagster_dbt_translator=DistrohubDbtTranslator(),
    name="distrohub_dbt",
    pool="hub_dbt",
)
def distrohub_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, hub: HubDatabase):
    """Build the selected dbt models and run their tests (each test an asset check).

    Every model of the run reads one "now": the run's start (``run_started_at``), or
    ``DISTROHUB_AS_OF`` for business time when it is set (macros/as_of.sql).
    The tests of each publish model are also recorded in ops.gate_results against the
    model's data version, the first part of its publish gate.
    """
    publish_tests: dict[str, list[tuple[str, bool]]] = {}
    built: set[str] = set()
    clock = {"run_started_at": run_started_at(context)}
    invocation = dbt.cli(["build", "--vars", json.dumps(clock)], context=context)
    for event in invocation.stream():
        key = (
            context.asset_key_for_output(event.output_name)
            if isinstance(event, dg.Output)
            else getattr(event, "asset_key", None)
        )
        if key is not None and key.path[0] == "publish":
            if isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
                publish_tests.setdefault(key.path[-1], []).append(
                    (event.check_name or "?", bool(event.passed))
                )
            elif isinstance(event, dg.Output | dg.AssetMaterialization):
                built.add(key.path[-1])
        yield event
    if built:
        with hub.connect() as conn:
            record_publish_tests(conn, built, publish_tests, context.run.run_id)
