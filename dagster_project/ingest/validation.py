"""Splitting a page into loadable records and quarantined input.

A record is loadable when it is a JSON object, carries every primary-key
field, and passes its stream's JSON Schema (``ingest/schemas/<kind>/<stream>.json``
or the file named in ``defs.yaml``): types, required fields, non-negative
quantities. Everything else is quarantined with a reason naming the field.
When a large share of a batch fails the same way it is not bad records but a
changed source (schema drift): :class:`SchemaDrift` fails the run instead.

Numbers are exact everywhere: records' with a fraction or exponent are ``Decimal``
(simplejson's ``use_decimal``, msgspec's ``float_hook``), and so are the schema's. On a JSON
list page a record is checked on its projection (``projection.py``: only what these checks
read) and stored, or quarantined, as the text it arrived as; the whole record is parsed only
when the projection does not fit it or finds it invalid, so a reason is the whole record's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import simplejson
from psycopg import sql

from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.connectors.json_pages import JsonRecords
from dagster_project.ingest.landing import Record, Rejected, dumps, jsonb_text, raw_table_name
from dagster_project.ingest.projection import Projection

SCHEMAS_DIR = Path(__file__).with_name("schemas")
DRIFT_MIN_RECORDS = 10

# Business error codes of rejected records (ops.quarantine.error_code)
RECORD_NOT_OBJECT = "record_not_object"  # the source sent something that is not a record
PRIMARY_KEY_MISSING = "primary_key_missing"  # a key field is empty or absent
SCHEMA_INVALID = "schema_invalid"  # fails the stream's JSON Schema (type, required, range)
UNKNOWN_REFERENCE = "unknown_reference"  # names an item/party/... the referenced system lacks
UNREADABLE_PAGE = "unreadable_page"  # a page of the source's answer was not readable at all


class SchemaDrift(RuntimeError):
    """Most of a batch fails validation: the source changed, not a few records."""


def _load_schema(path: Path) -> Any:
    """A schema file, its fractional numbers (a ``multipleOf`` of 0.01, a ``maximum`` of
    0.3) read as ``Decimal`` like the records' numbers, so every comparison is exact (and
    ``multipleOf`` works at all on a ``Decimal``)."""
    return simplejson.loads(path.read_text(), use_decimal=True)


@lru_cache(maxsize=256)
def _validator(path: Path) -> jsonschema.protocols.Validator:
    schema = _load_schema(path)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


# Keywords that mean the same to fastjsonschema (draft-07 code) as to jsonschema under every
# draft our schemas name, and that it checks at least as strictly (formats and ``$`` in
# patterns more strictly). A schema using anything else gets no fast check.
_FAST_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "type",
        "required",
        "properties",
        "items",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
        "format",
        "enum",
    }
)


def _fast_safe(schema: Any) -> bool:
    if not isinstance(schema, dict) or not set(schema) <= _FAST_KEYWORDS:
        return False
    if "items" in schema and not _fast_safe(schema["items"]):
        return False  # the array form of items changed meaning in 2020-12
    if "enum" in schema and not all(isinstance(v, str) for v in schema["enum"]):
        return False  # jsonschema tells true from 1 in enums; Python's ``in`` does not
    if any(isinstance(schema.get(k), Decimal) for k in ("minimum", "maximum")):
        return False  # fastjsonschema would compare with a float literal: jsonschema alone
    props = schema.get("properties", {})
    return isinstance(props, dict) and all(_fast_safe(sub) for sub in props.values())


@lru_cache(maxsize=256)
def _fast_check(path: Path) -> Callable[[Any], bool] | None:
    """A compiled yes/no check for the schema at ``path``, or None when it has none.

    jsonschema is the judge: a record is valid when jsonschema finds no error, and the
    quarantine reason is jsonschema's best match. This check only saves that work for the
    records it passes, and it passes only records jsonschema passes too (``_FAST_KEYWORDS``),
    so which records load and every reason stay exactly as jsonschema alone decides them.
    """
    schema = _load_schema(path)
    if not _fast_safe(schema):
        return None
    try:
        check = fastjsonschema.compile(schema, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None

    def passes(record: Any) -> bool:
        try:
            check(record)
        except Exception:  # a value error, or a value it cannot compare: ask jsonschema
            return False
        return True

    return passes


def schema_path(kind: str, stream: StreamConfig) -> Path | None:
    if stream.json_schema:
        path = SCHEMAS_DIR / stream.json_schema
        if not path.exists():
            raise FileNotFoundError(
                f"stream {stream.name}: schema file {path} named in defs.yaml does not exist"
            )
        return path
    default = SCHEMAS_DIR / kind / f"{stream.name}.json"
    return default if default.exists() else None


def _dig(record: dict, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class RecordValidator:
    """Validates the records of one stream of one system kind."""

    def __init__(
        self,
        system: str,
        kind: str,
        stream: StreamConfig,
        known: dict[str, set[str]] | None = None,
    ) -> None:
        self.system = system
        self.stream = stream
        path = schema_path(kind, stream)
        self.validator = _validator(path) if path else None
        self.fast_check = _fast_check(path) if path else None
        # reference field path -> known values (absent: not checkable yet)
        self.known = known or {}
        # what the checks read of a record on a JSON list page (None: parse records whole)
        self.projection = Projection.build(
            self.validator.schema if self.validator is not None else None,
            [*stream.primary_key, *(ref.field for ref in stream.references)],
            [stream.cursor_field] if stream.cursor_field else [],
        )

    def split(self, page: Page) -> tuple[list[Record], list[Rejected]]:
        records: list[Record] = []
        # a connector's BadInput is a page it could not read as records (not JSON, no list)
        rejected = [Rejected(b.key_hint, b.text, b.reason, UNREADABLE_PAGE) for b in page.bad]
        if isinstance(page.records, JsonRecords):
            self._split_json(page.records, page.source, records, rejected)
            return records, rejected
        for position, raw in enumerate(page.records):
            problem, key = self._check(raw)
            if problem is None:
                # written for jsonb here: split runs ahead of the commit (sync.read_ahead)
                records.append(Record(key, raw, page.source, jsonb_text(raw)))
            else:
                rejected.append(self._rejected(problem, key, dumps(raw), page.source, position))
        return records, rejected

    def _split_json(
        self,
        page: JsonRecords,
        source: str,
        records: list[Record],
        rejected: list[Rejected],
    ) -> None:
        """A JSON list page: each record checked on its projection (what the checks read,
        exact decimals), the whole record parsed only when the projection does not fit it or
        finds it invalid (so every verdict and reason is the whole record's). A record's own
        text on the page, as received, is what is stored, or quarantined."""
        views = self.projection.read(page) if self.projection is not None else None
        for position in range(len(page)):
            view = views[position] if views is not None else None
            if view is not None:
                problem, key = self._check(view)
                if problem is None:
                    records.append(Record(key, view, source, page.item_text(position)))
                    continue
            raw = page.exact_item(position) if views is not None else page[position]
            problem, key = self._check(raw)
            if problem is None:
                records.append(Record(key, raw, source, page.item_text(position)))
            else:  # quarantined as received
                text = page.item_text(position)
                rejected.append(self._rejected(problem, key, text, source, position))

    def _rejected(
        self,
        problem: tuple[str, str],
        key: tuple[str, ...],
        text: str,
        source: str,
        position: int,
    ) -> Rejected:
        code, reason = problem
        hint = "/".join(key) if key else f"{source}#{position}"
        return Rejected(hint, text, f"{self.system} {self.stream.name}: {reason}", code)

    def _check(self, raw: Any) -> tuple[tuple[str, str] | None, tuple[str, ...]]:
        """(error code, reason) of what is wrong with ``raw`` (None: loadable), and its key."""
        if not isinstance(raw, dict):
            return (
                RECORD_NOT_OBJECT,
                f"a record must be a JSON object, got {type(raw).__name__}",
            ), ()
        key_values = [_dig(raw, k) for k in self.stream.primary_key]
        missing = [
            k
            for k, v in zip(self.stream.primary_key, key_values, strict=True)
            if v is None or v == ""
        ]
        key = tuple("" if v is None else str(v) for v in key_values)
        if missing:
            return (PRIMARY_KEY_MISSING, f"primary key field(s) {', '.join(missing)} missing"), key
        if self.validator is not None and not (
            self.fast_check is not None and self.fast_check(raw)
        ):
            error = jsonschema.exceptions.best_match(self.validator.iter_errors(raw))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "(record)"
                return (SCHEMA_INVALID, f"{where}: {error.message}"), key
        for ref in self.stream.references:
            values = self.known.get(ref.field)
            if values is None:
                continue
            for value in _walk(raw, ref.field):
                if value is not None and str(value) not in values:
                    return (
                        UNKNOWN_REFERENCE,
                        f"{ref.field} {value!r} is unknown in {ref.system} {ref.stream} "
                        f"(no {ref.value} {value!r}): create it there or correct the record",
                    ), key
        return None, key

    def check_drift(self, page_size: int, rejected: Iterable[Rejected]) -> None:
        rejected = list(rejected)
        if page_size < DRIFT_MIN_RECORDS or not rejected:
            return
        share = len(rejected) / page_size
        if share <= self.stream.drift_tolerance:
            return
        common = Counter(r.reason.split(": ", 1)[-1] for r in rejected).most_common(1)[0][0]
        raise SchemaDrift(
            f"{self.system} {self.stream.name}: {len(rejected)} of {page_size} records "
            f"({share:.0%}) fail validation, most often '{common}'. The source's format has "
            f"changed beyond the stream's drift tolerance ({self.stream.drift_tolerance:.0%}). "
            "Fix: check the system's API version and the stream's JSON Schema in "
            "dagster_project/ingest/schemas; nothing from this page was loaded."
        )


def _walk(record: Any, path: str) -> Iterator[Any]:
    """Values at ``path``; ``a[].b`` walks every element of list ``a``."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = record.get(head[:-2]) if isinstance(record, dict) else None
        for item in items or []:
            yield from (_walk(item, rest) if rest else [item])
        return
    value = record.get(head) if isinstance(record, dict) else None
    if rest:
        if value is not None:
            yield from _walk(value, rest)
    else:
        yield value


def load_known_values(conn: Any, stream: StreamConfig) -> dict[str, set[str]]:
    """For each reference, the values currently known (latest live versions); skip if unloaded."""
    known: dict[str, set[str]] = {}
    for ref in stream.references:
        table = sql.Identifier("raw", raw_table_name(ref.system, ref.stream))
        exists = conn.execute(
            "select to_regclass(%s)", (f"raw.{raw_table_name(ref.system, ref.stream)}",)
        ).fetchone()[0]
        if exists is None:
            continue
        rows = conn.execute(
            sql.SQL(
                "select distinct payload->>{value} from {table} "
                "where not (payload ? '_deleted') and payload->>{value} is not null"
            ).format(value=sql.Literal(ref.value), table=table)
        ).fetchall()
        conn.commit()
        if rows:
            known[ref.field] = {r[0] for r in rows}
    return known


def cursor_max(current: Any, candidate: Any) -> Any:
    """The later of two cursor values (ISO timestamps compared as instants)."""
    if candidate is None:
        return current
    if current is None:
        return candidate
    try:
        a = datetime.fromisoformat(str(current).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(candidate).replace("Z", "+00:00"))
        if (a.tzinfo is None) == (b.tzinfo is None):
            return candidate if b > a else current
    except ValueError:
        pass
    return candidate if candidate > current else current
