"""What every connector kind hands the ingest layer: pages of records from a stream.

A stream is data (docs/architecture.md, Conventions): its path, primary key, cursor field
and the server-side filter that matches that field, its page size. The
component reads it from ``defs.yaml``; a connector kind turns it into requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Reference(BaseModel):
    """A field whose values must be known in another stream (e.g. a SKU in the item master)."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Path in the record; 'lines[].sku' walks a list.")
    system: str = Field(description="The system whose raw stream lists the known values.")
    stream: str
    value: str = Field(description="Top-level payload field holding the known value, e.g. code.")


class KeyRefresh(BaseModel):
    """How a stream is re-read for a few values of one key field, and how an event names them
    (the worker's narrow path: a WMS 'stock.adjusted' event re-reads that SKU's bins only)."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The key column the stream is re-read by (e.g. sku).")
    param: str = Field(description="The query parameter that filters the stream by it.")
    event_path: str = Field(
        description="Dotted path in a trigger event's JSON body to the value (e.g. data.sku)."
    )


class ModelQuery(BaseModel):
    """What an ERP stream reads (kind tryton): a model, its fields, the cursor and watched paths.

    ``cursor_fields`` are read with each record and the record's cursor is their maximum;
    ``watch`` are the paths whose change selects a record (they may reach through relations,
    e.g. ``template.write_date``); an empty ``watch`` reads the whole model every time.
    ``domain`` is a fixed filter in the ERP's own syntax."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="The ERP model, e.g. product.product.")
    fields: list[str] = Field(description="Fields read; dotted paths reach through relations.")
    cursor_fields: list[str] = Field(
        default_factory=lambda: ["write_date", "create_date"],
        description="Fields whose maximum is a record's cursor value.",
    )
    watch: list[str] = Field(
        default_factory=lambda: ["write_date", "create_date"],
        description="Paths whose change at or after the cursor selects a record.",
    )
    domain: list[list[Any]] = Field(
        default_factory=list, description="A fixed filter, e.g. [[type, '=', warehouse]]."
    )


class StreamConfig(BaseModel):
    """One stream of one system instance, as declared in ``defs.yaml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Stream name; the raw table is raw.<system>__<name>.")
    description: str | None = Field(None, description="What the stream holds (documentation).")
    path: str | None = Field(None, description="REST path (relative to the base URL) or file glob.")
    records_key: str | None = Field(
        None, description="Key of the record list in a JSON page (default: the stream name)."
    )
    primary_key: list[str] = Field(description="Fields that identify a record (dotted for nested).")
    cursor_field: str | None = Field(
        None, description="Field whose maximum is the stream's cursor (e.g. updated_at)."
    )
    filter_param: str | None = Field(
        None,
        description="Server-side filter on the SAME field as cursor_field (e.g. updated_at_min). "
        "A cursor on updated_at filtered by created_at would lose updates.",
    )
    ordered_by_cursor: bool = Field(
        False,
        description="The server returns pages in ascending cursor order, so the cursor may "
        "commit with each page; otherwise it commits after the last page.",
    )
    page_size: int = Field(250, description="Records per request (1 to 10,000).")
    params: dict[str, str] = Field(default_factory=dict, description="Fixed query parameters.")
    schedule: str | None = Field(None, description="Cron schedule for the stream's sync.")
    webhook_topics: list[str] = Field(
        default_factory=list,
        description="Webhook topics whose deliveries carry records of this stream "
        "(landed from ops.webhook_inbox; a sensor launches the sync).",
    )
    volatile_fields: list[str] = Field(
        default_factory=list,
        description="Top-level fields left out of the change hash (e.g. an as_of stamp that "
        "changes on every read): a record differing only there is unchanged.",
    )
    snapshot: bool = Field(
        False,
        description="Each sync reads the whole current state: a key missing from a complete "
        "sync gets a tombstone version (payload {'_deleted': true}).",
    )
    paginator: str = Field(
        "auto",
        description="How pages link: 'link_header' (Shopify), 'next_cursor' (data + "
        "next_cursor), 'feed' (events + next_cursor + has_more; the cursor is the feed "
        "position), or 'auto' by kind.",
    )
    references: list[Reference] = Field(
        default_factory=list,
        description="Values that must exist in another stream; a record naming an unknown one "
        "is quarantined (checked only once that stream has been loaded).",
    )
    trigger_topics: list[str] = Field(
        default_factory=list,
        description="Webhook topics that only trigger this stream's sync (their bodies are "
        "not records of it, e.g. a WMS 'stock.adjusted' event for the stock listing).",
    )
    refresh_by_key: KeyRefresh | None = Field(
        None,
        description="The stream can be re-read for the keys a trigger event names (the "
        "narrow path of `distrohub worker`); a snapshot stream is then closed for those keys.",
    )
    drop_folder: bool = Field(False, description="Files from the system's folder (a sensor).")
    freshness_minutes: int | None = Field(
        None,
        description="Freshness SLA: the stream is stale when its last successful load is older "
        "(default: the system's freshness_minutes, else its kind's; hub/slas.py).",
    )
    json_schema: str | None = Field(
        None,
        description="JSON Schema file (relative to dagster_project/ingest/schemas) every record "
        "must pass; failures are quarantined. Default: <kind>/<name>.json if it exists.",
    )
    query: ModelQuery | None = Field(
        None,
        description="What the stream reads from the ERP (kind tryton; a stream without one is "
        "read by code, e.g. Tryton's stock per warehouse).",
    )
    drift_tolerance: float = Field(
        0.5,
        description="Share of a batch that may fail validation before the run fails as "
        "schema drift instead of quarantining record by record.",
    )

    @model_validator(mode="after")
    def _check(self) -> StreamConfig:
        if not 1 <= self.page_size <= 10_000:
            raise ValueError(f"stream {self.name}: page_size must be 1 to 10,000")
        if self.freshness_minutes is not None and self.freshness_minutes <= 0:
            raise ValueError(f"stream {self.name}: freshness_minutes must be a positive number")
        if not 0 <= self.drift_tolerance <= 1:
            raise ValueError(f"stream {self.name}: drift_tolerance is a share, 0 to 1")
        if bool(self.filter_param) and not self.cursor_field:
            raise ValueError(f"stream {self.name}: filter_param needs the cursor_field it filters")
        if not self.primary_key:
            raise ValueError(f"stream {self.name}: primary_key must name at least one field")
        if self.refresh_by_key and self.refresh_by_key.field not in self.key_columns:
            raise ValueError(
                f"stream {self.name}: refresh_by_key.field must be one of its key columns "
                f"{list(self.key_columns)}"
            )
        return self

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(k.split(".")[-1] for k in self.primary_key)


@dataclass
class BadInput:
    """Input that is unreadable as a record (e.g. not JSON); quarantined as received."""

    key_hint: str
    text: str
    reason: str


@dataclass
class Page:
    """One unit of reading: records as parsed, unreadable input, and where the read stands.

    ``records`` of a JSON list page is a :class:`~dagster_project.connectors.json_pages.
    JsonRecords`: the page's text as received, parsed only as far as the ingest needs."""

    records: Sequence[Any]
    source: str
    bad: list[BadInput] = field(default_factory=list)
    # the cursor after this page when it commits per page (None: keep the computed one)
    cursor: Any = None
    # False when the page could not be read whole: the stream's cursor must not move past it
    complete: bool = True
    # callbacks to run after the page's transaction commits (e.g. archive a file)
    after_commit: list[Any] = field(default_factory=list)


Kind = Literal[
    "tryton",
    "shopify",
    "wms_rest",
    "file_drop_3pl",
    "file_drop_csv",
    "carrier_webhook",
    "x12_supplier",
    "smtp",  # a mail relay: written to (publish), never read, so it has no streams
]
