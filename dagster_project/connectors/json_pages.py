"""A JSON list page read once: the records' text kept as received, parsed only where needed.

A REST list page (Shopify's ``{"orders": [...]}``, our WMS's ``{"data": [...], "next_cursor":
...}``) is mostly records that the hub stores as they are. :func:`read_list_page` checks the
page with msgspec and cuts the list into each record's own text (``msgspec.Raw``) without
building Python objects for them. The ingest layer then decodes only the fields its checks
read (``ingest/projection.py``) and hands PostgreSQL each record's own text for its ``jsonb``
column, so no record is parsed into Python objects and written back out.

Values read here are what ``simplejson.loads(text, use_decimal=True)`` gives: a JSON number
with a fraction or an exponent is a :class:`~decimal.Decimal` of its own digits (msgspec's
``float_hook``), integers are exact at any size, and a key that appears twice keeps its last
value (as in simplejson and in PostgreSQL's ``jsonb``). A page msgspec does not accept (not
strict JSON, e.g. ``NaN`` or a byte-order mark, or not a list page) gives ``None``, and the
connector reads it the exact, slower way as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, TypedDict, overload

import msgspec
import simplejson


class JsonRecords(Sequence[Any]):
    """The records of one JSON list page: the page's text as received, the key of its list,
    and each record's text (``item_text``). As a sequence it gives the records parsed with
    exact decimals, parsing the page on first use (what the connectors gave before)."""

    def __init__(self, text: str, key: str, items: list[msgspec.Raw]) -> None:
        self.text = text
        self.key = key
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._exact[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._exact)

    @cached_property
    def _exact(self) -> list[Any]:
        records = simplejson.loads(self.text, use_decimal=True)[self.key]
        if len(records) != len(self._items):  # both read the same text; a guard, not a case
            raise RuntimeError(f"page list '{self.key}': {len(records)} != {len(self._items)}")
        return records

    def item_text(self, index: int) -> str:
        """Record ``index`` as received: its JSON text, cut from the page."""
        return bytes(self._items[index]).decode()

    def raw_items(self) -> list[msgspec.Raw]:
        return self._items

    def exact_item(self, index: int) -> Any:
        """Record ``index`` parsed with exact decimals, without parsing the whole page."""
        if "_exact" in self.__dict__:
            return self._exact[index]
        return simplejson.loads(self.item_text(index), use_decimal=True)


@lru_cache(maxsize=64)
def _page_decoder(key: str, extras: tuple[str, ...]) -> msgspec.json.Decoder:
    fields: dict[str, Any] = {name: Any for name in extras}
    fields[key] = list[msgspec.Raw]
    shape = TypedDict("ListPage", fields, total=False)  # type: ignore[operator]
    return msgspec.json.Decoder(shape, float_hook=Decimal)


def read_list_page(
    text: str, key: str, extras: tuple[str, ...] = ()
) -> tuple[JsonRecords, dict[str, Any]] | None:
    """Split ``text``, a JSON object whose ``key`` is a list, into :class:`JsonRecords`, and
    read the top-level fields ``extras`` (e.g. ``next_cursor``; absent ones are left out).
    ``None`` when msgspec cannot read it so: the caller reads the page the exact way."""
    try:
        page = _page_decoder(key, extras).decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    items = page.pop(key, None)
    if items is None:
        return None
    return JsonRecords(text, key, items), page
