"""What Python reads of a record on a JSON list page: only the fields the stream's checks use.

A stream's checks (``validation.py``) read a record's primary key, its cursor field, the
fields its references walk (``line_items[].sku``) and what its JSON Schema constrains. A
:class:`Projection` decodes just those from each record's text (msgspec, skipping the rest
without building objects for it) with exact decimals, as ``simplejson.loads(...,
use_decimal=True)`` reads them: a JSON number with a fraction or exponent is a ``Decimal`` of
its digits, so ``integer``, ``minimum`` or ``multipleOf`` mean what they meant before and no
float is ever looked at. What is stored is the record's own text (``landing.py``).

Why the checks decide the same on the projection as on the whole record: every schema
keyword allowed here reads only the value at its own place (its type, a number's value, a
string's text, an array's length, which of an object's ``required`` keys are present) and,
through ``properties`` and ``items``, the named properties and every element. The projection
keeps exactly those: each named property (its value projected again by its sub-schema), every
element of an array, the presence of a ``required`` key (its text, undecoded), and decodes
whole any value a keyword compares whole (``enum``, ``const``, ``uniqueItems``). A schema
with any other keyword (``$ref``, ``allOf``, ``additionalProperties``, ...) gets no projection:
its records are parsed whole, the exact way. A record whose shape does not fit the projection
(a string where the schema describes an object) is read the exact way too, and so is every
record the projection finds invalid, so each quarantine reason comes from the whole record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypedDict

import msgspec

from dagster_project.connectors.json_pages import JsonRecords

# keywords that only annotate
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated"}
    | {"readOnly", "writeOnly"}
)
# keywords that read the value at their place only (of a container: its type, its length,
# which required keys it has), and ``properties``/``items``, which read the named parts
_LOCAL = frozenset(
    {
        "type",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "required",
        "properties",
        "items",
    }
)
# keywords that compare the whole value: it is decoded whole
_WHOLE = frozenset({"enum", "const", "uniqueItems"})


class NotProjectable(ValueError):
    """The schema uses a keyword whose reads this module does not follow."""


@dataclass
class _Node:
    """What is read at one place: ``whole`` (decoded), ``fields`` (an object's named
    properties), ``items`` (each element of an array), or, when none, only presence."""

    whole: bool = False
    fields: dict[str, _Node] | None = None
    items: _Node | None = None

    @property
    def presence_only(self) -> bool:
        return not self.whole and self.fields is None and self.items is None


def _whole() -> _Node:
    return _Node(whole=True)


def _merge(a: _Node, b: _Node) -> _Node:
    if a.whole or b.whole:
        return _whole()
    if a.presence_only:
        return b
    if b.presence_only:
        return a
    if a.fields is not None and b.fields is not None:
        fields = dict(a.fields)
        for name, node in b.fields.items():
            fields[name] = _merge(fields[name], node) if name in fields else node
        return _Node(fields=fields)
    if a.items is not None and b.items is not None:
        return _Node(items=_merge(a.items, b.items))
    return _whole()  # read as an object by one check and as an array by another


def _from_schema(schema: Any) -> _Node:
    if not isinstance(schema, dict):
        raise NotProjectable(f"a schema that is not an object: {schema!r}")
    unknown = set(schema) - _ANNOTATIONS - _LOCAL - _WHOLE
    if unknown:
        raise NotProjectable(f"keyword(s) {', '.join(sorted(unknown))}")
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    items = schema.get("items")
    if not isinstance(properties, dict) or not isinstance(required, list):
        raise NotProjectable("properties or required of an unexpected form")
    children = [_from_schema(sub) for sub in properties.values()]  # every sub-schema checked
    item_node = _from_schema(items) if items is not None else None
    if set(schema) & _WHOLE or (("properties" in schema or "required" in schema) and item_node):
        return _whole()
    if item_node is not None:
        return _Node(items=item_node)
    if "properties" in schema or "required" in schema:
        fields = {str(name): _Node() for name in required}
        for name, node in zip(properties, children, strict=True):
            fields[name] = _merge(fields.get(name, _Node()), node)
        return _Node(fields=fields)
    return _whole() if set(schema) - _ANNOTATIONS else _Node()


def _from_path(path: str) -> _Node:
    """A dotted path as ``validation._dig`` and ``validation._walk`` follow it (``a[].b``)."""
    head, _, rest = path.partition(".")
    below = _from_path(rest) if rest else _whole()
    if head.endswith("[]"):
        return _Node(fields={head[:-2]: _Node(items=below)})
    return _Node(fields={head: below})


def _msgspec_type(node: _Node, names: list[int], top: bool = False) -> Any:
    if node.whole:
        return Any
    if node.fields is not None:
        names.append(len(names))
        shape = TypedDict(  # type: ignore[operator]
            f"Projected{len(names)}",
            {name: _msgspec_type(child, names) for name, child in node.fields.items()},
            total=False,
        )
        return shape if top else shape | None
    if node.items is not None:
        return list[_msgspec_type(node.items, names)] | None  # type: ignore[misc]
    return msgspec.Raw  # only its presence matters: left undecoded


@dataclass
class Projection:
    """Decodes from each record what ``paths`` and ``schema`` read (see the module)."""

    root: _Node
    _decoders: dict[str, msgspec.json.Decoder] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, schema: dict[str, Any] | None, paths: list[str], literal_fields: list[str]
    ) -> Projection | None:
        """For a record checked against ``schema`` whose ``paths`` (key fields, references)
        and top-level ``literal_fields`` (the cursor field) are read; None when ``schema`` is
        not one this module follows (its records are then parsed whole)."""
        root = _Node(fields={})
        try:
            if schema is not None:
                root = _merge(root, _from_schema(schema))
        except NotProjectable:
            return None
        for path in paths:
            root = _merge(root, _from_path(path))
        for name in literal_fields:
            root = _merge(root, _Node(fields={name: _whole()}))
        if root.fields is None:  # the schema reads records whole (e.g. an enum of objects)
            return None
        return cls(root)

    @cached_property
    def _record_type(self) -> Any:
        return _msgspec_type(self.root, [], top=True)

    @cached_property
    def _item_decoder(self) -> msgspec.json.Decoder:
        return msgspec.json.Decoder(self._record_type, float_hook=Decimal)

    def _page_decoder(self, key: str) -> msgspec.json.Decoder:
        if key not in self._decoders:
            shape = TypedDict("ProjectedPage", {key: list[self._record_type]})  # type: ignore[operator,misc]
            self._decoders[key] = msgspec.json.Decoder(shape, float_hook=Decimal)
        return self._decoders[key]

    def read(self, records: JsonRecords) -> list[dict[str, Any] | None]:
        """Each record's projection; None for a record that does not fit it (read it whole)."""
        try:
            views = self._page_decoder(records.key).decode(records.text)[records.key]
        except (msgspec.DecodeError, msgspec.ValidationError):
            views = None
        if views is not None and len(views) == len(records):
            return views
        out: list[dict[str, Any] | None] = []
        for raw in records.raw_items():  # one record does not fit: the others still do
            try:
                out.append(self._item_decoder.decode(raw))
            except (msgspec.DecodeError, msgspec.ValidationError):
                out.append(None)
        return out
