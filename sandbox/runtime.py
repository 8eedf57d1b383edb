"""The running sandbox: configuration, credentials, the simulation, webhook
delivery and the drop folders, shared by every server in the process.

Everything runs on one asyncio loop, so handlers mutate the simulation
without locks; a long `advance` blocks the servers while it runs.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox import carriers
from sandbox.faults import FaultPlan
from sandbox.ids import hex_id
from sandbox.order_bodies import RenderedOrders
from sandbox.planning import write_planning_exports
from sandbox.rate_limit import LeakyBucket
from sandbox.records import LiveOrder, Tracker, WmsEvent
from sandbox.shopify_payloads import API_VERSION, Renderer
from sandbox.simulation import Simulation
from sandbox.webhooks import (
    Delivery,
    WebhookDispatcher,
    easypost_signature,
    shopify_signature,
    wms_signature,
)
from sandbox.worldgen import generate_world

SYSTEMS = (
    "shopify:B2B",
    "shopify:D2C",
    "shopify:MARKETPLACE",
    "wms:DC-EAST",
    "wms:DC-WEST",
    "carrier",
    "control",
)


@dataclass
class SandboxConfig:
    """The arguments of ``sandbox up`` (also the in-process testing helper)."""

    seed: int = 1
    skus: int = 50
    orders_per_day: int = 20
    days: int = 3
    scenario: str = "clean"
    faults: tuple[str, ...] = ()
    auto_release: bool = False
    tick_seconds: float = 0.0
    api_plan: str = "standard"
    marketplace_api_plan: str = "advanced"
    timeout_seconds: float = 15.0
    webhook_url: str | None = None
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0)
    # a benchmark's store: this many orders placed in backlog_channel's (empty) store over the
    # 30 days before the epoch (Simulation.place_backlog); needs orders_per_day 0
    backlog_orders: int = 0
    backlog_channel: str = "D2C"
    # render every storefront order once at start and serve list pages from those bytes
    prerender_orders: bool = False
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["faults"] = list(self.faults)
        d["webhook_retry_delays"] = list(self.webhook_retry_delays)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SandboxConfig:
        d = dict(d)
        d["faults"] = tuple(d.get("faults") or ())
        d["webhook_retry_delays"] = tuple(d.get("webhook_retry_delays") or (0.5, 1.0, 2.0))
        return cls(**d)


class SandboxRuntime:
    """See the module docstring."""

    def __init__(
        self, config: SandboxConfig, credentials: dict[str, Any], dirs: dict[str, Path]
    ) -> None:
        self.config = config
        self.creds = credentials
        self.dirs = dirs
        self.faults = FaultPlan(config.faults, timeout_seconds=config.timeout_seconds)
        self.dispatcher = WebhookDispatcher(self.faults, config.webhook_retry_delays)
        self.webhook_url = config.webhook_url or os.environ.get("DISTROHUB_WEBHOOK_URL") or None
        self.sim: Simulation | None = None
        self.urls: dict[str, str] = {}
        self.buckets = {
            ch: LeakyBucket.for_plan(
                config.marketplace_api_plan if ch == "MARKETPLACE" else config.api_plan
            )
            for ch in ("B2B", "D2C", "MARKETPLACE")
        }
        self.wms_webhooks: dict[str, list[dict[str, Any]]] = {"DC-EAST": [], "DC-WEST": []}
        # per store, when prerender_orders is on: its orders as JSON bytes
        self.order_bodies: dict[str, RenderedOrders] = {}
        self.dispatching = False
        self._counters: dict[str, int] = {}

    # -- building ------------------------------------------------------------------

    def build(self, progress: Callable[[str, int, int], None] | None = None) -> Simulation:
        """Generate the world and play ``days`` of activity."""
        c = self.config
        if progress:
            progress("generating world", 0, 1)
        world = generate_world(c.seed, c.skus, c.orders_per_day, c.days, c.scenario)
        write_planning_exports(world, self.dirs["planning:drop"])
        sim = Simulation(world, self.faults, auto_release=c.auto_release)
        sim.on_webhook = self.on_webhook
        self.sim = sim
        if c.backlog_orders:
            if progress:
                progress("placing backlog orders", 0, c.backlog_orders)
            sim.place_backlog(
                c.backlog_channel,
                c.backlog_orders,
                progress=(lambda k, n: progress("placing backlog orders", k, n))
                if progress
                else None,
            )
        hours = c.days * 24
        if progress:
            progress("simulating", 0, hours)
        sim.advance(hours, (lambda k, n: progress("simulating", k, n)) if progress else None)
        self.write_files()
        if c.prerender_orders:
            for code, store in sim.stores.items():
                cache = self.order_bodies[code] = RenderedOrders(sim, store)
                cache.fill(
                    (lambda k, n, code=code: progress(f"rendering {code} orders", k, n))
                    if progress
                    else None
                )
        return sim

    # -- webhooks ------------------------------------------------------------------

    def _next(self, name: str) -> int:
        self._counters[name] = self._counters.get(name, 0) + 1
        return self._counters[name]

    def targets(self, system: str, topic: str) -> list[str]:
        """Where a webhook of ``system``/``topic`` goes: subscriptions, else the default URL."""
        assert self.sim is not None
        if system.startswith("shopify:"):
            store = self.sim.stores[system.split(":", 1)[1]]
            subs = [w["address"] for w in store.webhooks if w["topic"] == topic]
            if subs:
                return subs
            default = "shopify/" + store.code.lower()
        elif system.startswith("wms:"):
            loc = system.split(":", 1)[1]
            subs = [w["url"] for w in self.wms_webhooks[loc]]
            if subs:
                return subs
            default = "wms/" + loc.lower()
        else:
            default = "carrier/easypost"
        if not self.webhook_url:
            return []
        return [self.webhook_url.rstrip("/") + "/" + default]

    def on_webhook(self, system: str, topic: str, ref: Any, at: int) -> None:
        """Called by the simulation for every event that is a webhook somewhere."""
        if not self.dispatching:
            return
        urls = self.targets(system, topic)
        if not urls:
            return
        sim = self.sim
        assert sim is not None
        triggered = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if system.startswith("shopify:"):
            ch = system.split(":", 1)[1]
            store = sim.stores[ch]
            r = Renderer(sim, store)
            if isinstance(ref, LiveOrder):
                payload = r.order(ref)
            else:
                item, loc = ref
                payload = r.inventory_level(item, loc)
            body = json.dumps(payload, separators=(",", ":")).encode()
            n = self._next(system)
            event_id = str(uuid.UUID(hex_id(sim.seed, "shopify-event", ch, n)))
            secret = self.creds["shopify"][ch]["webhook_secret"]
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
                "X-Shopify-Shop-Domain": store.channel.shop_domain,
                "X-Shopify-API-Version": API_VERSION,
                "X-Shopify-Webhook-Id": str(uuid.UUID(hex_id(sim.seed, "shopify-webhook", ch, n))),
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": triggered,
            }
            sign = ("shopify", secret)
        elif system.startswith("wms:"):
            loc = system.split(":", 1)[1]
            assert isinstance(ref, WmsEvent)
            body = json.dumps(wms_event_json(ref), separators=(",", ":")).encode()
            event_id = ref.id
            secret = self.creds["wms"][loc]["webhook_secret"]
            headers = {
                "Content-Type": "application/json",
                "X-Wms-Event-Id": ref.id,
                "X-Wms-Event-Type": ref.type,
                "X-Wms-Timestamp": str(ref.recorded_at),
                "X-Wms-Signature": wms_signature(secret, body),
            }
            sign = ("wms", secret)
        else:
            tracker_id, done, recorded = ref
            tr: Tracker = sim.trackers[tracker_id]
            body = carriers.event_body(sim.seed, tr, done, recorded)
            event_id = "evt_" + hex_id(sim.seed, "evt", tr.id, done)
            secret = self.creds["carrier"]["webhook_secret"]
            headers = {
                "Content-Type": "application/json",
                "X-Hmac-Signature": easypost_signature(secret, body),
            }
            sign = ("easypost", secret)
        for url in urls:
            self.dispatcher.submit(
                Delivery(system, topic, event_id, url, body, dict(headers), sign)
            )

    # -- files ------------------------------------------------------------------------

    def write_files(self) -> int:
        """Write the files systems dropped since the last call (atomically)."""
        assert self.sim is not None
        n = 0
        for f in self.sim.files:
            if f.written:
                continue
            folder = self.dirs["3pl:drop"] if f.system == "3pl" else self.dirs[f"{f.system}:drop"]
            tmp = folder / f".{f.name}.part"
            tmp.write_bytes(f.data)
            os.replace(tmp, folder / f.name)
            f.written, f.data = True, b""
            n += 1
        return n

    def read_outboxes(self) -> int:
        """Take files clients put in the outboxes (850s, 940s); move each to ``archive/``."""
        assert self.sim is not None
        n = 0
        for key, folder in self.dirs.items():
            if not key.endswith(":outbox"):
                continue
            system = key.rsplit(":", 1)[0]
            for path in sorted(folder.iterdir()):
                if (
                    not path.is_file()
                    or path.name.startswith(".")
                    or path.suffix in (".tmp", ".part")
                ):
                    continue
                data = path.read_bytes()
                self.sim.accept_file(system, path.name, data)
                archive = folder / "archive"
                archive.mkdir(exist_ok=True)
                os.replace(path, archive / path.name)
                n += 1
        return n

    def sync(self) -> dict[str, int]:
        read = self.read_outboxes()
        return {"read": read, "written": self.write_files()}

    def advance(self, hours: int) -> None:
        assert self.sim is not None
        self.read_outboxes()
        self.sim.advance(hours)
        self.write_files()
        self.dispatcher.flush_held()


def wms_event_json(ev: WmsEvent) -> dict[str, Any]:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "id": ev.id,
        "cursor": str(ev.seq),
        "type": ev.type,
        "occurred_at": datetime.fromtimestamp(ev.occurred_at, UTC).strftime(fmt),
        "recorded_at": datetime.fromtimestamp(ev.recorded_at, UTC).strftime(fmt),
        "data": ev.data,
    }
