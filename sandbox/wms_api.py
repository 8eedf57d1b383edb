"""The WMS REST API of one distribution centre (DC-EAST or DC-WEST).

A clean REST + JSON contract (documented in sandbox/README.md):

* auth: ``Authorization: Bearer <token>``; 401 otherwise;
* errors: ``{"error": {"code", "message", "details"}}`` with 4xx/5xx;
* lists: ``?limit=`` (1-1000, default 100) and ``?cursor=`` from the previous
  page's ``next_cursor`` (null on the last page): ``{"data": [...],
  "next_cursor": ...}``;
* ``GET /v1/warehouse``; ``GET /v1/stock?status=&sku=`` (bin stock by
  status); ``GET /v1/allocations?state=open|all`` (open = allocated or
  picking: committed stock); ``GET /v1/picks?state=open|done|short|all``;
  ``GET /v1/short-picks``; ``GET /v1/receipts``; ``GET /v1/shipments``;
  ``GET /v1/returns``; ``GET /v1/releases``, ``GET /v1/releases/{id}``;
* ``POST /v1/releases``: accept a released order, idempotent by
  ``release_id`` (201 new, 200 same body again, 409 same id with another
  body, 422 invalid, nothing stored);
* ``POST /v1/releases/{id}/cancel``: cancel a release not yet picked (200
  with ``already_cancelled`` false; a repeat 200 with it true); 409
  ``already_picked`` / ``already_shipped`` once a pick completed or it
  shipped; 404 for an unknown release;
* ``GET /v1/events?after=CURSOR&limit=``: the event feed in recording
  order, ``{"events": [...], "next_cursor", "has_more"}``; pass
  ``next_cursor`` back as ``after``;
* ``GET/POST /v1/webhooks``: subscribe a URL to signed event webhooks
  (``X-Wms-Event-Id``, ``X-Wms-Event-Type``, ``X-Wms-Timestamp``,
  ``X-Wms-Signature: sha256=<hex HMAC-SHA256 of the body>``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.paging import CursorError, decode_cursor, encode_cursor
from sandbox.records import Release
from sandbox.runtime import SandboxRuntime, wms_event_json
from sandbox.simulation import SimulationError
from sandbox.timestamps import parse_iso
from sandbox.warehouse import (
    CancelRefused,
    cancel_wms_release,
    release_summary,
    shipment_payload,
)
from sandbox.world import StockStatus
from sandbox.worldgen.stock import bin_for

STATUSES = [str(s) for s in StockStatus]


def _z(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WmsError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def make_app(rt: SandboxRuntime, location: str) -> Starlette:
    api = _WmsApi(rt, location)
    w = api.wrap
    routes = [
        Route("/v1/warehouse", w(api.warehouse)),
        Route("/v1/stock", w(api.stock)),
        Route("/v1/allocations", w(api.allocations)),
        Route("/v1/picks", w(api.picks)),
        Route("/v1/short-picks", w(api.short_picks)),
        Route("/v1/receipts", w(api.receipts)),
        Route("/v1/shipments", w(api.shipments)),
        Route("/v1/returns", w(api.returns)),
        Route("/v1/releases", w(api.releases), methods=["GET", "POST"]),
        Route("/v1/releases/{release_id:path}/cancel", w(api.cancel_release), methods=["POST"]),
        Route("/v1/releases/{release_id:path}", w(api.release)),
        Route("/v1/events", w(api.events)),
        Route("/v1/webhooks", w(api.webhooks), methods=["GET", "POST"]),
        Route("/{path:path}", w(api.not_found), methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes)


class _WmsApi:
    def __init__(self, rt: SandboxRuntime, location: str) -> None:
        self.rt = rt
        self.loc = location
        self.system = f"wms:{location}"
        self._stock_cache: tuple[int, list[tuple[int, int]]] | None = None

    @property
    def sim(self):
        assert self.rt.sim is not None
        return self.rt.sim

    def wrap(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            fault = self.rt.faults.http_fault(self.system, request.url.path)
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(fault.delay)
                fault = None
            if fault is not None and fault.kind == "rate_limit":
                return _error(
                    429,
                    "rate_limited",
                    "too many requests; retry after the Retry-After seconds",
                    headers={"Retry-After": "1"},
                )
            if fault is not None:
                return _error(fault.status, "server_error", "the WMS failed to answer; retry later")
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.rt.creds['wms'][self.loc]['token']}":
                return _error(
                    401,
                    "unauthorized",
                    "missing or wrong bearer token: send Authorization: Bearer <token>",
                )
            try:
                return await handler(request)
            except WmsError as exc:
                return _error(exc.status, exc.code, exc.message, exc.details)
            except SimulationError as exc:
                return _error(exc.status, exc.code, str(exc), exc.details)

        return endpoint

    async def not_found(self, request: Request) -> Response:
        return _error(
            404, "not_found", f"no such endpoint {request.method} {request.url.path}; see /v1/..."
        )

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def limit(request: Request, default: int = 100, cap: int = 1000) -> int:
        raw = request.query_params.get("limit", str(default))
        try:
            n = int(raw)
        except ValueError:
            raise WmsError(
                400, "invalid_parameter", f"limit must be an integer 1-{cap}, got {raw!r}"
            ) from None
        if not 1 <= n <= cap:
            raise WmsError(400, "invalid_parameter", f"limit must be between 1 and {cap}, got {n}")
        return n

    @staticmethod
    def offset(request: Request) -> int:
        token = request.query_params.get("cursor")
        if not token:
            return 0
        try:
            return int(decode_cursor(token)["o"])
        except (CursorError, KeyError, TypeError, ValueError):
            raise WmsError(
                400,
                "invalid_cursor",
                "cursor is not one this API returned; pass next_cursor unchanged",
            ) from None

    def listing(
        self, request: Request, rows: list[Any], render: Callable[[Any], dict[str, Any]]
    ) -> Response:
        """Offset cursor over an append-only (or stably ordered) list."""
        start = self.offset(request)
        n = self.limit(request)
        chunk = rows[start : start + n]
        nxt = encode_cursor({"o": start + n}) if start + n < len(rows) else None
        return JSONResponse({"data": [render(x) for x in chunk], "next_cursor": nxt})

    def since(self, request: Request) -> int | None:
        raw = request.query_params.get("since")
        if not raw:
            return None
        try:
            return parse_iso(raw)
        except ValueError as exc:
            raise WmsError(400, "invalid_parameter", str(exc)) from None

    # -- endpoints -----------------------------------------------------------------------------

    async def warehouse(self, request: Request) -> Response:
        loc = self.sim.locations[self.loc]
        return JSONResponse(
            {
                "code": loc.code,
                "name": loc.name,
                "timezone": loc.timezone,
                "statuses": STATUSES,
                "now": _z(self.sim.now),
                "address": {
                    "line1": loc.address.line1,
                    "city": loc.address.city,
                    "region": loc.address.region,
                    "postal_code": loc.address.postal_code,
                    "country": loc.address.country,
                },
            }
        )

    def _stock_keys(self) -> list[tuple[int, int]]:
        ledger = self.sim.ledger
        key = ledger.version
        if self._stock_cache is None or self._stock_cache[0] != key:
            order = {s: i for i, s in enumerate(StockStatus)}
            rows = sorted(
                (item, order[st])
                for (item, loc, st), q in ledger.on_hand.items()
                if loc == self.loc and q > 0
            )
            self._stock_cache = (key, rows)
        return self._stock_cache[1]

    async def stock(self, request: Request) -> Response:
        status = request.query_params.get("status")
        if status and status not in STATUSES:
            raise WmsError(
                400,
                "invalid_parameter",
                f"status must be one of {', '.join(STATUSES)}, got {status!r}",
            )
        sku = request.query_params.get("sku")
        statuses = list(StockStatus)
        rows = [
            (i, s)
            for i, s in self._stock_keys()
            if (not status or str(statuses[s]) == status)
            and (not sku or self.sim.items[i].sku == sku)
        ]
        sim = self.sim
        now = _z(sim.now)

        def render(row: tuple[int, int]) -> dict[str, Any]:
            item, s = row
            st = statuses[s]
            return {
                "sku": sim.items[item].sku,
                "bin": bin_for(item, self.loc, st),
                "status": str(st),
                "quantity": sim.ledger.qty(item, self.loc, st),
                "unit": "EA",
                "as_of": now,
            }

        resp = self.listing(request, rows, render)
        if self.rt.faults.on("malformed_records") and not request.query_params.get("cursor"):
            body = json.loads(resp.body)
            first = body["data"][0]["sku"] if body["data"] else "SKU-00001"
            body["data"].append(
                {
                    "sku": first,
                    "bin": "X-ERR-1",
                    "status": "sellable",
                    "quantity": -5,
                    "unit": "EA",
                    "as_of": now,
                }
            )
            body["data"].append(
                {
                    "sku": "UNKNOWN-WMS-1",
                    "bin": "X-ERR-2",
                    "status": "sellable",
                    "quantity": 3,
                    "unit": "EA",
                    "as_of": now,
                }
            )
            self.rt.faults.record(
                "malformed_records",
                self.system,
                "stock page with a negative quantity and an unknown SKU",
            )
            return JSONResponse(body)
        return resp

    async def allocations(self, request: Request) -> Response:
        state = request.query_params.get("state", "open")
        if state not in ("open", "all", "allocated", "picking", "picked"):
            raise WmsError(
                400, "invalid_parameter", "state must be open, allocated, picking, picked or all"
            )
        sim = self.sim
        rows = [
            a
            for a in sim.allocations.values()
            if a.location == self.loc
            and (
                state == "all"
                or a.state == state
                or (state == "open" and a.state in ("allocated", "picking"))
            )
        ]
        return self.listing(
            request,
            rows,
            lambda a: {
                "allocation_id": a.id,
                "release_id": a.release_id,
                "line_ref": a.line_ref,
                "sku": sim.items[a.item].sku,
                "bin": a.bin,
                "quantity": a.quantity,
                "state": a.state,
                "pick_id": a.pick_id,
                "picked": a.picked,
                "created_at": _z(a.created),
                "updated_at": _z(a.updated),
            },
        )

    def _pick_json(self, p) -> dict[str, Any]:
        sim = self.sim
        return {
            "pick_id": p.id,
            "release_id": p.release_id,
            "state": p.state,
            "created_at": _z(p.created),
            "completed_at": _z(p.completed),
            "lines": [
                {
                    "allocation_id": aid,
                    "sku": sim.items[sim.allocations[aid].item].sku,
                    "bin": sim.allocations[aid].bin,
                    "quantity": sim.allocations[aid].quantity,
                    "picked": sim.allocations[aid].picked if p.state != "open" else None,
                }
                for aid in p.allocation_ids
            ],
        }

    async def picks(self, request: Request) -> Response:
        state = request.query_params.get("state", "open")
        if state not in ("open", "done", "short", "all"):
            raise WmsError(400, "invalid_parameter", "state must be open, done, short or all")
        rows = [
            p
            for p in self.sim.picks.values()
            if p.location == self.loc and (state == "all" or p.state == state)
        ]
        return self.listing(request, rows, self._pick_json)

    async def short_picks(self, request: Request) -> Response:
        sim = self.sim
        since = self.since(request)
        rows = []
        for p in sim.picks.values():
            if (
                p.location != self.loc
                or p.state != "short"
                or (since and (p.completed or 0) < since)
            ):
                continue
            for aid in p.allocation_ids:
                a = sim.allocations[aid]
                if a.picked < a.quantity:
                    rows.append((p, a))
        return self.listing(
            request,
            rows,
            lambda pa: {
                "pick_id": pa[0].id,
                "release_id": pa[0].release_id,
                "allocation_id": pa[1].id,
                "line_ref": pa[1].line_ref,
                "sku": sim.items[pa[1].item].sku,
                "bin": pa[1].bin,
                "expected": pa[1].quantity,
                "picked": pa[1].picked,
                "short": pa[1].quantity - pa[1].picked,
                "reported_at": _z(pa[0].completed),
            },
        )

    async def receipts(self, request: Request) -> Response:
        since = self.since(request)
        rows = [
            r
            for r in self.sim.receipts
            if r.location == self.loc and (not since or r.received_at >= since)
        ]
        return self.listing(
            request,
            rows,
            lambda r: {
                "receipt_id": r.id,
                "po_number": r.po_number,
                "asn_id": r.asn_id,
                "received_at": _z(r.received_at),
                "qc_released": r.qc_done,
                "lines": [
                    {"sku": ln.sku, "expected": ln.expected, "received": ln.received}
                    for ln in r.lines
                ],
            },
        )

    async def shipments(self, request: Request) -> Response:
        since = self.since(request)
        rows = [
            s
            for s in self.sim.shipments.values()
            if s.location == self.loc and (not since or s.shipped_at >= since)
        ]
        return self.listing(request, rows, shipment_payload)

    async def returns(self, request: Request) -> Response:
        rows = [r for r in self.sim.returns if r.location == self.loc and r.state != "expected"]
        return self.listing(
            request,
            rows,
            lambda r: {
                "rma": r.id,
                "order_ref": r.order_ref,
                "shipment_id": r.shipment_id,
                "state": r.state,
                "received_at": _z(r.received_at),
                "lines": [{"sku": s, "quantity": q} for s, _, q in r.lines],
                "outcome": [{"sku": s, "quantity": q, "disposition": d} for s, q, d in r.outcome],
            },
        )

    def _release_json(self, rel: Release) -> dict[str, Any]:
        out = release_summary(rel)
        out.update(
            {
                "location": rel.location,
                "received_at": _z(rel.received_at),
                "updated_at": _z(rel.updated),
                "shipment_id": rel.shipment_id,
                "ship_to": rel.ship_to,
                "service_level": rel.service_level,
                "channel": rel.channel,
                "source": rel.source,
            }
        )
        return out

    async def releases(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                body = json.loads(await request.body())
            except json.JSONDecodeError as exc:
                raise WmsError(400, "invalid_json", f"body is not valid JSON: {exc}") from None
            if not isinstance(body, dict):
                raise WmsError(400, "invalid_json", "body must be a JSON object")
            status, rel = self.sim.release(self.loc, body)
            return JSONResponse({"release": self._release_json(rel)}, status)
        rows = [r for (loc, _), r in self.sim.releases.items() if loc == self.loc]
        return self.listing(request, rows, self._release_json)

    async def release(self, request: Request) -> Response:
        rel = self.sim.releases.get((self.loc, request.path_params["release_id"]))
        if rel is None:
            raise WmsError(
                404, "not_found", f"no release {request.path_params['release_id']!r} at {self.loc}"
            )
        return JSONResponse({"release": self._release_json(rel)})

    async def cancel_release(self, request: Request) -> Response:
        try:
            cancelled, rel = cancel_wms_release(
                self.sim, self.loc, request.path_params["release_id"]
            )
        except CancelRefused as exc:
            raise WmsError(exc.status, exc.code, str(exc), exc.details) from None
        return JSONResponse(
            {"release": self._release_json(rel), "already_cancelled": not cancelled}
        )

    async def events(self, request: Request) -> Response:
        after = request.query_params.get("after", "0") or "0"
        if not after.isdigit():
            raise WmsError(
                400,
                "invalid_cursor",
                f"after must be a cursor from a previous answer, got {after!r}",
            )
        n = self.limit(request, default=100, cap=1000)
        feed = self.sim.events[self.loc]
        start = int(after)
        chunk = feed[start : start + n]
        nxt = str(start + len(chunk))
        return JSONResponse(
            {
                "events": [wms_event_json(e) for e in chunk],
                "next_cursor": nxt,
                "has_more": start + len(chunk) < len(feed),
            }
        )

    async def webhooks(self, request: Request) -> Response:
        subs = self.rt.wms_webhooks[self.loc]
        if request.method == "GET":
            return JSONResponse({"data": subs})
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            raise WmsError(400, "invalid_json", 'body must be JSON {"url": ...}') from None
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise WmsError(422, "invalid_webhook", "url must be an http(s) URL")
        rec = {"id": f"wh_{len(subs) + 1}", "url": url, "created_at": _z(self.sim.now)}
        if not any(s["url"] == url for s in subs):
            subs.append(rec)
        return JSONResponse({"webhook": rec}, 201)


def _error(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status, headers=headers
    )
