"""Each fault profile produces the faults it names (and logs them)."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
from collections import Counter
from datetime import datetime

import httpx
import pytest

from sandbox.faults import PROFILES, FaultError, parse_profiles
from sandbox.testing import WebhookRecorder, running_sandbox

API = "/admin/api/2025-07"


def shop_get(sb, n: int, timeout: float = 10) -> list[httpx.Response | Exception]:
    out: list[httpx.Response | Exception] = []
    with httpx.Client(
        base_url=sb.shopify_url("D2C") + API,
        timeout=timeout,
        headers={"X-Shopify-Access-Token": sb.shopify_token("D2C")},
    ) as c:
        for _ in range(n):
            try:
                out.append(c.get("/shop.json"))
            except httpx.TimeoutException as exc:
                out.append(exc)
    return out


def test_profiles_are_checked() -> None:
    assert parse_profiles("timeouts, server_errors") == ("server_errors", "timeouts")
    with pytest.raises(FaultError, match="unknown fault profile"):
        parse_profiles("gremlins")
    assert set(PROFILES) == {
        "rate_limit_burst",
        "server_errors",
        "timeouts",
        "duplicate_webhooks",
        "out_of_order_webhooks",
        "late_events",
        "malformed_records",
        "truncated_edi",
        "smtp_drops",  # tests/publish/test_customer_notices.py drives it through the relay
    }


def test_rate_limit_burst() -> None:
    with running_sandbox(seed=1, skus=20, days=0, faults=["rate_limit_burst"]) as sb:
        codes = [r.status_code for r in shop_get(sb, 20)]
        assert [i + 1 for i, c in enumerate(codes) if c == 429] == [7, 8, 9]
        r = httpx.get(
            sb.wms_url("DC-EAST") + "/v1/warehouse", headers={"Authorization": "Bearer x"}
        )
        assert r.status_code in (401, 429)
        assert {f["profile"] for f in sb.control.faults()["log"]} == {"rate_limit_burst"}


def test_server_errors() -> None:
    with running_sandbox(seed=1, skus=20, days=0, faults=["server_errors"]) as sb:
        codes = [r.status_code for r in shop_get(sb, 20)]
        assert [c for c in codes if c >= 500] == [500, 502] and codes[3] == 500 and codes[13] == 502
        assert len(sb.control.faults()["log"]) == 2


def test_timeouts() -> None:
    with running_sandbox(seed=1, skus=20, days=0, faults=["timeouts"], timeout_seconds=1.0) as sb:
        out = shop_get(sb, 12, timeout=0.4)
        assert isinstance(out[10], httpx.TimeoutException)
        assert all(
            isinstance(r, httpx.Response) and r.status_code == 200
            for i, r in enumerate(out)
            if i != 10
        )
        assert sb.control.faults()["log"][0]["profile"] == "timeouts"


def _webhooks(profile: str, hours: int = 8):
    rec = WebhookRecorder().__enter__()
    sb_cm = running_sandbox(
        seed=5,
        skus=30,
        orders_per_day=80,
        days=1,
        auto_release=True,
        webhook_url=rec.url,
        faults=[profile],
    )
    sb = sb_cm.__enter__()
    sb.control.advance(hours=hours)
    assert sb.control.drain()["drained"]
    return rec, sb, sb_cm


def test_duplicate_webhooks() -> None:
    rec, sb, cm = _webhooks("duplicate_webhooks")
    try:
        ids = Counter(
            r.headers.get("X-Shopify-Event-Id")
            or r.headers.get("X-Wms-Event-Id")
            or json.loads(r.body)["id"]
            for r in rec.received()
        )
        twice = [k for k, n in ids.items() if n == 2]
        assert twice and len(twice) == len(
            [f for f in sb.control.faults()["log"] if f["profile"] == "duplicate_webhooks"]
        )
    finally:
        cm.__exit__(None, None, None)
        rec.__exit__(None, None, None)


def test_out_of_order_webhooks() -> None:
    rec, sb, cm = _webhooks("out_of_order_webhooks")
    try:
        cursors: dict[str, list[int]] = {}
        for r in rec.received("/wms/"):
            cursors.setdefault(r.path, []).append(int(json.loads(r.body)["cursor"]))
        assert any(seq != sorted(seq) for seq in cursors.values())
        assert any(f["profile"] == "out_of_order_webhooks" for f in sb.control.faults()["log"])
    finally:
        cm.__exit__(None, None, None)
        rec.__exit__(None, None, None)


def test_late_events() -> None:
    with running_sandbox(
        seed=5, skus=30, orders_per_day=80, days=2, auto_release=True, faults=["late_events"]
    ) as sb:
        r = httpx.get(
            sb.wms_url("DC-EAST") + "/v1/events",
            params={"limit": 1000},
            headers={"Authorization": f"Bearer {sb.wms_token('DC-EAST')}"},
        )
        events = r.json()["events"]
        late = [
            e
            for e in events
            if (
                datetime.fromisoformat(e["recorded_at"]) - datetime.fromisoformat(e["occurred_at"])
            ).seconds
            >= 5 * 3600
        ]
        assert late, "some events are recorded hours after they occurred"
        occurred = [e["occurred_at"] for e in events]
        assert occurred != sorted(occurred)
        carrier = [f for f in sb.control.faults()["log"] if f["system"] == "carrier"]
        assert carrier


def test_malformed_records() -> None:
    rec, sb, cm = _webhooks("malformed_records", hours=30)
    try:
        truth = sb.control.truth(["unknown_sku_lines", "orders"])
        assert truth["unknown_sku_lines"]
        bad = truth["unknown_sku_lines"][0]
        order = next(o for o in truth["orders"] if o["key"] == bad["order"])
        assert any(ln["sku"] == bad["sku"] for ln in order["lines"])
        channel = order["channel"]
        r = httpx.get(
            sb.shopify_url(channel) + API + f"/orders/{order['id']}.json",
            headers={"X-Shopify-Access-Token": sb.shopify_token(channel)},
        )
        line = next(li for li in r.json()["order"]["line_items"] if li["sku"] == bad["sku"])
        assert line["variant_id"] is None and line["product_exists"] is False
        stock = httpx.get(
            sb.wms_url("DC-EAST") + "/v1/stock",
            headers={"Authorization": f"Bearer {sb.wms_token('DC-EAST')}"},
        ).json()["data"]
        assert any(s["quantity"] < 0 for s in stock) and any(
            s["sku"].startswith("UNKNOWN") for s in stock
        )
        csvs = sorted(p for p in sb.dirs["3pl:drop"].iterdir() if p.suffix == ".csv")
        rows = list(csv.reader(io.StringIO(csvs[-1].read_text())))
        assert any(len(r) != 9 for r in rows[1:]) and any(
            r[5] == "-4" for r in rows[1:] if len(r) == 9
        )
        broken = []
        for req in rec.received("/shopify/"):
            try:
                json.loads(req.body)
            except json.JSONDecodeError:
                broken.append(req)
        assert broken
        req = broken[0]
        secret = sb.shopify_secret(req.path.rsplit("/", 1)[-1].upper())
        assert (
            req.headers["X-Shopify-Hmac-Sha256"]
            == base64.b64encode(
                hmac.new(secret.encode(), req.body, hashlib.sha256).digest()
            ).decode()
        )
    finally:
        cm.__exit__(None, None, None)
        rec.__exit__(None, None, None)


def test_truncated_edi() -> None:
    with running_sandbox(seed=5, skus=30, days=2, faults=["truncated_edi"]) as sb:
        files = [
            p
            for key, d in sb.dirs.items()
            if key.endswith(":drop")
            for p in d.iterdir()
            if p.is_file() and p.suffix != ".csv"
        ]
        cut = [p for p in files if "IEA" not in p.read_text()]
        whole = [p for p in files if "IEA" in p.read_text()]
        assert cut and whole
        logged = {f["file"] for f in sb.control.faults()["log"] if f["profile"] == "truncated_edi"}
        assert {p.name for p in cut} == logged
