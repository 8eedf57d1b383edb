"""From a system's declared configuration to a reader of its streams (one per connector kind).

The component knows only the names of environment variables; the values are
read here, at run time, so nothing secret is resolved at definition load or
shown in the UI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.connectors.http import RequestBudget
from dagster_project.ingest.sync import Reader


class ConfigurationError(RuntimeError):
    """A system's configuration is incomplete (e.g. an environment variable is not set)."""


@dataclass(frozen=True)
class SystemConfig:
    system: str
    kind: str
    url_env: str | None = None
    folder_env: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    request_budget: int = 20_000
    webhook_path: str | None = None
    freshness_minutes: int | None = None

    @property
    def inbound_path(self) -> str:
        """The path under /webhooks/ where this system's deliveries arrive."""
        return (self.webhook_path or self.system).strip("/")

    def env(self, name: str | None, what: str) -> str:
        if not name:
            raise ConfigurationError(
                f"{self.system}: no variable is declared for its {what} in defs.yaml"
            )
        value = os.environ.get(name)
        if not value:
            raise ConfigurationError(
                f"{self.system}: {name} (its {what}) is not set. Export it in the environment "
                "of the Dagster code server and runs (for the local demo, `distrohub sandbox up` "
                "and `distrohub erp up` generate it)."
            )
        return value

    def credential(self, role: str) -> str:
        return self.env(self.credentials.get(role), f"{role} credential")


def shopify_connector(config: SystemConfig):
    """The Shopify Admin REST connector for the store declared as ``config`` (read and write)."""
    from dagster_project.connectors.shopify import ShopifyConnector

    return ShopifyConnector(
        config.system,
        config.env(config.url_env, "store URL"),
        config.credential("token"),
        api_version=config.settings.get("api_version", "2025-07"),
        budget=RequestBudget(max_requests=config.request_budget),
        token_env=config.credentials.get("token", "its token variable"),
    )


@contextmanager
def open_reader(config: SystemConfig, stream: StreamConfig) -> Iterator[Reader | None]:
    """A reader for ``stream`` of ``config``'s system; None for inbox-only streams."""
    kind = config.kind
    if kind == "carrier_webhook":
        yield None  # deliveries arrive through ops.webhook_inbox only
        return
    if kind == "shopify":
        yield from _serving(shopify_connector(config))
        return
    if kind == "wms_rest":
        from dagster_project.connectors.rest import RestJsonConnector

        connector = RestJsonConnector(
            config.system,
            config.env(config.url_env, "API URL"),
            config.credential("token"),
            budget=RequestBudget(max_requests=config.request_budget),
            token_env=config.credentials.get("token", "its token variable"),
        )
        yield from _serving(connector)
        return
    if kind == "tryton":
        yield from _tryton(config)
        return
    raise ConfigurationError(
        f"{config.system}: connector kind {kind!r} has no reader yet for stream {stream.name}"
    )


def _serving(connector: Any) -> Iterator[Reader]:
    """Hand out a connector's ``pages`` and close it afterwards."""
    try:
        yield connector.pages
    finally:
        connector.close()


def _tryton(config: SystemConfig) -> Iterator[Reader]:
    from datetime import datetime

    from dagster_project.connectors.tryton import (
        STOCK_STREAM,
        TrytonClient,
        TrytonCredentials,
        TrytonStream,
    )

    credentials = TrytonCredentials(
        url=config.env(config.url_env, "JSON-RPC URL (http://HOST:PORT/DATABASE/)").rstrip("/")
        + "/",
        user=config.credential("user"),
        password=config.credential("password"),
    )
    client = TrytonClient(credentials, budget=RequestBudget(max_requests=config.request_budget))

    def pages(stream: StreamConfig, cursor_value: Any) -> Iterator[Page]:
        since = datetime.fromisoformat(cursor_value) if cursor_value else None
        source = (
            STOCK_STREAM if stream.name == STOCK_STREAM else TrytonStream.from_declaration(stream)
        )
        for page in client.read_stream(source, since, page_size=stream.page_size):
            cursor = page.cursor.isoformat() if page.cursor is not None else None
            yield Page(
                records=page.records,
                source=f"tryton:{stream.name}",
                cursor={"field": "write_date", "value": cursor} if cursor else None,
            )

    try:
        yield pages
    finally:
        client.close()
