"""Cancellations as compensating actions (publish target ``order_cancellations``), against the
real Tryton (the session's ``erp``) and the real sandbox warehouses over HTTP and files:

* before release: the ERP sale is cancelled the way Tryton does it (a quotation cancelled; a
  processing sale's customer shipment cancelled and its moves ignored);
* after release: the WMS cancel call (or a cancel 940 to the 3PL, confirmed by its 945 that
  ships nothing), then the ERP sale;
* after shipment: no cancel: the WMS answers already picked/shipped and the ERP sale with a
  shipment done is DEAD ``already_shipped`` (the order becomes a return);
* every message sent twice has one effect (EXISTED).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from dagster_project.connectors.tryton import TrytonClient
from dagster_project.hub.migrate import apply_migrations
from dagster_project.publish.transports import Message, Outcome, Status, open_transport
from sandbox.testing import running_sandbox
from tests.erp_fixtures import RunningErp
from tests.ingest.test_sandbox_ingest import environment
from tests.waiting import wait_until

_ids = iter(range(1, 1_000_000))


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with running_sandbox(seed=11, skus=50, days=1) as handle:
        with environment(handle.env):
            yield handle


@pytest.fixture(scope="module")
def hub(pg_cluster: Any) -> Iterator[str]:
    from tests.conftest import fresh_database

    with fresh_database(pg_cluster) as url:
        apply_migrations(url)
        yield url


def message(target: str, system: str, record_key: str, payload: dict[str, Any]) -> Message:
    return Message(
        id=next(_ids),
        target=target,
        system=system,
        record_key=record_key,
        action="upsert",
        payload=payload,
        idempotency_key=f"{target}:{record_key}:{uuid.uuid4().hex[:8]}",
    )


def send(kind: str, system: str, *messages: Message, **kw: Any) -> list[Outcome]:
    transport = open_transport(kind, system, **kw)
    try:
        return list(transport.send(list(messages)))
    finally:
        transport.close()


def _erp_env(erp: RunningErp) -> dict[str, str]:
    return {
        "DISTROHUB_TRYTON_URL": erp.credentials.url,
        "DISTROHUB_TRYTON_USER": erp.credentials.user,
        "DISTROHUB_TRYTON_PASSWORD": erp.credentials.password,
    }


def _sale(erp: RunningErp, world: Any, reference: str, *, confirm: bool = True) -> None:
    """An ERP sale of ``reference`` as order intake makes it (confirmed: processing)."""
    from dagster_project.connectors.tryton import SalesOrderLine, SalesOrderRequest

    customer = next(c for c in world.customers if c.currency == "USD")
    sku = next(i.sku for i in world.items if not i.kit_components and not i.drop_ship_supplier)
    with TrytonClient(erp.credentials) as client:
        (party,) = client.read_all("party.party", [["code", "=", customer.code]], ["code"])
        (product,) = client.read_all("product.product", [["code", "=", sku]], ["default_uom"])
        line = SalesOrderLine(product["id"], Decimal(2), Decimal("10.00"), product["default_uom"])
        (outcome,) = client.create_sales_orders(
            [SalesOrderRequest(reference, party["id"], (line,))], confirm=confirm
        )
        assert outcome.ok, outcome.error


def _erp_cancel(order_key: str) -> Message:
    return message(
        "order_cancellations",
        "tryton",
        f"{order_key}/erp_cancel",
        {"order_key": order_key, "step": "erp_cancel", "target_system": "tryton"},
    )


def _sale_state(client: TrytonClient, reference: str) -> dict[str, Any]:
    (sale,) = client.read_all(
        "sale.sale",
        [["reference", "=", reference]],
        ["state", "shipment_state", "shipments"],
    )
    shipments = client.read_all("stock.shipment.out", [["id", "in", sale["shipments"]]], ["state"])
    sale["shipment_states"] = sorted(s["state"] for s in shipments)
    return sale


# ---------------------------------------------------------------- before release
def test_before_release_the_erp_sale_is_cancelled_once(
    erp: RunningErp, seed_report: dict, client: TrytonClient, world: Any
) -> None:
    tag = uuid.uuid4().hex[:6]
    processing, quotation = f"CANCEL#{tag}-P", f"CANCEL#{tag}-Q"
    _sale(erp, world, processing)
    _sale(erp, world, quotation, confirm=False)
    assert _sale_state(client, processing)["shipment_states"] == ["waiting"]

    msgs = [_erp_cancel(processing), _erp_cancel(quotation), _erp_cancel(f"CANCEL#{tag}-X")]
    with environment(_erp_env(erp)):
        first = send("tryton_sale_cancels", "tryton", *msgs)
        again = send("tryton_sale_cancels", "tryton", *msgs[:2])
    assert [o.status for o in first[:2]] == [Status.DELIVERED] * 2, first
    assert first[2].status is Status.DEAD and first[2].error_code == "sale_not_found"
    assert f"CANCEL#{tag}-X" in (first[2].error or "")
    assert [o.status for o in again] == [Status.EXISTED] * 2, again  # one effect

    # the quotation is cancelled; the processing sale's shipment is cancelled and its moves
    # ignored through Tryton's shipment exception handling: nothing left to ship
    assert _sale_state(client, quotation)["state"] == "cancelled"
    sale = _sale_state(client, processing)
    assert sale["shipment_states"] == ["cancelled"], sale
    assert sale["shipment_state"] == "none" and sale["state"] in ("processing", "done"), sale
    lines = client.read_all(
        "sale.line", [["sale.reference", "=", processing]], ["moves", "moves_ignored"]
    )
    assert lines and all(set(ln["moves"]) == set(ln["moves_ignored"]) for ln in lines)


# ---------------------------------------------------------------- after release
def _wms(sb: Any) -> httpx.Client:
    return httpx.Client(
        base_url=sb.wms_url("DC-EAST"),
        headers={"Authorization": f"Bearer {sb.wms_token('DC-EAST')}"},
        timeout=10,
    )


def _release(sb: Any, order_key: str) -> Message:
    with _wms(sb) as api:
        rows = api.get("/v1/stock", params={"status": "sellable", "limit": 1000}).json()["data"]
    sku = max(rows, key=lambda r: (r["quantity"], r["sku"]))["sku"]
    line = {
        "release_key": f"{order_key}@DC-EAST",
        "order_key": order_key,
        "location": "DC-EAST",
        "transport": "wms_rest",
        "line_number": 1,
        "sku": sku,
        "kit_sku": None,
        "quantity": 1,
    }
    msg = message("warehouse_releases", "wms_dc_east", line["release_key"], {"lines": [line]})
    (out,) = send("wms_releases", "wms_dc_east", msg)
    assert out.status is Status.DELIVERED, out.error
    return msg


def _wms_cancel(order_key: str, location: str = "DC-EAST", **extra: Any) -> dict[str, Any]:
    return {
        "order_key": order_key,
        "step": "warehouse_cancel",
        "location": location,
        "release_key": f"{order_key}@{location}",
        **extra,
    }


def _release_status(sb: Any, release_key: str) -> str:
    with _wms(sb) as api:
        got = api.get(f"/v1/releases/{release_key.replace('#', '%23')}").json()
    return got["release"]["status"]


def test_after_release_the_wms_cancels_then_the_erp(
    sb: Any, erp: RunningErp, seed_report: dict, client: TrytonClient, world: Any
) -> None:
    order_key = f"CANCEL#{uuid.uuid4().hex[:6]}-W"
    _sale(erp, world, order_key)
    _release(sb, order_key)
    sb.control.advance(hours=1)  # allocated, not picked yet
    payload = _wms_cancel(order_key)
    msg = message("order_cancellations", "wms_dc_east", f"{order_key}/warehouse_cancel", payload)
    first, again = send("wms_release_cancels", "wms_dc_east", msg, msg)
    assert (first.status, again.status) == (Status.DELIVERED, Status.EXISTED), first.error
    assert first.response["status"] == "cancelled"
    assert _release_status(sb, payload["release_key"]) == "cancelled"  # the confirmation
    with environment(_erp_env(erp)):
        (erp_out,) = send("tryton_sale_cancels", "tryton", _erp_cancel(order_key))
    assert erp_out.status is Status.DELIVERED, erp_out.error
    assert _sale_state(client, order_key)["shipment_states"] == ["cancelled"]
    sb.control.advance(hours=8)  # nothing ships for a cancelled release
    shipments = sb.control.truth(["shipments"])["shipments"]
    assert not [s for s in shipments if s["order_ref"] == order_key]


def test_a_cancel_940_stops_the_3pl_and_its_945_confirms(sb: Any, hub: str) -> None:
    order_key = f"CANCEL#{uuid.uuid4().hex[:6]}-T"
    sku = sorted(
        i.sku
        for i in sb.runtime.sim.world.items
        if not i.kit_components and not i.drop_ship_supplier
    )[0]
    lines = [
        {
            "release_key": f"{order_key}@3PL",
            "order_key": order_key,
            "location": "3PL",
            "transport": "x12_940",
            "service_level": "GROUND",
            "shipping_country_code": "US",
            "shipping_province_code": "IL",
            "line_number": 1,
            "sku": sku,
            "kit_sku": None,
            "quantity": 1,
        }
    ]
    release = message("warehouse_releases", "tpl_midway", f"{order_key}@3PL", {"lines": lines})
    (out,) = send("x12_940", "tpl_midway", release, hub_url=hub)
    assert out.status is Status.DELIVERED, out.error
    files = lambda: sb.control.received()["3pl"]["files"]  # noqa: E731
    wait_until("the 3PL read the 940", lambda: order_key in str(files()), timeout=30)

    cancel = message(
        "order_cancellations",
        "tpl_midway",
        f"{order_key}/warehouse_cancel@3PL",
        _wms_cancel(order_key, "3PL", release_lines=lines),
    )
    first, again = send("x12_940_cancel", "tpl_midway", cancel, cancel, hub_url=hub)
    assert first.status is Status.DELIVERED and again.status is Status.EXISTED, first.error
    outbox = Path(sb.env["DISTROHUB_3PL_OUTBOX_DIR"])
    name = first.response["file"]
    path = outbox / name if (outbox / name).exists() else outbox / "archive" / name
    assert f"W05*F*{order_key}~" in path.read_bytes().decode()

    def entry() -> dict[str, Any] | None:
        found = [f for f in files() if f["file"] == name]
        return found[0] if found else None

    wait_until("the 3PL read the cancel 940", lambda: entry() is not None, timeout=30)
    assert entry()["orders"] == [{"number": order_key, "status": "cancelled"}]
    releases = sb.control.truth(["releases"])["releases"]
    (rel,) = [r for r in releases if r["release_id"] == order_key and r["location"] == "3PL"]
    assert rel["status"] == "cancelled"
    sb.control.advance(hours=6)  # its ship time passes: nothing ships, the 945 confirms
    shipments = sb.control.truth(["shipments"])["shipments"]
    assert not [s for s in shipments if s["order_ref"] == order_key]
    tpl_in = Path(sb.env["DISTROHUB_3PL_DROP_DIR"])
    confirmations = [
        p.read_text()
        for p in tpl_in.rglob("945_*.edi")
        if f"W06*N*{order_key}*" in p.read_text() and "CANCEL-" in p.read_text()
    ]
    assert len(confirmations) == 1 and "W03*0*" in confirmations[0]


# ---------------------------------------------------------------- after shipment
def _ship_in_tryton(client: TrytonClient, reference: str) -> None:
    """Take the sale's customer shipment to done through Tryton's workflow."""
    (sale,) = client.read_all("sale.sale", [["reference", "=", reference]], ["shipments"])
    ids = sale["shipments"]
    client.execute("stock.shipment.out", "assign_force", ids)
    for step in ("pick", "pack", "do"):
        client.execute("stock.shipment.out", step, ids)


def test_after_shipment_nothing_is_cancelled_it_is_a_return(
    sb: Any, erp: RunningErp, seed_report: dict, client: TrytonClient, world: Any
) -> None:
    order_key = f"CANCEL#{uuid.uuid4().hex[:6]}-S"
    _sale(erp, world, order_key)
    _release(sb, order_key)
    sb.control.advance(hours=8)  # picked and shipped by the WMS
    assert _release_status(sb, f"{order_key}@DC-EAST") in ("shipped", "short_shipped")
    payload = _wms_cancel(order_key)
    msg = message("order_cancellations", "wms_dc_east", f"{order_key}/warehouse_cancel", payload)
    (wms_out,) = send("wms_release_cancels", "wms_dc_east", msg)
    assert wms_out.status is Status.DEAD
    assert wms_out.error_code in ("already_picked", "already_shipped")
    assert "return" in (wms_out.error or "") and "wms_dc_east" in (wms_out.error or "")

    _ship_in_tryton(client, order_key)
    with environment(_erp_env(erp)):
        (erp_out,) = send("tryton_sale_cancels", "tryton", _erp_cancel(order_key))
    assert erp_out.status is Status.DEAD and erp_out.error_code == "already_shipped"
    assert order_key in (erp_out.error or "") and "return" in (erp_out.error or "")
    sale = _sale_state(client, order_key)
    assert sale["shipment_states"] == ["done"] and sale["state"] != "cancelled"


# ------------------------------------------------------------ the whole pipeline
@pytest.fixture(scope="module")
def pipeline(pg_cluster: Any, erp: RunningErp, state_dir: Path) -> Iterator[Any]:
    """A landed, built clean world beside its own ERP clone (nothing delivered yet)."""
    from tests.erp_fixtures import another_erp
    from tests.models.conftest import landed_world

    with (
        another_erp(erp, state_dir, "erp_cancellations") as own_erp,
        landed_world(pg_cluster, own_erp) as world,
    ):
        assert world.built.success
        with environment({**world.env, "DISTROHUB_DATABASE_URL": world.hub}):
            yield world, own_erp


def _refresh(world: Any, *streams: str) -> None:
    """Load the raw streams named (globs on the key) and rebuild every dbt model above the
    cancellation and release publish models, as the automation's sensors do."""
    import fnmatch

    import dagster as dg

    from tests.models.conftest import DBT_LAYERS, run

    raw = [
        k
        for k in world.keys("raw")
        if any(fnmatch.fnmatch(k.to_user_string(), f"raw/{s}") for s in streams)
    ]
    assert raw, streams
    landed = run(world.definitions, world.hub, world.env, raw)
    assert landed.success, [e.step_key for e in landed.all_events if e.is_step_failure]
    graph = world.definitions.resolve_asset_graph()
    wanted = [
        dg.AssetKey(["publish", m])
        for m in ("order_cancellations", "warehouse_releases", "erp_sales_orders")
    ] + [dg.AssetKey(["marts", "order_cancellations_status"])]
    keys = [
        k
        for k in dg.AssetSelection.assets(*wanted).upstream().resolve(graph)
        if k.path[0] in DBT_LAYERS
    ]
    built = run(world.definitions, world.hub, world.env, keys)
    assert built.success, [e.step_key for e in built.all_events if e.is_step_failure]


def _publish(name: str) -> Any:
    from dagster_project.publish.run import publish
    from dagster_project.publish.targets import target

    return publish(os.environ["DISTROHUB_DATABASE_URL"], target(name), log=lambda _: None)


def _rows(hub: str, query: str, *params: Any) -> list[tuple]:
    import psycopg

    with psycopg.connect(hub) as conn:
        return conn.execute(query, params).fetchall()


def _cancel_in_store(sb: Any, order_key: str) -> None:
    channel, number = order_key.split("#")
    sb.control.change_order(channel, int(number), "cancel")


# a landed, built world (about 7 minutes on 2 cores) and four rounds of ingest, rebuild and
# delivery (about a minute each)
@pytest.mark.timeout(1500)
def test_the_pipeline_compensates_each_stage_once(pipeline: Any) -> None:
    """Three orders in the ERP and routed to a WMS: A cancelled before its release (the ERP
    sale cancelled), B after its release (the WMS cancels, then the ERP), C after it shipped
    (nothing cancelled: return_required); a second publish sends nothing."""
    world, own_erp = pipeline
    sb, hub = world.sandbox, world.hub
    assert _publish("erp_sales_orders").delivery is not None
    _refresh(world, "tryton__sale*")
    candidates = _rows(
        hub,
        """select distinct order_key from publish.warehouse_releases
            where transport = 'wms_rest' and order_key like %s order by order_key""",
        "D2C#%",
    )
    assert len(candidates) >= 3, candidates
    a, b, c = (row[0] for row in candidates[:3])

    _cancel_in_store(sb, a)  # before its release
    _refresh(world, "shopify_*__orders")
    assert _rows(hub, "select 1 from publish.warehouse_releases where order_key = %s", a) == []
    _publish("warehouse_releases")
    _cancel_in_store(sb, b)  # released, not picked: the WMS has not even allocated it
    _refresh(world, "shopify_*__orders")
    _publish("order_cancellations")
    steps = dict(
        _rows(hub, "select record_key, status from ops.outbox where target = 'order_cancellations'")
    )
    assert steps.get(f"{a}/erp_cancel") == "delivered", steps
    (b_wms,) = [k for k in steps if k.startswith(f"{b}/warehouse_cancel@")]
    assert steps[b_wms] == "delivered" and f"{b}/erp_cancel" not in steps  # not confirmed yet

    sb.control.advance(hours=8)  # C is picked and shipped; B stays cancelled
    _cancel_in_store(sb, c)  # too late: it shipped
    _refresh(world, "shopify_*__orders", "wms_*__releases", "wms_*__shipments")
    _publish("order_cancellations")
    steps = dict(
        _rows(hub, "select record_key, status from ops.outbox where target = 'order_cancellations'")
    )
    assert steps.get(f"{b}/erp_cancel") == "delivered", steps
    assert not [k for k in steps if k.startswith(f"{c}/")], steps
    again = _publish("order_cancellations")
    assert again.enqueued is not None and again.enqueued.messages == 0  # nothing new

    status = {
        row[0]: row[1:]
        for row in _rows(
            hub,
            """select order_key, stage, state from marts.order_cancellations_status
                where order_key in (%s, %s, %s)""",
            a,
            b,
            c,
        )
    }
    assert status == {
        a: ("not_released", "cancelled"),
        b: ("released", "cancelled"),
        c: ("shipped", "return_required"),
    }
    with TrytonClient(own_erp.credentials) as client:
        for key in (a, b):
            sale = _sale_state(client, key)
            assert sale["shipment_states"] == ["cancelled"] and sale["shipment_state"] == "none"
        assert _sale_state(client, c)["shipment_states"] != ["cancelled"]
