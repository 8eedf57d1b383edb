"""The sandbox's control API, on its own port, under ``/_sandbox/`` (a path no
real platform uses). Auth: ``Authorization: Bearer <control token>``.

* ``GET  /_sandbox/status``: clock, world arguments, systems and URLs, counts;
* ``POST /_sandbox/advance`` ``{"hours": n}`` or ``{"days": n}``: play that
  much simulated time (new orders, stock moves, events, EDI files), then
  write files, read outboxes and return the status;
* ``POST /_sandbox/orders/{channel}/{number}/change`` ``{"change":
  "tag"|"note"|"cancel"}``: change one storefront order now;
* ``POST /_sandbox/stock/{location}/{sku}/adjust`` ``{"delta": n}``: change
  one WMS stock figure (cycle count) with its event;
* ``POST /_sandbox/prices/{channel}/{sku}`` ``{"price": "12.34"}``: edit one
  storefront variant price by hand (drift from what the hub published);
* ``GET  /_sandbox/truth?sections=a,b``: the ground truth (`sandbox.truth`);
* ``GET  /_sandbox/received``: what clients pushed into each system;
* ``GET  /_sandbox/faults``: the fault profiles on and every injection so far;
* ``GET  /_sandbox/webhooks``: recent deliveries and failures;
* ``PUT  /_sandbox/webhook-target`` ``{"url": ...}``: where webhooks go;
* ``POST /_sandbox/sync``: write pending files and read outboxes now;
* ``POST /_sandbox/drain``: wait (at most 10 s) until queued webhooks are sent;
* ``POST /_sandbox/shutdown``: stop the sandbox process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import PROFILES
from sandbox.runtime import SandboxRuntime
from sandbox.simulation import SimulationError
from sandbox.timestamps import iso

MAX_ADVANCE_HOURS = 24 * 365


def status_json(rt: SandboxRuntime) -> dict[str, Any]:
    sim = rt.sim
    assert sim is not None
    return {
        "now": iso(sim.now).replace("+00:00", "Z"),
        "hours": sim.hour,
        "params": {
            "seed": rt.config.seed,
            "skus": rt.config.skus,
            "orders_per_day": rt.config.orders_per_day,
            "days": rt.config.days,
            "scenario": rt.config.scenario,
            "faults": list(rt.config.faults),
            "auto_release": rt.config.auto_release,
        },
        "urls": rt.urls,
        "webhook_url": rt.webhook_url,
        "counts": {
            "orders": {code: len(s.orders) for code, s in sim.stores.items()},
            "wms_events": {loc: len(ev) for loc, ev in sim.events.items()},
            "shipments": len(sim.shipments),
            "files": len(sim.files),
            "carrier_events": len(sim.carrier_events),
            "webhooks_sent": rt.dispatcher.sent,
            "webhooks_failed": len(rt.dispatcher.failed),
        },
    }


def make_app(rt: SandboxRuntime, shutdown: Callable[[], None]) -> Starlette:
    def guard(handler):
        async def endpoint(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {rt.creds['control']['token']}":
                return JSONResponse(
                    {"error": "send Authorization: Bearer <DISTROHUB_SANDBOX_CONTROL_TOKEN>"}, 401
                )
            try:
                return await handler(request)
            except SimulationError as exc:
                return JSONResponse({"error": str(exc), "code": exc.code}, exc.status)
            except (ValueError, KeyError) as exc:
                return JSONResponse({"error": str(exc)}, 400)

        return endpoint

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    async def status(request: Request) -> Response:
        return JSONResponse(status_json(rt))

    async def advance(request: Request) -> Response:
        body = await body_of(request)
        hours = int(body.get("hours", 0)) + 24 * int(body.get("days", 0))
        if not 0 <= hours <= MAX_ADVANCE_HOURS:
            raise ValueError(f"advance by 0 to {MAX_ADVANCE_HOURS} hours, got {hours}")
        rt.advance(hours)
        return JSONResponse(status_json(rt))

    async def change_order(request: Request) -> Response:
        body = await body_of(request)
        sim = rt.sim
        assert sim is not None
        channel = request.path_params["channel"].upper()
        if channel not in sim.stores:
            raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(sim.stores)}")
        order = sim.touch_order(
            channel, int(request.path_params["number"]), body.get("change", "tag")
        )
        return JSONResponse(
            {
                "order": order.key,
                "updated_at": iso(order.updated).replace("+00:00", "Z"),
                "change": body.get("change", "tag"),
            }
        )

    async def adjust_stock(request: Request) -> Response:
        body = await body_of(request)
        sim = rt.sim
        assert sim is not None
        loc = request.path_params["location"].upper()
        if loc not in sim.events:
            raise ValueError(f"unknown WMS location {loc!r}; use DC-EAST or DC-WEST")
        return JSONResponse(
            sim.touch_stock(loc, request.path_params["sku"], int(body.get("delta", 0)))
        )

    async def edit_price(request: Request) -> Response:
        body = await body_of(request)
        sim = rt.sim
        assert sim is not None
        channel = request.path_params["channel"].upper()
        if channel not in sim.stores:
            raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(sim.stores)}")
        price = str(body.get("price", ""))
        whole, _, frac = price.partition(".")
        if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
            raise ValueError(f'price must be a decimal string like "12.34", got {price!r}')
        cents = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
        return JSONResponse(sim.touch_price(channel, request.path_params["sku"], cents))

    async def truth(request: Request) -> Response:
        sim = rt.sim
        assert sim is not None
        raw = request.query_params.get("sections")
        sections = {s.strip() for s in raw.split(",") if s.strip()} if raw else None
        return JSONResponse(sim.truth(sections))

    async def received(request: Request) -> Response:
        sim = rt.sim
        assert sim is not None
        rt.read_outboxes()
        return JSONResponse(sim.received())

    async def faults(request: Request) -> Response:
        return JSONResponse(
            {"profiles": list(rt.faults.profiles), "known": PROFILES, "log": rt.faults.log}
        )

    async def webhooks(request: Request) -> Response:
        return JSONResponse(
            {
                "target": rt.webhook_url,
                "sent": rt.dispatcher.sent,
                "recent": list(rt.dispatcher.log)[-200:],
                "failed": list(rt.dispatcher.failed)[-200:],
            }
        )

    async def webhook_target(request: Request) -> Response:
        body = await body_of(request)
        url = body.get("url")
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            raise ValueError("url must be an http(s) URL or null")
        rt.webhook_url = url
        return JSONResponse({"target": rt.webhook_url})

    async def sync(request: Request) -> Response:
        return JSONResponse(rt.sync())

    async def drain(request: Request) -> Response:
        rt.dispatcher.flush_held()
        ok = await rt.dispatcher.drain(10.0)
        return JSONResponse(
            {"drained": ok, "sent": rt.dispatcher.sent, "failed": len(rt.dispatcher.failed)}
        )

    async def stop(request: Request) -> Response:
        shutdown()
        return JSONResponse({"stopping": True})

    p = "/_sandbox"
    return Starlette(
        routes=[
            Route(p + "/status", guard(status)),
            Route(p + "/advance", guard(advance), methods=["POST"]),
            Route(
                p + "/orders/{channel}/{number:int}/change", guard(change_order), methods=["POST"]
            ),
            Route(p + "/stock/{location}/{sku}/adjust", guard(adjust_stock), methods=["POST"]),
            Route(p + "/prices/{channel}/{sku}", guard(edit_price), methods=["POST"]),
            Route(p + "/truth", guard(truth)),
            Route(p + "/received", guard(received)),
            Route(p + "/faults", guard(faults)),
            Route(p + "/webhooks", guard(webhooks)),
            Route(p + "/webhook-target", guard(webhook_target), methods=["PUT"]),
            Route(p + "/sync", guard(sync), methods=["POST"]),
            Route(p + "/drain", guard(drain), methods=["POST"]),
            Route(p + "/shutdown", guard(stop), methods=["POST"]),
            Route(p + "/ping", lambda r: JSONResponse({"ok": True})),
        ]
    )
