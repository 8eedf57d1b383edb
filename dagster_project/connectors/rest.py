"""A plain REST + JSON source with bearer auth (our WMS contract, and services like it).

Two paginators, chosen per stream (``paginator`` in defs.yaml):

* ``next_cursor``: ``GET path?limit=N[&cursor=C][&<filter_param>=<cursor value>]`` →
  ``{"data": [...], "next_cursor": C | null}``;
* ``feed``: an append-only event feed, ``GET path?after=P&limit=N`` →
  ``{"events": [...], "next_cursor": P', "has_more": bool}``; the stream's
  cursor IS the feed position, committed with each page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import simplejson

from dagster_project.connectors.base import BadInput, Page, StreamConfig
from dagster_project.connectors.http import HttpClient, RequestBudget
from dagster_project.connectors.json_pages import read_list_page


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

    def _parse(
        self, response: httpx.Response, key: str, extras: tuple[str, ...]
    ) -> tuple[Sequence[Any], dict[str, Any]] | BadInput:
        """The page's records and its top-level fields ``extras``, or why it is unreadable.

        Records are kept as received (connectors/json_pages.py); a page msgspec does not
        read is parsed the exact, slower way, which also gives the error of an unreadable one.
        """
        listed = read_list_page(response.text, key, extras)
        if listed is not None:
            return listed
        try:
            body = simplejson.loads(response.text, use_decimal=True)
            if not isinstance(body.get(key), list):
                raise TypeError(f"'{key}' is missing or not a list")
            return body[key], body
        except (ValueError, TypeError, AttributeError) as exc:
            return BadInput(
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
            parsed = self._parse(response, key, ("next_cursor",))
            source = response.request.url.path
            if isinstance(parsed, BadInput):
                yield Page(records=[], source=source, bad=[parsed], complete=False)
                return
            records, body = parsed
            yield Page(records=records, source=source)
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
            parsed = self._parse(response, key, ("next_cursor", "has_more"))
            source = response.request.url.path
            if isinstance(parsed, BadInput):
                yield Page(records=[], source=source, bad=[parsed], complete=False)
                return
            records, body = parsed
            after = str(body.get("next_cursor") or after)
            yield Page(
                records=records, source=source, cursor={"field": "feed_position", "value": after}
            )
            if not body.get("has_more"):
                return
