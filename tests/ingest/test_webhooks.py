"""Webhooks: verified on the raw body, stored once, refused when tampered; sensor → run → raw."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator

import dagster as dg
import httpx
import psycopg
import pytest

from dagster_project.components.system import SystemComponent
from dagster_project.connectors.base import StreamConfig
from dagster_project.hub.migrate import apply_migrations
from dagster_project.hub.resource import HubDatabase
from dagster_project.ingest.readers import SystemConfig
from dagster_project.ingest.sync import sync_stream
from dagster_project.webhooks.app import create_app
from tests.servers import serving

SECRET = "whsec-test-only-not-a-real-secret"


def shopify_signature(body: bytes, secret: str = SECRET) -> str:
    # Shopify's documented algorithm: base64 of the HMAC-SHA256 digest of the raw body
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def hub(scratch_db: str) -> str:
    apply_migrations(scratch_db)
    return scratch_db


@pytest.fixture
def server(hub: str, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("TEST_SHOP_WEBHOOK_SECRET", SECRET)
    systems = {
        "test_shop": SystemConfig(
            system="test_shop",
            kind="shopify",
            credentials={"webhook_secret": "TEST_SHOP_WEBHOOK_SECRET"},
        )
    }
    with serving(create_app(hub, systems)) as url:
        yield url


def post(
    url: str, body: bytes, event_id: str, signature: str | None, topic: str = "orders/create"
) -> httpx.Response:
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": "2026-11-02T10:00:00Z",
        "Content-Type": "application/json",
    }
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    return httpx.post(f"{url}/webhooks/test_shop", content=body, headers=headers, timeout=10)


def inbox(hub: str) -> list[tuple]:
    with psycopg.connect(hub) as conn:
        return conn.execute("select source, topic, event_id from ops.webhook_inbox").fetchall()


ORDER = (
    b'{"id": 820982911946154508, "updated_at": "2026-11-02T10:00:00Z", '
    b'"created_at": "2026-11-02T10:00:00Z", "currency": "USD", "total_price": "10.00", '
    b'"line_items": [{"id": 1, "quantity": 2, "price": "5.00", "sku": "SKU-1"}]}'
)


def test_a_signed_delivery_is_stored_once(server: str, hub: str) -> None:
    first = post(server, ORDER, "evt-1", shopify_signature(ORDER))
    assert first.status_code == 200 and first.json() == {"status": "stored"}
    again = post(server, ORDER, "evt-1", shopify_signature(ORDER))
    assert again.json() == {"status": "duplicate"}
    assert inbox(hub) == [("test_shop", "orders/create", "evt-1")]
    with psycopg.connect(hub) as conn:
        headers = conn.execute("select headers from ops.webhook_inbox").fetchone()[0]
    assert "x-shopify-hmac-sha256" not in headers


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "missing"])
def test_a_bad_signature_is_refused_and_stored_nowhere(server: str, hub: str, case: str) -> None:
    if case == "tampered":
        sig = shopify_signature(ORDER)
        body = ORDER.replace(b'"quantity": 2', b'"quantity": 200')
    elif case == "wrong_secret":
        sig, body = shopify_signature(ORDER, "another-secret"), ORDER
    else:
        sig, body = None, ORDER
    response = post(server, body, "evt-x", sig)
    assert response.status_code == 401
    assert inbox(hub) == []


def test_sensor_launches_a_run_and_the_sync_drains_the_inbox(server: str, hub: str) -> None:
    post(server, ORDER, "evt-1", shopify_signature(ORDER))
    broken = b'{"id": 5, "updated_at": '
    post(server, broken, "evt-2", shopify_signature(broken), topic="orders/updated")
    stream = StreamConfig(
        name="orders",
        primary_key=["id"],
        cursor_field="updated_at",
        webhook_topics=["orders/create", "orders/updated"],
    )
    component = SystemComponent(system="test_shop", kind="shopify", streams=[stream])
    sensor = next(iter(component.build_defs(None).sensors))
    resources = {"hub": HubDatabase(url=hub)}
    with dg.build_sensor_context(resources=resources) as context:
        request = sensor(context)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key.startswith("test_shop:inbox:")
        assert request.asset_selection == [dg.AssetKey(["raw", "test_shop__orders"])]
        assert context.cursor is not None
    with dg.build_sensor_context(resources=resources, cursor=context.cursor) as again:
        assert isinstance(sensor(again), dg.SkipReason)

    with psycopg.connect(hub) as conn:
        result = sync_stream(conn, "test_shop", "shopify", stream, reader=None)
        assert (result.counts.inserted, result.counts.quarantined) == (1, 1)
        assert result.webhook_deliveries == 2
        key = conn.execute("select id from raw.test_shop__orders").fetchone()[0]
        assert key == "820982911946154508"  # the 64-bit id, exact
        reason = conn.execute("select reason from ops.quarantine").fetchone()[0]
        assert "evt-2" in reason and "not JSON" in reason
        pending = conn.execute(
            "select count(*) from ops.webhook_inbox where processed_at is null"
        ).fetchone()[0]
        assert pending == 0
