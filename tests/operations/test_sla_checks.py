"""SLAs as asset checks: a stale source fails its freshness check and holds what it feeds;
reconciliation and delivery breaches are worded for the person who has to act."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
import pytest

from dagster_project.components.sla_checks import ReconSla, delivery_problems, recon_breaches
from dagster_project.hub.slas import describe_minutes, sla_minutes
from dagster_project.ingest.slas import declared_slas
from dagster_project.publish.gate import evaluate
from dagster_project.publish.run import PublishRefused, publish
from dagster_project.publish.targets import target
from tests.ingest.test_sandbox_ingest import environment
from tests.models.conftest import run

STOCK = ("wms_dc_east", "stock")
PRICES = ("tryton", "price_list_lines")
LATE = r"tryton price_list_lines: last loaded 5(\.\d)? h ago \(SLA 3 h, 2(\.\d)? h late\)"


def test_every_source_and_mart_has_its_sla_as_policy_and_check() -> None:
    from dagster_project.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    checks = set(graph.asset_check_keys)
    slas = declared_slas()
    assert slas[STOCK] == 60 and slas[("tryton", "items")] == 1560
    assert slas[("supplier_acme", "invoices")] == sla_minutes("x12_supplier", None, None)
    for system, stream in slas:
        key = dg.AssetKey(["raw", f"{system}__{stream}"])
        policy = graph.get(key).freshness_policy
        assert policy is not None and policy.fail_window.to_timedelta().total_seconds() == (
            slas[(system, stream)] * 60
        ), key
        assert dg.AssetCheckKey(key, "freshness") in checks
    marts = [k for k in graph.get_all_asset_keys() if k.path[0] == "marts"]
    products = [k for k in marts if not k.path[-1].startswith("int_")]
    assert len(products) >= 10
    for key in products:
        assert graph.get(key).freshness_policy is not None, key
        assert dg.AssetCheckKey(key, "freshness") in checks, key
    assert (
        graph.get(dg.AssetKey(["marts", "recon_orders"]))
        .freshness_policy.fail_window.to_timedelta()
        .total_seconds()
        == 45 * 60
    )
    for name in ("recon_orders", "recon_shipments_by_warehouse", "recon_supplier"):
        assert dg.AssetCheckKey(dg.AssetKey(["marts", name]), "sla") in checks
    assert dg.AssetCheckKey(dg.AssetKey(["deliver", "erp_sales_orders"]), "delivery") in checks
    schedule = definitions.get_schedule_def("sla_checks_every_5_minutes")
    assert schedule.cron_schedule == "*/5 * * * *"


@contextmanager
def backdated(url: str, system: str, stream: str, hours: float) -> Iterator[None]:
    """Every load of one stream happened ``hours`` earlier (put back afterwards)."""
    shift = """update ops.ingest_batches
                  set started_at = started_at + make_interval(secs => %(s)s),
                      finished_at = finished_at + make_interval(secs => %(s)s)
                where system = %(system)s and stream = %(stream)s"""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(shift, {"s": -hours * 3600, "system": system, "stream": stream})
        try:
            yield
        finally:
            conn.execute(shift, {"s": hours * 3600, "system": system, "stream": stream})


def _check_results(result, name: str) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
    return {e.asset_key: e for e in result.get_asset_check_evaluations() if e.check_name == name}


def test_a_stale_source_fails_its_freshness_check_and_holds_the_publish(clean_world) -> None:
    world = clean_world
    cfg = target("storefront_prices")
    stale_key = dg.AssetKey(["raw", "tryton__price_list_lines"])
    env = {**world.env, "DISTROHUB_DATABASE_URL": world.hub}
    with environment(env), dg.instance_for_test() as instance:
        fresh = world.definitions.resolve_job_def("sla_checks").execute_in_process(
            instance=instance, op_selection=["source_freshness"], raise_on_error=False
        )
    assert fresh.success
    before = _check_results(fresh, "freshness")
    assert before[stale_key].passed, before[stale_key].description
    try:
        with backdated(world.hub, *PRICES, hours=5):
            with environment(env), dg.instance_for_test() as instance:
                stale = world.definitions.resolve_job_def("sla_checks").execute_in_process(
                    instance=instance, op_selection=["source_freshness"], raise_on_error=False
                )
            evaluation = _check_results(stale, "freshness")[stale_key]
            assert not evaluation.passed
            assert evaluation.severity == dg.AssetCheckSeverity.ERROR
            # the operator reads which stream, how late against which SLA, and what to do
            # (the world landed a few minutes ago: 5 h and some)
            assert re.search(LATE, evaluation.description), evaluation.description
            assert "materialize raw/tryton__price_list_lines" in evaluation.description
            others = [k for k, e in _check_results(stale, "freshness").items() if not e.passed]
            assert others == [stale_key]

            # the build of its publish model fails the gate, and the delivery is not run
            built = run(
                world.definitions,
                world.hub,
                world.env,
                [dg.AssetKey(["publish", cfg.model]), dg.AssetKey(["deliver", cfg.target])],
            )
            gate = _check_results(built, "gate")[dg.AssetKey(["publish", cfg.model])]
            assert not gate.passed
            assert re.search(LATE, gate.description), gate.description
            assert not any(
                e.is_successful_output or e.is_step_success
                for e in built.all_events
                if e.step_key and "deliver" in e.step_key
            )
            with psycopg.connect(world.hub) as conn:
                queued = conn.execute(
                    "select count(*) from ops.outbox where target = %s", (cfg.target,)
                ).fetchone()[0]
            assert queued == 0
            with pytest.raises(PublishRefused) as refused:
                publish(world.hub, cfg, dry_run=True, log=lambda _: None)
            assert "older than their SLA" in str(refused.value)
    finally:
        # the world is shared: its latest verdict for this version must be a passing one again
        assert evaluate(world.hub, cfg).passed


def test_reconciliation_breaches_are_sentences(hub: str) -> None:
    with psycopg.connect(hub, autocommit=True) as conn:
        conn.execute(
            """create table marts.recon_orders as
               select * from (values
                 ('O1', 'missing_in_erp', 'shopify_d2c', 5.5, 1, 'breached'),
                 ('O2', 'missing_in_erp', 'shopify_d2c', 2.0, 1, 'breached'),
                 ('O3', 'total_mismatch', 'shopify_b2b', 0.5, 1, 'within_sla'))
               as t(order_key, discrepancy, storefront_system, age_hours, sla_hours, sla_status)"""
        )
        conn.execute(
            """create table marts.recon_shipments_by_warehouse as
               select * from (values
                 ('240 shipment confirmations from DC-EAST not posted to ERP for 2 h', 'breached'),
                 ('3 shipment confirmations from 3PL not invoiced in ERP for 30 min',
                  'within_sla'))
               as t(message, sla_status)"""
        )
        count, lines = recon_breaches(
            conn,
            ReconSla(model="recon_orders", what="storefront orders", where="storefront_system"),
        )
        assert count == 2
        assert lines == ["2 storefront orders at shopify_d2c missing in ERP for 5.5 h (SLA 1 h)"]
        count, lines = recon_breaches(
            conn, ReconSla(model="recon_shipments_by_warehouse", message="message")
        )
        assert (count, lines) == (
            1,
            ["240 shipment confirmations from DC-EAST not posted to ERP for 2 h"],
        )


def test_delivery_problems_name_the_dead_letters_and_the_overdue_messages(hub: str) -> None:
    with psycopg.connect(hub, autocommit=True) as conn:
        assert delivery_problems(conn, "storefront_prices", 60) == []
        ids = [
            conn.execute(
                """insert into ops.outbox (target, system, record_key, action, change, payload,
                       payload_hash, idempotency_key, status, enqueued_at)
                   values ('storefront_prices', 'shopify_d2c', %s, 'upsert', 'change', '{}',
                           'h', %s, %s, now() - interval '3 hours') returning id""",
                (key, f"k-{key}", status),
            ).fetchone()[0]
            for key, status in (("v1", "dead"), ("v2", "pending"), ("v3", "pending"))
        ]
        conn.execute(
            """insert into ops.dead_letter (outbox_id, target, system, record_key, error_code,
                   error, attempts, failed_at)
               values (%s, 'storefront_prices', 'shopify_d2c', 'v1', 'price_rejected',
                       'price must be positive', 1, now() - interval '2 hours')""",
            (ids[0],),
        )
        problems = delivery_problems(conn, "storefront_prices", 60)
    assert len(problems) == 2
    assert problems[0].startswith(
        "1 storefront_prices message to shopify_d2c dead (price_rejected), oldest 2 h"
    )
    assert "distrohub dlq retry --target storefront_prices" in problems[0]
    assert problems[1].startswith(
        "2 storefront_prices messages to shopify_d2c not delivered for 3 h (SLA 1 h)"
    )


@pytest.mark.parametrize(
    ("minutes", "text"), [(45, "45 min"), (60, "1 h"), (90, "1.5 h"), (1560, "26 h"), (4320, "3 d")]
)
def test_minutes_read_like_a_person_writes_them(minutes: float, text: str) -> None:
    assert describe_minutes(minutes) == text
