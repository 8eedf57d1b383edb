"""Signing and delivering webhooks.

Signatures (computed over the exact bytes sent):

* Shopify: ``X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, body))``;
* WMS: ``X-Wms-Signature: sha256=hex(HMAC-SHA256(secret, body))``;
* EasyPost: ``X-Hmac-Signature: hmac-sha256-hex=hex(HMAC-SHA256(secret, body))``.

Delivery is one worker task per sandbox, in order, each POST with a 5 s
timeout, retried at most 3 times (0.5 s, 1 s, 2 s apart) on connection
errors and 5xx; then it is recorded as failed and dropped. Fault profiles
``duplicate_webhooks``, ``out_of_order_webhooks`` and ``malformed_records``
act here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.faults import FaultPlan

RETRY_DELAYS = (0.5, 1.0, 2.0)


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wms_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def easypost_signature(secret: str, body: bytes) -> str:
    return "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Delivery:
    system: str
    topic: str
    event_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    sign: tuple[str, str]  # (scheme, secret) so a cut body is re-signed
    attempts: int = 0
    status: int | None = None
    error: str | None = None


@dataclass
class WebhookDispatcher:
    """Queues deliveries and sends them from one background task."""

    faults: FaultPlan
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    failed: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    sent: int = 0
    _queue: asyncio.Queue[Delivery] | None = None
    _held: list[Delivery] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None
    _idle: asyncio.Event | None = None

    def start(self) -> asyncio.Task[None]:
        self._queue = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._client = httpx.AsyncClient(timeout=5.0)
        return asyncio.create_task(self._run(), name="webhook-dispatcher")

    def submit(self, d: Delivery) -> None:
        """Queue one delivery, applying the webhook fault profiles."""
        assert self._queue is not None, "dispatcher not started"
        n = self.faults.tick("webhook")
        if self.faults.on("malformed_records") and n % 25 == 0:
            d.body = d.body[: max(1, len(d.body) // 2)]
            _resign(d)
            self.faults.record(
                "malformed_records",
                d.system,
                f"webhook {d.event_id} body cut to bad JSON",
                event_id=d.event_id,
            )
        copies = [d]
        if self.faults.on("duplicate_webhooks") and n % 3 == 0:
            copies.append(
                Delivery(d.system, d.topic, d.event_id, d.url, d.body, dict(d.headers), d.sign)
            )
            self.faults.record(
                "duplicate_webhooks",
                d.system,
                f"webhook {d.event_id} delivered twice",
                event_id=d.event_id,
            )
        if self.faults.on("out_of_order_webhooks"):
            self._held.extend(copies)
            if len(self._held) >= 4:
                batch, self._held = self._held, []
                self.faults.record(
                    "out_of_order_webhooks",
                    d.system,
                    "batch delivered newest first: "
                    + ", ".join(x.event_id for x in reversed(batch)),
                )
                for x in reversed(batch):
                    self._put(x)
            return
        for x in copies:
            self._put(x)

    def flush_held(self) -> None:
        """Send any deliveries held back for reordering (end of an advance)."""
        batch, self._held = self._held, []
        if batch:
            self.faults.record(
                "out_of_order_webhooks",
                batch[0].system,
                "batch delivered newest first: " + ", ".join(x.event_id for x in reversed(batch)),
            )
        for x in reversed(batch):
            self._put(x)

    def _put(self, d: Delivery) -> None:
        assert self._queue is not None and self._idle is not None
        self._idle.clear()
        self._queue.put_nowait(d)

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until the queue is empty (bounded); True if it emptied."""
        if self._idle is None:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def _run(self) -> None:
        assert self._queue is not None and self._idle is not None and self._client is not None
        while True:
            d = await self._queue.get()
            await self._send(d)
            if self._queue.empty():
                self._idle.set()

    async def _send(self, d: Delivery) -> None:
        assert self._client is not None
        for attempt in range(len(self.retry_delays) + 1):
            d.attempts = attempt + 1
            try:
                r = await self._client.post(d.url, content=d.body, headers=d.headers)
                d.status, d.error = r.status_code, None
                if r.status_code < 500:
                    break
            except httpx.HTTPError as exc:
                d.status, d.error = None, f"{type(exc).__name__}: {exc}"
            if attempt < len(self.retry_delays):
                await asyncio.sleep(self.retry_delays[attempt])
        record = {
            "system": d.system,
            "topic": d.topic,
            "event_id": d.event_id,
            "url": d.url,
            "status": d.status,
            "attempts": d.attempts,
            "error": d.error,
        }
        self.log.append(record)
        if d.status is None or d.status >= 400:
            self.failed.append(record)
        else:
            self.sent += 1

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _resign(d: Delivery) -> None:
    scheme, secret = d.sign
    if scheme == "shopify":
        d.headers["X-Shopify-Hmac-Sha256"] = shopify_signature(secret, d.body)
    elif scheme == "wms":
        d.headers["X-Wms-Signature"] = wms_signature(secret, d.body)
    else:
        d.headers["X-Hmac-Signature"] = easypost_signature(secret, d.body)
