"""Message-level retries: backoff (or the target's Retry-After), then a dead letter."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dagster_project.hub.migrate import apply_migrations
from dagster_project.publish.deliver import _acknowledge, connect
from dagster_project.publish.targets import target
from dagster_project.publish.transports.base import Message, Outcome, Status


@pytest.fixture
def conn(scratch_db):
    apply_migrations(scratch_db)
    with connect(scratch_db) as c:
        c.autocommit = True
        yield c


def _message(conn, key: str) -> Message:
    payload = {"system": "shopify_d2c", "variant_id": 1, "price": "9.99"}
    (mid,) = conn.execute(
        """insert into ops.outbox (target, system, record_key, action, change, payload,
                                   payload_hash, idempotency_key, status)
           values ('storefront_prices', 'shopify_d2c', %s, 'upsert', 'add', %s, 'h', %s,
                   'pending') returning id""",
        (key, json.dumps(payload), f"storefront_prices:{key}:h"),
    ).fetchone()
    return Message(mid, "storefront_prices", "shopify_d2c", key, "upsert", payload, key, 0)


def _wait_seconds(conn, mid: int) -> float:
    return conn.execute(
        "select extract(epoch from next_attempt_at - now()) from ops.outbox where id = %s", (mid,)
    ).fetchone()[0]


def test_a_transient_failure_backs_off_then_becomes_a_dead_letter(conn):
    cfg = target("storefront_prices").model_copy(
        update={"max_attempts": 3, "retry_backoff_seconds": 10.0}
    )
    msg = _message(conn, "shopify_d2c:1")
    down = dict(error_code="target_unavailable", error="shopify_d2c: HTTP 503 after 4 attempts")
    # the target asked for 2 minutes: that wins over the 10 s backoff
    out = Outcome(msg.id, Status.RETRY, retry_after=120.0, **down)
    assert _acknowledge(conn, cfg, msg, out) == "retry"
    assert 110 < _wait_seconds(conn, msg.id) <= 120
    # the second failure waits 10 s x 2
    msg = replace(msg, attempts=1)
    assert _acknowledge(conn, cfg, msg, Outcome(msg.id, Status.RETRY, **down)) == "retry"
    assert 15 < _wait_seconds(conn, msg.id) <= 20
    # the third is the last attempt: a dead letter, with the code and the reason
    msg = replace(msg, attempts=2)
    assert _acknowledge(conn, cfg, msg, Outcome(msg.id, Status.RETRY, **down)) == "dead"
    row = conn.execute(
        "select error_code, error, attempts from ops.dead_letter where outbox_id = %s", (msg.id,)
    ).fetchone()
    assert row[0] == "target_unavailable" and row[2] == 3
    assert row[1].startswith("gave up after 3 attempts: shopify_d2c: HTTP 503")
    status = conn.execute("select status from ops.outbox where id = %s", (msg.id,)).fetchone()[0]
    assert status == "dead"


def test_a_refusal_is_a_dead_letter_at_once_and_a_delivery_is_published(conn):
    cfg = target("storefront_prices")
    refused = _message(conn, "shopify_d2c:2")
    out = Outcome(
        refused.id,
        Status.DEAD,
        response={"errors": "Not Found"},
        error_code="unknown_sku",
        error="shopify_d2c: variant 2: the store has no such variant",
    )
    assert _acknowledge(conn, cfg, refused, out) == "dead"
    assert conn.execute(
        "select error_code, response from ops.dead_letter where outbox_id = %s", (refused.id,)
    ).fetchone() == ("unknown_sku", {"errors": "Not Found"})
    sent = _message(conn, "shopify_d2c:3")
    assert _acknowledge(conn, cfg, sent, Outcome(sent.id, Status.DELIVERED, response={})) == (
        "delivered"
    )
    published = conn.execute(
        "select payload from ops.published_state where target = %s and record_key = %s",
        ("storefront_prices", "shopify_d2c:3"),
    ).fetchone()[0]
    assert published["price"] == "9.99"
