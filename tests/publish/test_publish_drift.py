"""Drift: a value the store changed itself, found by reading the store's feed and healed.

Runs on ``publish_world`` after test_publish.py (file order), or alone: each test first
publishes storefront_prices so every price is delivered and nothing is pending, and puts the
store back to the desired prices before it ends.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml
from pydantic import ValidationError

from dagster_project.publish.run import publish
from dagster_project.publish.targets import (
    COMPONENT_TYPE,
    DEFS_DIR,
    Drift,
    declared_targets,
    target,
)
from tests.ingest.test_sandbox_ingest import environment
from tests.models.conftest import run

NAME = "storefront_prices"
SWEEP = f"drift_sweep__{NAME}"
D2C_PRODUCTS = dg.AssetKey(["raw", "shopify_d2c__products"])


def _quiet(_: str) -> None:
    pass


def _settled(world) -> None:
    """Every desired price delivered (a first publish when this file runs alone)."""
    publish(world.hub, target(NAME), log=_quiet)
    with psycopg.connect(world.hub) as conn:
        pending = conn.execute(
            "select count(*) from ops.outbox where target = %s and status = 'pending'", (NAME,)
        ).fetchone()[0]
    assert pending == 0


def _pick(world, n: int) -> tuple[str, str, Decimal]:
    """The n-th published D2C price: (record key, sku, desired price), its product's only
    variant so a store-side edit touches no other record."""
    with psycopg.connect(world.hub) as conn:
        return conn.execute(
            """select m.system || ':' || m.variant_id, m.sku, m.price
                 from publish.storefront_prices m
                 join ops.published_state p
                   on p.target = %s and p.record_key = m.system || ':' || m.variant_id
                 join staging.stg_shopify__product_variants v
                   on v.system = m.system and v.variant_id = m.variant_id
                where m.system = 'shopify_d2c'
                  and (select count(*) from staging.stg_shopify__product_variants s
                        where s.system = v.system and s.product_id = v.product_id) = 1
                order by m.sku offset %s limit 1""",
            (NAME, n),
        ).fetchone()


def _edit_in_store(world, sku: str, desired: Decimal) -> Decimal:
    """A merchandiser edits the price in the D2C store; the hub reads the store's products."""
    edited = (desired + Decimal("1.11")).quantize(Decimal("0.01"))
    world.sandbox.control.edit_price("D2C", sku, str(edited))
    assert run(world.definitions, world.hub, world.env, [D2C_PRODUCTS]).success
    assert _live_price(world, sku) == edited
    return edited


def _live_price(world, sku: str) -> Decimal:
    with psycopg.connect(world.hub) as conn:
        return conn.execute(
            """select price from staging.stg_shopify__product_variants
                where system = 'shopify_d2c' and sku = %s""",
            (sku,),
        ).fetchone()[0]


def _price_updates(world) -> list[dict]:
    return world.sandbox.control.received()["shopify"]["D2C"]["variant_price_updates"]


def _recorded(world, key: str) -> list[tuple]:
    with psycopg.connect(world.hub) as conn:
        return conn.execute(
            """select c.mode, c.live_payload ->> 'price', c.desired_payload ->> 'price',
                      o.change, o.status
                 from ops.drift_corrections c left join ops.outbox o on o.id = c.outbox_id
                where c.target = %s and c.record_key = %s order by c.id""",
            (NAME, key),
        ).fetchall()


def test_the_drift_sweep_corrects_a_price_edited_in_the_store(publish_world):
    world = publish_world
    _settled(world)
    key, sku, desired = _pick(world, 0)
    edited = _edit_in_store(world, sku, desired)
    # the diff without the sweep: one record drifted, nothing else to send
    dry = publish(world.hub, target(NAME), dry_run=True, log=_quiet)
    assert (dry.counts.drift, dry.counts.drift_corrected, dry.counts.changes) == (1, 1, 0)
    (row,) = [r for r in dry.sample if r.change == "drift"]
    assert row.record_key == key and row.before["price"] == edited
    assert row.after["price"] == desired
    # the sweep: the stores' products read afresh, then the delivery
    sent_before = len(_price_updates(world))
    job = world.definitions.resolve_job_def(f"{SWEEP}_job")
    with (
        environment({**world.env, "DISTROHUB_DATABASE_URL": world.hub}),
        dg.instance_for_test() as instance,
    ):
        swept = job.execute_in_process(instance=instance, raise_on_error=False)
    assert swept.success, [e.step_key for e in swept.all_events if e.is_step_failure]
    (meta,) = [
        e.materialization.metadata
        for e in swept.get_asset_materialization_events()
        if e.materialization.asset_key == dg.AssetKey(["deliver", NAME])
    ]
    assert meta["drift_found"].value == 1 and meta["drift_corrected"].value == 1
    assert meta["messages_enqueued"].value == 1
    # one message, the desired price, recorded with what the store held before
    updates = _price_updates(world)[sent_before:]
    assert [(u["sku"], Decimal(u["price"])) for u in updates] == [(sku, desired)]
    assert _recorded(world, key) == [("correct", str(edited), str(desired), "drift", "delivered")]
    # the store's live value, read again, is the desired one; nothing drifts any more
    assert run(world.definitions, world.hub, world.env, [D2C_PRODUCTS]).success
    assert _live_price(world, sku) == desired
    again = publish(world.hub, target(NAME), log=_quiet)
    assert again.counts.drift == 0 and again.enqueued.messages == 0


def test_drift_mode_report_records_and_sends_nothing(publish_world):
    world = publish_world
    _settled(world)
    key, sku, desired = _pick(world, 1)
    edited = _edit_in_store(world, sku, desired)
    report = target(NAME).model_copy(update={"drift": Drift(mode="report", schedule="0 * * * *")})
    sent_before = len(_price_updates(world))
    result = publish(world.hub, report, log=_quiet)
    assert result.counts.drift == 1 and result.counts.drift_corrected == 0
    assert result.enqueued.messages == 0 and result.enqueued.drift_reported == 1
    assert result.metadata()["drift_reported"] == 1
    assert len(_price_updates(world)) == sent_before
    assert _recorded(world, key) == [("report", str(edited), str(desired), None, None)]
    assert _live_price(world, sku) == edited
    # put the store back: the same drift in mode correct is sent
    healed = publish(world.hub, target(NAME), log=_quiet)
    assert healed.enqueued.drift_corrected == 1
    assert [(u["sku"], Decimal(u["price"])) for u in _price_updates(world)[sent_before:]] == [
        (sku, desired)
    ]


def test_a_store_value_read_before_our_last_send_is_not_drift(publish_world):
    """The correction is sent at T1; the feed still holds the store's row read at T0 < T1
    (the edited price): until the store is read again, that row says nothing."""
    world = publish_world
    _settled(world)
    key, sku, desired = _pick(world, 2)
    edited = _edit_in_store(world, sku, desired)
    first = publish(world.hub, target(NAME), log=_quiet)
    assert first.enqueued.drift_corrected == 1
    assert _live_price(world, sku) == edited  # the feed has not been read since the send
    sent_before = len(_price_updates(world))
    again = publish(world.hub, target(NAME), log=_quiet)
    assert again.counts.drift == 0 and again.enqueued.messages == 0
    assert again.counts.unchanged == first.counts.unchanged + 1
    assert len(_price_updates(world)) == sent_before
    assert len(_recorded(world, key)) == 1


def test_the_sweep_is_scheduled_per_target_with_drift(publish_world):
    definitions = publish_world.definitions
    for name in ("storefront_prices", "storefront_inventory"):
        cfg = target(name)
        assert cfg.drift is not None and cfg.drift.mode == "correct"
        schedule = definitions.get_schedule_def(f"drift_sweep__{name}")
        assert schedule.cron_schedule == cfg.drift.schedule
        assert name in (schedule.description or "")
        job = definitions.resolve_job_def(schedule.job_name)
        keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
        stream = "products" if name == "storefront_prices" else "inventory_levels"
        assert f"deliver/{name}" in keys
        assert {f"raw/shopify_{s}__{stream}" for s in ("b2b", "d2c", "marketplace")} <= keys


def _declare(tmp_path: Path, **changes) -> Path:
    """defs/publish/defs.yaml's storefront_prices block with ``changes``, in ``tmp_path``."""
    docs = yaml.safe_load_all((DEFS_DIR / "publish" / "defs.yaml").read_text())
    block = next(d for d in docs if d["attributes"]["target"] == NAME)
    attributes = {**block["attributes"], **changes}
    attributes = {k: v for k, v in attributes.items() if v is not None}
    (tmp_path / "defs.yaml").write_text(
        yaml.safe_dump({"type": COMPONENT_TYPE, "attributes": attributes})
    )
    return tmp_path


def test_drift_is_validated(tmp_path):
    hourly = {"mode": "correct", "schedule": "5 * * * *"}
    assert declared_targets(_declare(tmp_path, drift=hourly))[NAME].drift == Drift(**hourly)
    with pytest.raises(ValidationError, match=f"{NAME}: drift needs a live relation"):
        declared_targets(_declare(tmp_path, drift=hourly, loop_suppression=None))
    with pytest.raises(ValidationError, match="mode"):
        declared_targets(_declare(tmp_path, drift={"mode": "fix", "schedule": "5 * * * *"}))
    with pytest.raises(ValidationError, match="schedule"):
        declared_targets(_declare(tmp_path, drift={"mode": "report", "schedule": "hourly"}))
