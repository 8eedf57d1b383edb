"""The webhook receiver (ASGI): verify, store once, answer fast.

``POST /webhooks/<path>``: the system is looked up among the declared systems
(defs.yaml) by its ``webhook_path`` (default: its name); its kind says how
deliveries are signed, and its
``credentials.webhook_secret`` names the variable holding the secret. A
missing or wrong signature gets 401 and nothing is stored. A verified delivery
is inserted into ``ops.webhook_inbox`` once per (system, event id) and answered
200 at once; a sensor turns new inbox rows into runs. Nothing else happens in
the request.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from datetime import datetime

import simplejson
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dagster_project.connectors.webhook_signatures import VERIFIERS, SignatureRefused
from dagster_project.hub.settings import hub_urls
from dagster_project.ingest.readers import SystemConfig
from dagster_project.ingest.registry import declared_systems

log = logging.getLogger("distrohub.webhooks")
SIGNATURE_HEADERS = {
    "x-shopify-hmac-sha256",
    "x-wms-signature",
    "x-hmac-signature",
    "authorization",
    "cookie",
}
MAX_BODY = 5 * 1024 * 1024


def create_app(
    database_url: str | None = None, systems: dict[str, SystemConfig] | None = None
) -> Starlette:
    url = database_url or hub_urls().hub
    configs = (
        list(systems.values())
        if systems is not None
        else [
            cfg
            for cfg, _streams in declared_systems().values()
            if cfg.kind in VERIFIERS and cfg.credentials.get("webhook_secret")
        ]
    )
    known = {cfg.inbound_path: cfg for cfg in configs}
    pool = AsyncConnectionPool(url, min_size=1, max_size=8, open=False)

    @asynccontextmanager
    async def lifespan(_app):
        await pool.open(wait=True, timeout=30)
        try:
            yield
        finally:
            await pool.close()

    async def receive(request: Request) -> JSONResponse:
        path = request.path_params["path"].strip("/")
        config = known.get(path)
        if config is None:
            return JSONResponse(
                {"error": f"no system receives webhooks at {path}"}, status_code=404
            )
        system = config.system
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        secret_env = config.credentials["webhook_secret"]
        secret = os.environ.get(secret_env)
        if not secret:
            log.error("%s: %s is not set; refusing webhooks until it is", system, secret_env)
            return JSONResponse({"error": "receiver not configured"}, status_code=503)
        try:
            delivery = VERIFIERS[config.kind](request.headers, body, secret)
        except SignatureRefused as exc:
            log.warning("%s: refused a webhook: %s", system, exc)
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SIGNATURE_HEADERS}
        async with pool.connection() as conn:
            cur = await conn.execute(
                """insert into ops.webhook_inbox
                       (source, topic, event_id, triggered_at, headers, body)
                   values (%s, %s, %s, %s::timestamptz, %s::jsonb, %s)
                   on conflict (source, event_id) do nothing
                   returning id""",
                (
                    system,
                    delivery.topic,
                    delivery.event_id,
                    _timestamp(delivery.triggered_at),
                    simplejson.dumps(headers),
                    body.decode("utf-8", "replace").replace("\x00", ""),
                ),
            )
            stored = await cur.fetchone()
        return JSONResponse({"status": "stored" if stored else "duplicate"})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "ok", "paths": {p: c.system for p, c in sorted(known.items())}}
        )

    return Starlette(
        routes=[
            Route("/webhooks/{path:path}", receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _timestamp(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None
