"""Webhooks are POSTed signed, and the signatures verify with each platform's
documented algorithm, computed here independently of the sandbox code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx

from sandbox.testing import WebhookRecorder, running_sandbox
from tests.waiting import wait_until


def test_signed_webhooks_from_every_system() -> None:
    with (
        WebhookRecorder() as rec,
        running_sandbox(
            seed=21, skus=40, orders_per_day=60, days=1, auto_release=True, webhook_url=rec.url
        ) as sb,
    ):
        # a Shopify subscription made through the API wins over the default URL for its topic
        r = httpx.post(
            sb.shopify_url("B2B") + "/admin/api/2025-07/webhooks.json",
            headers={"X-Shopify-Access-Token": sb.shopify_token("B2B")},
            json={"webhook": {"topic": "orders/create", "address": rec.url + "/subscribed/b2b"}},
        )
        assert r.status_code == 201, r.text
        sb.control.advance(hours=20)
        assert sb.control.drain()["drained"]
        shop = rec.received("/shopify/")
        wms = rec.received("/wms/")
        carrier = rec.received("/carrier/")
        subscribed = rec.received("/subscribed/b2b")
        assert shop and wms and carrier and subscribed

        topics = {r.headers["X-Shopify-Topic"] for r in shop}
        assert {"orders/create", "inventory_levels/update"} <= topics
        for req in shop + subscribed:
            channel = req.path.rsplit("/", 1)[-1].upper()
            secret = sb.shopify_secret(channel)
            expected = base64.b64encode(
                hmac.new(secret.encode(), req.body, hashlib.sha256).digest()
            ).decode()
            assert hmac.compare_digest(req.headers["X-Shopify-Hmac-Sha256"], expected)
            assert req.headers["X-Shopify-Event-Id"] and req.headers[
                "X-Shopify-Triggered-At"
            ].endswith("Z")
            assert req.headers["X-Shopify-Shop-Domain"].endswith(".myshopify.com")
            body = json.loads(req.body)
            if req.headers["X-Shopify-Topic"] == "orders/create":
                assert (
                    isinstance(body["id"], int) and body["line_items"]
                )  # bare resource, no envelope
        assert len({r.headers["X-Shopify-Event-Id"] for r in shop}) == len(shop)
        assert all(r.headers["X-Shopify-Topic"] == "orders/create" for r in subscribed)
        assert not any(
            r.path == "/shopify/b2b" and r.headers["X-Shopify-Topic"] == "orders/create"
            for r in shop
        )

        for req in wms:
            loc = "DC-EAST" if req.path.endswith("dc-east") else "DC-WEST"
            digest = hmac.new(sb.wms_secret(loc).encode(), req.body, hashlib.sha256).hexdigest()
            assert req.headers["X-Wms-Signature"] == "sha256=" + digest
            event = json.loads(req.body)
            assert (
                event["id"] == req.headers["X-Wms-Event-Id"]
                and event["type"] == req.headers["X-Wms-Event-Type"]
            )

        secret = sb.credentials["carrier"]["webhook_secret"]
        for req in carrier:
            digest = hmac.new(secret.encode(), req.body, hashlib.sha256).hexdigest()
            assert req.headers["X-Hmac-Signature"] == "hmac-sha256-hex=" + digest
            event = json.loads(req.body)
            assert event["object"] == "Event" and event["description"] == "tracker.updated"
            assert event["result"]["object"] == "Tracker" and event["result"]["tracking_details"]


def test_nobody_listening_means_bounded_retries_then_give_up() -> None:
    with WebhookRecorder() as rec:
        dead = rec.url  # closed below: nothing listens there any more
    with running_sandbox(seed=22, skus=20, orders_per_day=24, days=0, webhook_url=dead) as sb:
        sb.control.advance(hours=1)
        hooks = wait_until(
            "the sandbox to give up on the deliveries to a closed port",
            lambda: (h := sb.control.webhooks())["failed"] and h,
        )
        assert all(f["attempts"] == 4 and f["status"] is None for f in hooks["failed"])
