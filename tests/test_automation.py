"""Declarative automation (defs/automation/defs.yaml) and the demo's progress display.

Fast: the definitions and an ephemeral or throwaway SQLite instance, no sandbox world.
"""

import io
import json
import threading

import dagster as dg
import pytest
from dagster_dbt.asset_utils import get_dbt_resource_names_for_asset_keys
from rich.console import Console

from dagster_project.cli import demo
from dagster_project.components.automation import AutomationComponent, AutomationError
from dagster_project.definitions import defs
from dagster_project.hub.dagster_home import STORAGE_URL_ENV, ensure_dagster_home
from dagster_project.transform.project import ensure_manifest
from dagster_project.transform.translator import DistrohubDbtTranslator

SCHEDULES = {
    "catalog_nightly": "30 2 * * *",
    "prices_hourly": "10 * * * *",
    "reconciliation_every_15_minutes": "5,20,35,50 * * * *",
}
SENSORS = (
    "availability_on_stock_events",
    "orders_on_storefront_orders",
    "fulfillments_on_shipments",
    "supplier_documents_on_edi",
)


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


@pytest.fixture(scope="module")
def graph(definitions):
    return definitions.resolve_asset_graph()


@pytest.fixture(scope="module")
def dbt_keys(definitions) -> set[str]:
    return {
        k.to_user_string()
        for k in definitions.resolve_assets_def(dg.AssetKey(["core", "item"])).keys
    }


def job_keys(definitions, name: str) -> set[str]:
    job = definitions.resolve_job_def(f"{name}_job")
    return {k.to_user_string() for k in job.asset_layer.executable_asset_keys}


def test_schedules_declared_with_their_crons(definitions) -> None:
    for name, cron in SCHEDULES.items():
        schedule = definitions.resolve_schedule_def(name)
        assert schedule.cron_schedule == cron, name
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.job_name == f"{name}_job"


def test_every_refresh_is_dbt_models_only(definitions, dbt_keys) -> None:
    for name in (*SCHEDULES, *SENSORS):
        keys = job_keys(definitions, name)
        assert keys, name
        assert keys <= dbt_keys, f"{name} selects non-dbt assets: {sorted(keys - dbt_keys)}"
        assert not any(k.startswith(("raw/", "deliver/", "ops/")) for k in keys), name


def test_schedule_targets(definitions, graph) -> None:
    every_recon = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if k.to_user_string().startswith("marts/recon_")
    }
    recon = job_keys(definitions, "reconciliation_every_15_minutes")
    assert len(every_recon) >= 8
    assert every_recon <= recon
    # only the recon marts and what is built on them (ops marts, when they exist)
    assert all(k.startswith(("marts/recon_", "marts/ops_")) for k in recon), sorted(recon)

    prices = job_keys(definitions, "prices_hourly")
    assert {"core/price_rule", "marts/customer_prices", "publish/storefront_prices"} <= prices
    assert "staging/stg_tryton__price_list_lines" in prices
    assert not any(k.startswith("publish/") and k != "publish/storefront_prices" for k in prices)

    catalog = job_keys(definitions, "catalog_nightly")
    assert {"core/item", "core/location", "core/customer", "core/channel"} <= catalog
    assert {"staging/stg_tryton__items", "staging/stg_shopify__products"} <= catalog
    publish_models = {k for k in graph_keys(graph) if k.startswith("publish/")}
    assert publish_models and publish_models <= catalog
    # not downstream of the catalog: the price lists' staging (hourly) stays out
    assert "staging/stg_tryton__price_list_lines" not in catalog


def graph_keys(graph) -> set[str]:
    return {k.to_user_string() for k in graph.get_all_asset_keys()}


@pytest.mark.parametrize(
    ("sensor", "watched", "refreshed", "left_out"),
    [
        (
            "availability_on_stock_events",
            {"raw/wms_dc_east__stock", "raw/tpl_midway__stock", "raw/shopify_d2c__orders"},
            {"core/inventory_position", "marts/sellable_inventory", "publish/storefront_inventory"},
            {"core/item", "publish/storefront_prices"},
        ),
        (
            "orders_on_storefront_orders",
            {"raw/shopify_b2b__orders", "raw/tryton__sales"},
            {"core/order", "publish/erp_sales_orders", "publish/warehouse_releases"},
            {"publish/storefront_inventory"},
        ),
        (
            "fulfillments_on_shipments",
            {"raw/wms_dc_west__shipments", "raw/tpl_midway__shipping_advices"},
            {"core/shipment", "publish/storefront_fulfillments"},
            {"core/order"},
        ),
        (
            "supplier_documents_on_edi",
            {"raw/supplier_acme__po_acks", "raw/supplier_cascade__invoices"},
            {"publish/supplier_purchase_orders", "marts/recon_supplier"},
            {"publish/storefront_inventory"},
        ),
        (
            "cancellations_on_order_events",
            {
                "raw/shopify_d2c__orders",
                "raw/wms_dc_east__releases",
                "raw/tpl_midway__shipping_advices",
            },
            {"core/order", "publish/order_cancellations", "marts/order_cancellations_status"},
            {"publish/storefront_prices"},
        ),
    ],
)
def test_event_sensor_targets(definitions, sensor, watched, refreshed, left_out) -> None:
    sensor_def = definitions.resolve_sensor_def(sensor)
    assert sensor_def.job_name == f"{sensor}_job"
    assert sensor_def.default_status == dg.DefaultSensorStatus.RUNNING
    selection = sensor_def.job.selection  # the component's DeclaredSelection
    graph = definitions.resolve_asset_graph()
    assert watched <= {k.to_user_string() for k in selection.resolve_field(graph, "when")}
    keys = job_keys(definitions, sensor)
    assert refreshed <= keys
    assert not keys & left_out


def test_a_job_over_some_models_builds_only_those(definitions) -> None:
    """The dbt multi-asset is subset: dbt gets --select for exactly the selected models."""
    job = definitions.resolve_job_def("prices_hourly_job")
    (dbt_def,) = [
        a
        for a in job.asset_layer.asset_graph.assets_defs
        if a.is_executable and a.node_def.name == "distrohub_dbt"
    ]
    selected = set(dbt_def.keys)
    full = definitions.resolve_assets_def(dg.AssetKey(["core", "item"]))
    assert dbt_def.is_subset and len(selected) < len(full.keys)
    names = get_dbt_resource_names_for_asset_keys(
        DistrohubDbtTranslator(), json.loads(ensure_manifest().read_text()), full, selected
    )
    assert sorted(name.rsplit(".", 1)[-1] for name in names) == sorted(k.path[-1] for k in selected)
    # the publish model's blocking gate runs with it, the delivery does not
    check_names = {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    assert "gate" in check_names
    assert "deliver/storefront_prices" not in job_keys(definitions, "prices_hourly")


def test_event_sensor_requests_one_refresh_per_new_materialization(definitions) -> None:
    sensor = definitions.resolve_sensor_def("availability_on_stock_events")
    expected = {dg.AssetKey.from_user_string(k) for k in job_keys(definitions, sensor.name)}
    with dg.DagsterInstance.ephemeral() as instance:
        idle = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions)
        )
        assert not idle.run_requests
        assert "no new materialization" in idle.skip_message

        # a stream the sensor does not watch changes nothing
        instance.report_runless_asset_event(dg.AssetMaterialization("raw/tryton__items"))
        other = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions)
        )
        assert not other.run_requests

        instance.report_runless_asset_event(dg.AssetMaterialization("raw/wms_dc_east__stock"))
        tick = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions, cursor=other.cursor)
        )
        (request,) = tick.run_requests
        assert set(request.asset_selection) == expected
        assert request.tags["distrohub/trigger"] == "event"
        assert request.tags["distrohub/changed"] == "raw/wms_dc_east__stock"
        assert request.run_key.startswith("availability_on_stock_events:")

        again = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions, cursor=tick.cursor)
        )
        assert not again.run_requests and again.skip_message

        # the next load of a watched stream: a new run key
        instance.report_runless_asset_event(dg.AssetMaterialization("raw/wms_dc_west__picks"))
        later = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions, cursor=tick.cursor)
        )
        (second,) = later.run_requests
        assert second.run_key != request.run_key
        assert second.tags["distrohub/changed"] == "raw/wms_dc_west__picks"


def _with(definitions, yaml: str) -> dg.Definitions:
    component = AutomationComponent.resolve_from_yaml(yaml)
    return dg.Definitions.merge(definitions, dg.component_defs(component=component))


def _chain(exc: BaseException) -> str:
    messages = []
    while exc is not None:
        messages.append(str(exc))
        exc = exc.__cause__
    return "\n".join(messages)


def test_a_selection_that_matches_nothing_fails_loading(definitions) -> None:
    bad = _with(
        definitions,
        """
schedules:
  - name: recon_typo
    cron: "0 * * * *"
    select: key:"marts/reconn_*"+ and kind:dbt
""",
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError) as failed:
        dg.Definitions.validate_loadable(bad)
    message = _chain(failed.value)
    assert "recon_typo_job" in str(failed.value)
    assert "schedule recon_typo" in message
    assert "select 'key:\"marts/reconn_*\"+ and kind:dbt' matches no asset" in message

    bad_when = _with(
        definitions,
        """
sensors:
  - name: stock_typo
    when: key:"raw/wms_*__stok"
    refresh: key:"marts/sellable_inventory"
""",
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError) as failed:
        dg.Definitions.validate_loadable(bad_when)
    assert "sensor stock_typo" in _chain(failed.value)
    assert "when 'key:\"raw/wms_*__stok\"' matches no asset" in _chain(failed.value)

    feeds_itself = _with(
        definitions,
        """
sensors:
  - name: stock_loop
    when: key:"raw/wms_*__stock" or key:"staging/stg_wms__stock"
    refresh: key:"staging/stg_wms__stock"+ and kind:dbt
""",
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError) as failed:
        dg.Definitions.validate_loadable(feeds_itself)
    assert "sensor stock_loop" in _chain(failed.value)
    assert "watches (staging/stg_wms__stock)" in _chain(failed.value)

    good = _with(
        definitions,
        """
automation: stopped
sensors:
  - name: stock_ok
    when: key:"raw/wms_*__stock"
    refresh: key:"marts/sellable_inventory"
""",
    )
    dg.Definitions.validate_loadable(good)
    assert good.resolve_sensor_def("stock_ok").default_status == dg.DefaultSensorStatus.STOPPED


def test_a_selection_that_does_not_parse_fails_with_the_entry() -> None:
    with pytest.raises(AutomationError, match=r"schedule broken .*select 'key:\"a\" andd'"):
        dg.component_defs(
            component=AutomationComponent.resolve_from_yaml(
                'schedules: [{name: broken, cron: "0 * * * *", select: key:"a" andd}]'
            )
        )


# ------------------------------------------------------------------ demo progress
# slow_source runs until the test has seen it running in the progress (or a generous bound
# passes, and the test then fails saying it never saw it): no race with the poll interval.
SEEN_RUNNING = threading.Event()


@dg.asset
def slow_source() -> None:
    SEEN_RUNNING.wait(timeout=120)


@dg.asset(deps=[slow_source])
def built_on_it() -> None:
    pass


@dg.asset_check(asset=built_on_it)
def holds() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset_check(asset=built_on_it)
def fails() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


@dg.asset(deps=[slow_source])
def breaks() -> None:
    raise RuntimeError("the sandbox said no")


@pytest.fixture
def small_project(tmp_path, monkeypatch):
    """materialize_all on a throwaway SQLite DAGSTER_HOME and a four-step project."""
    (tmp_path / "dagster.yaml").write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    small = dg.Definitions(assets=[slow_source, built_on_it, breaks], asset_checks=[holds, fails])
    monkeypatch.setattr("dagster_project.definitions.defs", lambda: small)


def test_materialize_all_reports_progress_while_it_runs(small_project) -> None:
    seen: list[tuple[int, int, tuple[str, ...], bool]] = []
    snapshots: list[demo.RunProgress] = []

    SEEN_RUNNING.clear()

    def on_progress(progress: demo.RunProgress) -> None:
        if "slow_source" in progress.running:
            SEEN_RUNNING.set()
        snapshots.append(progress)
        seen.append(
            (
                progress.steps_done,
                len(progress.assets_done),
                tuple(sorted(progress.running)),
                progress.finished,
            )
        )

    ok, materialized, failures = demo.materialize_all(on_progress=on_progress, poll_seconds=0.1)

    assert not ok
    assert sorted(key for key, _ in materialized) == ["built_on_it", "slow_source"]
    assert len(failures) == 1 and failures[0].startswith("breaks:")
    assert "the sandbox said no" in failures[0]
    assert any("slow_source" in running for _, _, running, _ in seen), seen
    final = snapshots[-1]
    assert seen[-1][3] and sum(finished for *_, finished in seen) == 1
    assert (final.steps_total, final.assets_total, final.checks_total) == (5, 3, 2)
    assert final.steps_done == 5 and final.steps_failed == 1 and not final.running
    assert final.assets_done == {"slow_source", "built_on_it"}
    assert (final.checks_passed, final.checks_failed) == (1, 1)
    assert seen == sorted(seen, key=lambda s: (s[0], s[1])), "progress never goes back"

    out = io.StringIO()
    display = demo.ProgressDisplay("demo-run.log")
    display.console = Console(file=out, width=120)  # not a terminal: one line per update
    with display:
        display.update(final)
    text = out.getvalue()
    assert "steps 5/5, assets 2/3, checks 1 passed, 1 failed" in text
    assert "dbt's output: demo-run.log" in text


def test_materialize_all_reads_progress_from_dagster_postgres(pg_cluster, monkeypatch) -> None:
    """The demo's path: the run in a worker thread, its events polled from dagster-postgres."""
    for name in ("DAGSTER_HOME", STORAGE_URL_ENV):
        monkeypatch.setenv(name, "restored after the test")
    ensure_dagster_home()
    real = defs()
    # the resolved asset carries its resources (the hub resource on the session cluster)
    one = dg.Definitions(assets=[real.resolve_assets_def(dg.AssetKey("hub_schema"))])
    monkeypatch.setattr("dagster_project.definitions.defs", lambda: one)
    snapshots: list[demo.RunProgress] = []

    ok, materialized, failures = demo.materialize_all(on_progress=snapshots.append)

    assert ok and not failures
    assert [key for key, _ in materialized] == ["hub_schema"]
    final = snapshots[-1]
    assert final.finished and final.steps_done == final.steps_total == 1
    assert final.assets_done == {"hub_schema"}
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        run = instance.get_run_by_id(final.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
