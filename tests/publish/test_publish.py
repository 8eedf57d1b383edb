"""Publishing end to end: gate, diff, outbox, delivery into the sandbox and the real ERP.

The tests share ``publish_world`` and run in file order: nothing is delivered before
``test_first_publish_…``; later tests build on what it delivered.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal

import psycopg
import pytest
from click.testing import CliRunner

from dagster_project.cli.publish import dlq
from dagster_project.cli.publish import publish as publish_cli
from dagster_project.cli.publish import replay as replay_cli
from dagster_project.publish.gate import evaluate
from dagster_project.publish.run import PublishRefused, publish
from dagster_project.publish.targets import declared_targets, target
from tests.publish.conftest import tampered

TARGETS = sorted(declared_targets())
NOTICES = "customer_notices"


def _scalar(hub: str, query: str, *params):
    with psycopg.connect(hub) as conn:
        return conn.execute(query, params).fetchone()[0]


def _received_counts(sb) -> Counter:
    received = sb.control.received()
    counts: Counter = Counter()
    for store, parts in received["shopify"].items():
        for part in ("inventory_level_sets", "variant_price_updates", "fulfillments"):
            counts[f"{store}:{part}"] = len(parts[part])
    for dc, parts in received["wms"].items():
        counts[f"{dc}:releases"] = len(parts["releases"])
    counts["3pl:files"] = len(received["3pl"]["files"])
    for code, parts in received["suppliers"].items():
        counts[f"{code}:files"] = len(parts["files"])
    return counts


def _erp_sales(erp, references: list[str]) -> Counter:
    from dagster_project.connectors.tryton import TrytonClient

    with TrytonClient(erp.credentials) as client:
        rows = client.read_all("sale.sale", [["reference", "in", references]], ["reference"])
    return Counter(r["reference"] for r in rows)


def test_every_publish_model_passed_its_gate_in_the_build(publish_world):
    evaluations = {
        e.asset_key.path[-1]: e
        for e in publish_world.built.get_asset_check_evaluations()
        if e.check_name == "gate"
    }
    assert sorted(evaluations) == sorted(declared_targets()[t].model for t in TARGETS)
    failed = {m: e.description for m, e in evaluations.items() if not e.passed}
    assert not failed
    verdicts = _scalar(
        publish_world.hub,
        "select count(distinct model) from ops.gate_results where gate = 'gate' and passed",
    )
    assert verdicts == len(TARGETS)


def test_a_dry_run_sends_nothing(publish_world):
    before = _received_counts(publish_world.sandbox)
    adds = {}
    for name in TARGETS:
        result = publish(publish_world.hub, target(name), dry_run=True, log=lambda _: None)
        adds[name] = result.counts.adds
        assert result.delivery is None and result.enqueued is None
        if result.counts.adds:
            assert result.sample and all(r.change in ("add", "change") for r in result.sample)
    assert adds["storefront_inventory"] > 0 and adds["erp_sales_orders"] > 0
    out = CliRunner().invoke(publish_cli, ["--dry-run", "storefront_prices"])
    assert out.exit_code == 0, out.output
    assert "nothing was sent" in out.output
    assert _scalar(publish_world.hub, "select count(*) from ops.outbox") == 0
    assert _scalar(publish_world.hub, "select count(*) from ops.published_state") == 0
    assert _received_counts(publish_world.sandbox) == before


BAD_ROWS = {
    "negative availability": (
        "storefront_inventory",
        """update publish.storefront_inventory set available = -5
            where record_key = (select min(record_key) from publish.storefront_inventory)""",
        "available",
    ),
    "price 100x the list price": (
        "storefront_prices",
        """update publish.storefront_prices set price = price * 100
            where (system, variant_id) = (select system, variant_id from publish.storefront_prices
                                           order by system, variant_id limit 1)""",
        "price",
    ),
    "unknown SKU": (
        "erp_sales_orders",
        """update publish.erp_sales_orders set sku = 'NO-SUCH-SKU-1'
            where order_line_key = (select min(order_line_key) from publish.erp_sales_orders
                                     where hold_reason is null)""",
        "sku",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_row_holds_its_publish_and_nothing_is_sent(publish_world, erp_publish, case):
    name, statement, column = BAD_ROWS[case]
    cfg = target(name)
    hub = publish_world.hub
    before = _received_counts(publish_world.sandbox)
    with tampered(hub, cfg.model, statement) as changed:
        assert changed == 1
        verdict = evaluate(hub, cfg)
        assert not verdict.passed
        suite = next(p for p in verdict.parts if p.gate == "expectations")
        assert not suite.passed
        failures = suite.details["failures"]
        assert failures and all(f["unexpected_count"] == 1 for f in failures), failures
        assert any(column in (f["column"] or "") + f["expectation"] + f["detail"] for f in failures)
        with pytest.raises(PublishRefused) as refused:
            publish(hub, cfg, log=lambda _: None)
        message = str(refused.value)
        assert "nothing was sent" in message and failures[0]["expectation"] in message
    assert _scalar(hub, "select count(*) from ops.outbox where target = %s", name) == 0
    assert _received_counts(publish_world.sandbox) == before
    if name == "erp_sales_orders":
        refs = [
            r[0]
            for r in psycopg.connect(hub).execute(
                "select distinct order_key from publish.erp_sales_orders where hold_reason is null"
            )
        ]
        assert not _erp_sales(erp_publish, refs)


def _delivery_process(world, name: str, pause: float) -> subprocess.Popen:
    env = {
        **os.environ,
        **world.env,
        "DISTROHUB_DATABASE_URL": world.hub,
        "DISTROHUB_DELIVERY_PAUSE_AFTER_SEND": str(pause),
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from dagster_project.cli.main import cli; cli()", "publish", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_after_first_send(proc: subprocess.Popen, name: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(f"sent {name} "):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return line
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"no send seen: {proc.stderr.read() if proc.stderr else ''}")


def test_sigkill_between_send_and_ack_then_resume_erp_orders(publish_world, erp_publish):
    """The ERP holds every order exactly once whatever the crash (reference = order key)."""
    hub, name = publish_world.hub, "erp_sales_orders"
    refs = sorted(
        r[0]
        for r in psycopg.connect(hub).execute(
            "select distinct order_key from publish.erp_sales_orders where hold_reason is null"
        )
    )
    assert refs
    line = _kill_after_first_send(_delivery_process(publish_world, name, 60), name)
    killed_key = line.split()[2]
    pending = _scalar(
        hub,
        "select count(*) from ops.outbox where target = %s and status = 'pending'",
        name,
    )
    assert pending == len(refs)  # the kill came before the first acknowledgement
    assert _erp_sales(erp_publish, [killed_key])[killed_key] == 1  # … and after the send
    result = publish(hub, target(name), log=lambda _: None)
    assert result.enqueued.messages == 0  # the diff sees them pending: nothing twice
    statuses = dict(
        psycopg.connect(hub)
        .execute("select record_key, status from ops.outbox where target = %s", (name,))
        .fetchall()
    )
    assert set(statuses) == set(refs)
    assert statuses[killed_key] == "existed"
    assert set(statuses.values()) <= {"delivered", "existed"}
    sales = _erp_sales(erp_publish, refs)
    assert sales == Counter(dict.fromkeys(refs, 1))  # no loss, no duplicate
    # each ERP sale totals what the storefront charged (items plus a line for shipping, tax
    # and discounts), so recon_orders finds no total mismatch in what the hub created
    from dagster_project.connectors.tryton import TrytonClient

    with TrytonClient(erp_publish.credentials) as client:
        erp_totals = {
            r["reference"]: Decimal(str(r["total_amount"]))
            for r in client.read_all(
                "sale.sale", [["reference", "in", refs]], ["reference", "total_amount"]
            )
        }
    with psycopg.connect(hub) as conn:
        charged = dict(
            conn.execute(
                """select distinct order_key, order_total from publish.erp_sales_orders
                    where order_key = any(%s)""",
                (refs,),
            ).fetchall()
        )
    assert erp_totals == charged


def test_sigkill_between_send_and_ack_then_resume_storefront_levels(publish_world):
    """The stores end with every level we meant, each set to one value, nothing lost."""
    hub, name, sb = publish_world.hub, "storefront_inventory", publish_world.sandbox
    before = sb.control.received()["shopify"]
    line = _kill_after_first_send(_delivery_process(publish_world, name, 60), name)
    killed_key = line.split()[2]
    result = publish(hub, target(name), log=lambda _: None)
    assert result.enqueued.messages == 0
    with psycopg.connect(hub) as conn:
        desired = {
            (r[0], r[1], r[2]): r[3]
            for r in conn.execute(
                """select system, inventory_item_id, location_id, available
                     from publish.storefront_inventory"""
            )
        }
        statuses = Counter(
            dict(
                conn.execute(
                    """select status, count(*) from ops.outbox where target = %s
                        group by status""",
                    (name,),
                ).fetchall()
            )
        )
        killed_status = conn.execute(
            "select status from ops.outbox where target = %s and record_key = %s",
            (name, killed_key),
        ).fetchone()[0]
    assert set(statuses) <= {"delivered", "suppressed"} and killed_status == "delivered"
    after = sb.control.received()["shopify"]
    sets: dict[tuple, list[int]] = {}
    for store, parts in after.items():
        for entry in parts["inventory_level_sets"][len(before[store]["inventory_level_sets"]) :]:
            sets.setdefault((store, entry["sku"], entry["location"]), []).append(entry["available"])
    assert sum(len(v) for v in sets.values()) == statuses["delivered"] + 1  # one resend
    assert all(len(set(values)) == 1 for values in sets.values())  # same value each time
    # every record delivered is at the store, with the value we meant
    live = _store_levels(publish_world)
    wrong = {k: (v, live.get(k)) for k, v in desired.items() if live.get(k) != v}
    assert not wrong


def test_each_store_shows_the_drop_ship_figures_after_delivery(publish_world):
    """A drop-ship item's level at its supplier's store location (named DROPSHIP-<supplier>),
    read from the store itself, is the figure the hub computed from the supplier's 846
    (marts.sellable_inventory), for every drop-ship item every store lists."""
    import httpx

    hub = publish_world.hub
    # delivers what is not delivered yet (nothing, after the tests above)
    publish(hub, target("storefront_inventory"), log=lambda _: None)
    with psycopg.connect(hub) as conn:
        figures = {
            (r[0], r[1], r[2]): r[3]
            for r in conn.execute(
                """select channel_system, sku, location, published_quantity
                     from marts.sellable_inventory where supply_kind = 'drop_ship'"""
            )
        }
    assert any(v for v in figures.values()), "some drop-ship item should have a figure above 0"
    live = {}
    for system in sorted({k[0] for k in figures}):
        store = system.removeprefix("shopify_").upper()
        with httpx.Client(
            base_url=publish_world.sandbox.shopify_url(store) + "/admin/api/2025-07",
            headers={"X-Shopify-Access-Token": publish_world.sandbox.shopify_token(store)},
        ) as api:
            for location in api.get("/locations.json").json()["locations"]:
                if not location["name"].startswith("DROPSHIP-"):
                    continue
                url = f"/locations/{location['id']}/inventory_levels.json?limit=250"
                levels = {}
                while url:
                    response = api.get(url)
                    response.raise_for_status()
                    for level in response.json()["inventory_levels"]:
                        levels[level["inventory_item_id"]] = level["available"]
                    url = response.links.get("next", {}).get("url")
                ids = ",".join(map(str, levels))
                for item in api.get(f"/inventory_items.json?ids={ids}").json()["inventory_items"]:
                    live[(system, item["sku"], location["name"])] = levels[item["id"]]
    assert live == figures


def _store_levels(world) -> dict[tuple, int]:
    import httpx

    levels = {}
    with psycopg.connect(world.hub) as conn:
        keys = conn.execute(
            "select distinct system, inventory_item_id from publish.storefront_inventory"
        ).fetchall()
    by_system: dict[str, list[int]] = {}
    for system, item in keys:
        by_system.setdefault(system, []).append(item)
    for system, items in by_system.items():
        store = system.removeprefix("shopify_").upper()
        url = world.sandbox.shopify_url(store) + "/admin/api/2025-07/inventory_levels.json"
        headers = {"X-Shopify-Access-Token": world.sandbox.shopify_token(store)}
        for start in range(0, len(items), 50):
            chunk = items[start : start + 50]
            response = httpx.get(
                url,
                params={"inventory_item_ids": ",".join(map(str, chunk)), "limit": 250},
                headers=headers,
            )
            response.raise_for_status()
            for level in response.json()["inventory_levels"]:
                levels[(system, level["inventory_item_id"], level["location_id"])] = level[
                    "available"
                ]
    return levels


def test_an_unchanged_model_sends_nothing_again(publish_world):
    before = _received_counts(publish_world.sandbox)
    result = publish(publish_world.hub, target("storefront_inventory"), log=lambda _: None)
    assert result.enqueued.messages == 0 and result.counts.adds == 0
    assert result.counts.changes == 0
    assert _received_counts(publish_world.sandbox) == before


def test_a_change_of_60_percent_trips_the_blast_radius(publish_world):
    hub, name = publish_world.hub, "storefront_inventory"
    cfg = target(name)
    before = _received_counts(publish_world.sandbox)
    published = _scalar(hub, "select count(*) from ops.published_state where target = %s", name)
    assert published >= cfg.blast_radius.min_published
    statement = """update publish.storefront_inventory set available = available + 1
                    where record_key in (select record_key from publish.storefront_inventory
                                          order by md5(record_key)
                                          limit ceil(0.6 * (select count(*)
                                                   from publish.storefront_inventory)))"""
    with tampered(hub, cfg.model, statement):
        verdict = evaluate(hub, cfg)
        radius = next(p for p in verdict.parts if p.gate == "blast_radius")
        assert not radius.passed
        # 60% of the records change in the hub; those a store already shows at the new value
        # (its orders took the same units off) change nothing there and are not counted
        changed = _scalar(
            hub,
            "select ceil(0.6 * count(*))::integer from publish.storefront_inventory",
        )
        assert radius.details["changes"] == changed
        sent = changed - radius.details["changes_already_in_target"]
        assert sent > 0.5 * radius.details["published"]
        assert f"{sent} of {radius.details['published']} published records would change" in (
            radius.summary
        )
        assert "limit 50%" in radius.summary
        with pytest.raises(PublishRefused, match="blast_radius"):
            publish(hub, cfg, log=lambda _: None)
    assert _received_counts(publish_world.sandbox) == before
    assert (
        _scalar(
            hub, "select count(*) from ops.outbox where target = %s and status = 'pending'", name
        )
        == 0
    )


def test_dead_letters_can_be_retried(publish_world, monkeypatch):
    """A store refuses a rotated token: its prices become dead letters at once (a 401 is not
    retried); with the token fixed, `distrohub dlq retry` delivers them."""
    hub, name = publish_world.hub, "storefront_prices"
    monkeypatch.setenv("DISTROHUB_SHOPIFY_D2C_TOKEN", "shpat_rotated_and_wrong")
    result = publish(hub, target(name), log=lambda _: None)
    dead = result.delivery.outcomes["dead"]
    d2c = _scalar(
        hub,
        "select count(*) from ops.outbox where target = %s and system = 'shopify_d2c'"
        " and status = 'dead'",
        name,
    )
    assert dead == d2c > 0
    codes = _scalar(
        hub,
        "select array_agg(distinct error_code) from ops.dead_letter where target = %s",
        name,
    )
    assert codes == ["auth_failed"]
    listed = CliRunner().invoke(dlq, ["list", "--target", name])
    assert listed.exit_code == 0 and "auth_failed" in listed.output
    # the next publish does not enqueue the dead states again
    again = publish(hub, target(name), log=lambda _: None)
    assert again.enqueued.messages == 0
    monkeypatch.setenv(
        "DISTROHUB_SHOPIFY_D2C_TOKEN", publish_world.env["DISTROHUB_SHOPIFY_D2C_TOKEN"]
    )
    retried = CliRunner().invoke(dlq, ["retry", "--target", name])
    assert retried.exit_code == 0, retried.output
    assert (
        _scalar(
            hub,
            "select count(*) from ops.dead_letter where target = %s and resolved_at is null",
            name,
        )
        == 0
    )
    assert (
        _scalar(
            hub,
            "select count(*) from ops.outbox where target = %s and status not in"
            " ('delivered', 'suppressed')",
            name,
        )
        == 0
    )
    updates = publish_world.sandbox.control.received()["shopify"]["D2C"]["variant_price_updates"]
    assert len(updates) == d2c


def test_replay_sends_the_same_state_again(publish_world):
    """`distrohub replay` re-sends what a target was told since T; each value is unchanged."""
    hub, name = publish_world.hub, "storefront_prices"
    received = publish_world.sandbox.control.received()["shopify"]
    before = {s: len(p["variant_price_updates"]) for s, p in received.items()}
    sent = _scalar(
        hub,
        "select count(distinct record_key) from ops.outbox where target = %s"
        " and status = 'delivered'",
        name,
    )
    out = CliRunner().invoke(replay_cli, [name, "--since", "2000-01-01"])
    assert out.exit_code == 0, out.output
    assert f"{sent} records" in out.output
    after = publish_world.sandbox.control.received()["shopify"]
    resent = {
        (s, u["sku"]): (u["price"], u["compare_at_price"])
        for s, p in after.items()
        for u in p["variant_price_updates"][before[s] :]
    }
    assert len(resent) == sent
    first = {
        (s, u["sku"]): (u["price"], u["compare_at_price"])
        for s, p in after.items()
        for u in p["variant_price_updates"][: before[s]]
    }
    assert all(first[k] == v for k, v in resent.items())


def test_the_sensor_launches_a_delivery_for_a_new_version(publish_world):
    import dagster as dg

    from dagster_project.hub.resource import HubDatabase

    sensor = publish_world.definitions.get_sensor_def("storefront_inventory_on_new_version")
    key = dg.AssetKey(["publish", "storefront_inventory"])
    with dg.instance_for_test() as instance:
        resources = {"hub": HubDatabase(url=publish_world.hub)}
        ctx = dg.build_sensor_context(instance=instance, resources=resources)
        assert isinstance(sensor(ctx), dg.SkipReason)
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        ctx = dg.build_sensor_context(instance=instance, resources=resources)
        request = sensor(ctx)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key.startswith("storefront_inventory:version:")
        ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=ctx.cursor)
        assert isinstance(sensor(ctx), dg.SkipReason)


# ------------------------------------------------------------------ customer notices
# last of this file: the dry run above finds the outbox empty, so no notice is sent before it
def test_every_notice_goes_once_through_the_publish(publish_world) -> None:
    hub, sb = publish_world.hub, publish_world.sandbox
    with psycopg.connect(hub) as conn:
        desired = conn.execute(
            """select order_key || ':' || event || ':' || event_ref, event, tracking_number
                 from publish.customer_notices where hold_reason is null"""
        ).fetchall()
    events = Counter(e for _, e, _ in desired)
    assert events["shipped"] > 0, events
    before = len(sb.control.mailbox())

    first = publish(hub, target(NOTICES), log=lambda _: None)
    assert first.enqueued.messages == len(desired)
    assert first.delivery.delivered == len(desired) and not first.delivery.dead
    received = sb.control.mailbox()[before:]
    by_key = Counter(m["headers"]["X-Distrohub-Notice"] for m in received)
    assert by_key == Counter(f"{NOTICES}:{key}" for key, _, _ in desired)  # each once
    tracking = {f"{NOTICES}:{k}": t for k, e, t in desired if e == "shipped" and t}
    for mail in received:
        if mail["headers"]["X-Distrohub-Notice"] in tracking:
            assert f"Tracking: {tracking[mail['headers']['X-Distrohub-Notice']]}" in mail["text"]

    # again: nothing new; and rebuilt, the published notices leave the model (never twice)
    again = publish(hub, target(NOTICES), log=lambda _: None)
    assert again.enqueued.messages == 0 and again.counts.adds == 0
    publish_world.rebuild("publish/customer_notices")
    with psycopg.connect(hub) as conn:
        left = conn.execute(
            "select count(*) from publish.customer_notices where hold_reason is null"
        ).fetchone()[0]
        assert left == 0
        shown = conn.execute(
            "select status, count(*) from marts.order_notices group by status"
        ).fetchall()
    assert dict(shown).get("sent") == len(desired)
    third = publish(hub, target(NOTICES), log=lambda _: None)
    assert third.enqueued.messages == 0
    assert len(sb.control.mailbox()) == before + len(desired)
