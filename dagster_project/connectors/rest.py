"""A plain REST + JSON source with bearer auth (our WMS contract, and services like it).

Two paginators, chosen per stream (``paginator`` in defs.yaml):

* ``next_cursor``: ``GET path?limit=N[&cursor=C][&<filter_param>=<cursor value>]`` →
  ``{"data": [...], "next_cursor": C | null}``;
* ``feed``: an append-only event feed, ``GET path?after=P&limit=N`` →
  ``{"events": [...], "next_cursor": P', "has_more": bool}``; the stream's
  cursor IS the feed position, committed with each page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import simplejson

from dagster_project.connectors.base import BadInput, Page, StreamConfig
from dagster_project.connectors.http import HttpClient, RequestBudget


class RestJsonConnector:
    def __init__(
        self,
        system: str,
        base_url: str,
        token: str,
        *,
        budget: RequestBudget | None = None,
        token_env: str = "its token variable",
    ):
        self.system = system
        self.http = HttpClient(
            system,
            base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            budget=budget,
            fixes={401: f"the token was refused: check {token_env}"},
        )

    def close(self) -> None:
        self.http.close()

    def pages(self, stream: StreamConfig, cursor_value: Any) -> Iterator[Page]:
        if stream.paginator == "feed":
            yield from self._feed(stream, cursor_value)
        else:
            yield from self._cursor_pages(stream, cursor_value)

    def _parse(self, response, key: str) -> tuple[dict | None, BadInput | None]:
        try:
            body = simplejson.loads(response.text, use_decimal=True)
            if not isinstance(body.get(key), list):
                raise TypeError(f"'{key}' is missing or not a list")
            return body, None
        except (ValueError, TypeError, AttributeError) as exc:
            return None, BadInput(
                f"page:{response.request.url}",
                response.text[:100_000],
                f"{self.system} answered {response.request.url.path} with an unreadable page "
                f"({exc}); its records were not loaded",
            )

    def _cursor_pages(self, stream: StreamConfig, cursor_value: Any) -> Iterator[Page]:
        path = stream.path or f"v1/{stream.name}"
        key = stream.records_key or "data"
        params: dict[str, Any] = {"limit": stream.page_size, **stream.params}
        if stream.filter_param and cursor_value:
            params[stream.filter_param] = cursor_value
        while True:
            response = self.http.get(path, params=params)
            body, bad = self._parse(response, key)
            source = response.request.url.path
            if bad is not None:
                yield Page(records=[], source=source, bad=[bad], complete=False)
                return
            yield Page(records=body[key], source=source)
            next_cursor = body.get("next_cursor")
            if not next_cursor:
                return
            params = {**params, "cursor": next_cursor}

    def _feed(self, stream: StreamConfig, position: Any) -> Iterator[Page]:
        path = stream.path or f"v1/{stream.name}"
        key = stream.records_key or "events"
        after = str(position or "0")
        while True:
            response = self.http.get(
                path, params={"after": after, "limit": stream.page_size, **stream.params}
            )
            body, bad = self._parse(response, key)
            source = response.request.url.path
            if bad is not None:
                yield Page(records=[], source=source, bad=[bad], complete=False)
                return
            after = str(body.get("next_cursor") or after)
            yield Page(
                records=body[key], source=source, cursor={"field": "feed_position", "value": after}
            )
            if not body.get("has_more"):
                return
