"""Cursor pagination over a sorted view of records.

A view is a sequence of sort keys in ascending order (tuples ending with the
record's unique id) and a way to map a position to a record. A page is found
by bisecting to the cursor's anchor key and scanning in the wanted direction
until ``limit`` records pass the filter, so a page costs O(log n + scanned)
and the whole walk over n records is O(n) even with a selective filter.
Cursors are opaque URL-safe tokens that also carry the filters, the way
Shopify's ``page_info`` does.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class CursorError(ValueError):
    pass


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (ValueError, json.JSONDecodeError):
        raise CursorError(
            f"invalid cursor {token[:40]!r}: pass back the value from the previous page unchanged"
        ) from None
    if not isinstance(data, dict):
        raise CursorError("invalid cursor: pass back the value from the previous page unchanged")
    return data


@dataclass(slots=True)
class Page:
    positions: list[int]
    has_next: bool
    has_previous: bool
    first_key: list[Any] | None
    last_key: list[Any] | None


def page(
    keys: Sequence[tuple],
    accept: Callable[[int], bool],
    limit: int,
    *,
    descending: bool = False,
    anchor: Sequence[Any] | None = None,
    backwards: bool = False,
) -> Page:
    """One page of positions (in presentation order).

    ``anchor`` is the key of the last record of the previous page (going
    forward) or of the first record of the next page (``backwards``)."""
    n = len(keys)
    a = tuple(anchor) if anchor is not None else None
    # walking "down" the key order means descending presentation going
    # forward, or ascending presentation going backwards
    down = descending != backwards
    if down:
        pos = (bisect_left(keys, a) - 1) if a is not None else n - 1
        step = -1
    else:
        pos = bisect_right(keys, a) if a is not None else 0
        step = 1
    found: list[int] = []
    while 0 <= pos < n and len(found) <= limit:
        if accept(pos):
            found.append(pos)
        pos += step
    more = len(found) > limit
    found = found[:limit]
    if backwards:
        found.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, a is not None
    return Page(
        found,
        has_next,
        has_previous,
        list(keys[found[0]]) if found else None,
        list(keys[found[-1]]) if found else None,
    )
