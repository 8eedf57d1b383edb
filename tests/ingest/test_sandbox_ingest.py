"""Ingest end to end: the project's own assets against the sandbox systems and Tryton,
over real HTTP, into a real PostgreSQL hub."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
import pytest

from dagster_project.definitions import defs
from dagster_project.hub.migrate import apply_migrations
from sandbox.testing import SandboxHandle, running_sandbox
from tests.erp_fixtures import SEED, SKUS
from tests.servers import free_port, serving

CHANNELS = {"B2B": "shopify_b2b", "D2C": "shopify_d2c", "MARKETPLACE": "shopify_marketplace"}


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def materialize(
    definitions: dg.Definitions, hub: str, env: dict[str, str], *keys: str
) -> dict[str, dict]:
    """Run the named assets as Dagster runs them; return each one's metadata."""
    job = definitions.resolve_implicit_global_asset_job_def()
    selection = [dg.AssetKey(k.split("/")) for k in keys]
    with environment({**env, "DISTROHUB_DATABASE_URL": hub}), dg.instance_for_test() as inst:
        result = job.execute_in_process(instance=inst, asset_selection=selection)
    assert result.success
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        out[mat.asset_key.to_user_string()] = {
            k: getattr(v, "value", v) for k, v in mat.metadata.items()
        }
    return out


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    return scratch_db


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(seed=SEED, skus=SKUS, days=2) as sb:
        yield sb


def erp_env(erp) -> dict[str, str]:
    return {
        "DISTROHUB_TRYTON_URL": erp.credentials.url,
        "DISTROHUB_TRYTON_USER": erp.credentials.user,
        "DISTROHUB_TRYTON_PASSWORD": erp.credentials.password,
    }


def latest_live(conn: psycopg.Connection, table: str) -> list[dict]:
    from psycopg import sql

    query = sql.SQL(
        "select payload from (select distinct on ({keys}) payload from {t} "
        "order by {keys}, _seq desc) l where not (payload ? '_deleted')"
    )
    cols = [
        r[0]
        for r in conn.execute(
            """select column_name from information_schema.columns
            where table_schema = 'raw' and table_name = %s and column_name not like '\\_%%'
              and column_name <> 'payload' order by ordinal_position""",
            (table,),
        )
    ]
    stmt = query.format(
        keys=sql.SQL(", ").join(sql.Identifier(c) for c in cols), t=sql.Identifier("raw", table)
    )
    return [r[0] for r in conn.execute(stmt)]


def test_raw_equals_truth_and_a_second_run_loads_nothing(
    definitions, hub, sandbox, erp, seed_report
) -> None:
    keys = [
        "raw/tryton__items",
        *[f"raw/{s}__orders" for s in CHANNELS.values()],
        "raw/wms_dc_east__stock",
        "raw/wms_dc_west__stock",
    ]
    env = {**sandbox.env, **erp_env(erp)}
    first = materialize(definitions, hub, env, *keys)
    truth = sandbox.control.truth(["orders", "stock"])
    with psycopg.connect(hub) as conn:
        for channel, system in CHANNELS.items():
            expected = {o["id"] for o in truth["orders"] if o["channel"] == channel}
            got = {int(r[0]) for r in conn.execute(f"select distinct id from raw.{system}__orders")}  # noqa: S608 (fixed names)
            assert got == expected, channel
        for location, system in (("DC-EAST", "wms_dc_east"), ("DC-WEST", "wms_dc_west")):
            expected = {
                (s["sku"], s["status"], s["quantity"])
                for s in truth["stock"]
                if s["location"] == location and s["quantity"] > 0
            }
            got = {
                (p["sku"], p["status"], p["quantity"])
                for p in latest_live(conn, f"{system}__stock")
            }
            assert got == expected, location
        assert conn.execute("select count(*) from ops.quarantine").fetchone() == (0,)
    assert all(m["inserted"] > 0 for m in first.values())

    second = materialize(definitions, hub, env, *keys)
    assert all(
        (m["inserted"], m["updated"], m["quarantined"]) == (0, 0, 0) for m in second.values()
    ), second


def test_a_changed_order_is_picked_up_incrementally(
    definitions, hub, sandbox, erp, seed_report
) -> None:
    env = {**sandbox.env, **erp_env(erp)}
    key = "raw/shopify_d2c__orders"
    first = materialize(definitions, hub, env, "raw/tryton__items", key)[key]
    truth = sandbox.control.truth(["orders"])["orders"]
    number = next(int(o["key"].split("#")[1]) for o in truth if o["channel"] == "D2C")
    sandbox.control.change_order("D2C", number, "note")
    again = materialize(definitions, hub, env, key)[key]
    assert again["updated"] == 1 and again["inserted"] == 0
    assert again["read"] < first["read"]  # only what changed since the cursor (and its edge)


def test_a_429_with_retry_after_is_waited_out(definitions, hub) -> None:
    streams = [
        "orders",
        "customers",
        "products",
        "inventory_items",
        "locations",
        "inventory_levels",
    ]
    keys = [f"raw/shopify_d2c__{s}" for s in streams]
    with running_sandbox(
        seed=SEED, skus=SKUS, days=2, faults=("rate_limit_burst",), api_plan="standard"
    ) as sb:
        materialize(definitions, hub, sb.env, *keys)  # 429s come at requests 7-9 of 20
        again = materialize(definitions, hub, sb.env, *keys)
        injected = [f for f in sb.control.faults()["log"] if f.get("profile") == "rate_limit_burst"]
        orders = {o["id"] for o in sb.control.truth(["orders"])["orders"] if o["channel"] == "D2C"}
    assert injected, "the fault profile injected no 429"
    assert all(m["inserted"] == 0 for m in again.values())
    with psycopg.connect(hub) as conn:
        got = {int(r[0]) for r in conn.execute("select distinct id from raw.shopify_d2c__orders")}
    assert got == orders


def test_malformed_records_are_quarantined_while_the_batch_loads(
    definitions, hub, erp, seed_report
) -> None:
    with running_sandbox(seed=SEED, skus=SKUS, days=2, faults=("malformed_records",)) as sb:
        env = {**sb.env, **erp_env(erp)}
        result = materialize(
            definitions,
            hub,
            env,
            "raw/tryton__items",
            "raw/wms_dc_east__stock",
            "raw/tpl_midway__stock",
            "raw/tpl_midway__shipping_advices",
        )
        truth = sb.control.truth(["stock"])["stock"]
    stock = result["raw/wms_dc_east__stock"]
    assert stock["quarantined"] == 2  # the negative quantity and the unknown SKU
    assert stock["inserted"] == len(
        [s for s in truth if s["location"] == "DC-EAST" and s["quantity"] > 0]
    )
    with psycopg.connect(hub) as conn:
        reasons = [
            r[0]
            for r in conn.execute("select reason from ops.quarantine where system = 'wms_dc_east'")
        ]
        tpl = [
            r[0]
            for r in conn.execute("select reason from ops.quarantine where system = 'tpl_midway'")
        ]
    assert any("quantity: -5 is less than the minimum of 0" in r for r in reasons)
    assert any("UNKNOWN-WMS-1" in r and "unknown in tryton items" in r for r in reasons)
    assert len(tpl) >= 3 and any("UNKNOWN-3PL-1" in r for r in tpl)


def test_sandbox_webhooks_reach_raw_once(definitions, hub, erp, seed_report) -> None:
    from dagster_project.ingest.registry import declared_systems
    from dagster_project.webhooks.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}/webhooks"
    with (
        running_sandbox(
            seed=SEED, skus=SKUS, days=2, webhook_url=base, faults=("duplicate_webhooks",)
        ) as sb,
        environment(sb.env),
    ):
        systems = {
            n: c for n, (c, _s) in declared_systems().items() if c.credentials.get("webhook_secret")
        }
        with serving(create_app(hub, systems), port=port):
            sb.control.advance(hours=6)
            assert sb.control.drain()["drained"]
            sent = sb.control.webhooks()
        with psycopg.connect(hub) as conn:
            rows = conn.execute(
                "select source, topic, count(*), count(distinct event_id) "
                "from ops.webhook_inbox group by 1, 2"
            ).fetchall()
        by_source = {(r[0], r[1]): r for r in rows}
        assert any(src == "shopify_d2c" and topic == "orders/create" for src, topic in by_source), (
            rows,
            sent["recent"][:2],
        )
        assert all(r[2] == r[3] for r in rows)  # each event stored once, duplicates refused
        duplicates = [
            f for f in sb.control.faults()["log"] if f.get("profile") == "duplicate_webhooks"
        ]
        assert duplicates and sent

        env = {**sb.env, **erp_env(erp)}
        loaded = materialize(
            definitions,
            hub,
            env,
            "raw/tryton__items",
            "raw/shopify_d2c__orders",
            "raw/wms_dc_east__events",
            "raw/wms_dc_east__stock",
        )
        result = loaded["raw/shopify_d2c__orders"]
        assert result["webhook_deliveries"] >= 1
        # WMS deliveries are events: they land in the events stream, and only trigger
        # the stock listing's sync (never quarantined as malformed stock rows)
        assert loaded["raw/wms_dc_east__events"]["webhook_deliveries"] >= 1
        assert loaded["raw/wms_dc_east__stock"]["quarantined"] == 0
        assert loaded["raw/wms_dc_east__events"]["quarantined"] == 0
        with psycopg.connect(hub) as conn:
            pending = conn.execute(
                "select count(*) from ops.webhook_inbox where processed_at is null "
                "and (source = 'wms_dc_east' or (source = 'shopify_d2c' "
                "and topic like 'orders/%'))"
            ).fetchone()[0]
        assert pending == 0
