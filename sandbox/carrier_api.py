"""A small EasyPost-style carrier API: trackers and events to read back.

Tracking events are pushed as ``tracker.updated`` webhooks (see
`sandbox.carriers`); these endpoints let a client catch up without a webhook
listener. Auth as EasyPost: the API key as the Basic-auth user name (empty
password) or ``Authorization: Bearer <key>``.

* ``GET /v2/trackers?page_size=&before_id=``: newest first,
  ``{"trackers": [...], "has_more": bool}``; ``GET /v2/trackers/{id}``;
* ``GET /v2/events?page_size=&before_id=``: ``tracker.updated`` events,
  newest first, each with its ``result`` tracker as it was then.
"""

from __future__ import annotations

import base64

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import carriers
from sandbox.runtime import SandboxRuntime


def make_app(rt: SandboxRuntime) -> Starlette:
    def authorized(request: Request) -> bool:
        key = rt.creds["carrier"]["api_key"]
        auth = request.headers.get("authorization", "")
        if auth == f"Bearer {key}":
            return True
        if auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                return False
            return user == key
        return False

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"error": {"code": code, "message": message, "errors": []}}, status)

    def page_size(request: Request) -> int:
        raw = request.query_params.get("page_size", "20")
        return max(1, min(100, int(raw))) if raw.isdigit() else 20

    async def trackers(request: Request) -> Response:
        if not authorized(request):
            return error(
                401, "APIKEY.REQUIRED", "API key required: Basic auth with the key as user name"
            )
        sim = rt.sim
        assert sim is not None
        ids = list(sim.trackers)
        before = request.query_params.get("before_id")
        if before:
            if before not in sim.trackers:
                return error(404, "NOT_FOUND", f"no tracker {before}")
            ids = ids[: ids.index(before)]
        n = page_size(request)
        chosen = list(reversed(ids))[:n]
        return JSONResponse(
            {
                "trackers": [
                    carriers.tracker_json(sim.trackers[t], sim.trackers[t].done) for t in chosen
                ],
                "has_more": len(ids) > n,
            }
        )

    async def tracker(request: Request) -> Response:
        if not authorized(request):
            return error(401, "APIKEY.REQUIRED", "API key required")
        sim = rt.sim
        assert sim is not None
        tr = sim.trackers.get(request.path_params["id"])
        if tr is None:
            return error(404, "NOT_FOUND", "The requested resource could not be found.")
        return JSONResponse(carriers.tracker_json(tr, tr.done))

    async def events(request: Request) -> Response:
        if not authorized(request):
            return error(401, "APIKEY.REQUIRED", "API key required")
        sim = rt.sim
        assert sim is not None
        evs = sim.carrier_events
        end = len(evs)
        before = request.query_params.get("before_id")
        if before:
            idx = next((i for i, e in enumerate(evs) if e[0] == before), None)
            if idx is None:
                return error(404, "NOT_FOUND", f"no event {before}")
            end = idx
        n = page_size(request)
        chosen = list(reversed(evs[:end]))[:n]
        return JSONResponse(
            {
                "events": [
                    carriers.event_json(sim.seed, sim.trackers[t], d, rec)
                    for _, t, d, rec in chosen
                ],
                "has_more": end > n,
            }
        )

    async def not_found(request: Request) -> Response:
        return error(404, "NOT_FOUND", f"no such endpoint {request.url.path}")

    return Starlette(
        routes=[
            Route("/v2/trackers", trackers),
            Route("/v2/trackers/{id}", tracker),
            Route("/v2/events", events),
            Route("/{path:path}", not_found),
        ]
    )
