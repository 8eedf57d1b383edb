"""Publish targets, declared in YAML (``defs/publish/defs.yaml``), validated with pydantic.

A target is one publish model (``publish.<model>``, the desired state) and how its records
go out: which columns make a record's key, which system each record goes to, which
transport delivers it, what holds a record back, how much may change at once (the blast
radius), how fresh its sources must be, and how to tell that the target already holds a
value (loop suppression). Processes that need no Dagster (the CLI) read the same files
through :func:`declared_targets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFS_DIR = Path(__file__).resolve().parents[1] / "defs"
COMPONENT_TYPE = "dagster_project.components.publish_target.PublishTargetComponent"
IDENTIFIER = r"^[a-z_][a-z0-9_]*$"


class BlastRadius(BaseModel):
    """How much of what was last published one publish may change."""

    model_config = ConfigDict(extra="forbid")

    max_changed_share: float = Field(
        0.5, ge=0, le=1, description="Share of published records a publish may change."
    )
    max_zeroed_share: float = Field(
        0.3, ge=0, le=1, description="Share of published records a publish may set to zero."
    )
    min_published: int = Field(
        20, ge=0, description="Below this many published records the limit does not apply."
    )
    zero_column: str | None = Field(
        None, pattern=IDENTIFIER, description="The quantity column whose drop to 0 counts."
    )


class Freshness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age_minutes: int | None = Field(
        None,
        gt=0,
        description="At most this old for this target; by default each source stream's own "
        "SLA (defs.yaml freshness_minutes, hub/slas.py) applies.",
    )
    handled_by_model: list[str] = Field(
        default_factory=list,
        description="Streams ('<system>/<stream>', globs) whose staleness the model handles "
        "itself (e.g. stock feeds: a stale location is held or zeroed by its policy), so they "
        "do not hold the whole publish.",
    )


class LoopSuppression(BaseModel):
    """A value that came from the target is not sent back to it.

    ``relation`` is the hub's latest copy of what the target itself says (a staging view);
    a record whose ``compare`` columns already equal the target's own values is recorded
    as published without a call.
    """

    model_config = ConfigDict(extra="forbid")

    relation: str = Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
    match: dict[str, str] = Field(description="publish model column -> relation column (the key)")
    compare: dict[str, str] = Field(description="publish model column -> relation column")


class Drift(BaseModel):
    """Reconciliation of what the target holds now with what the hub wants it to hold.

    A record whose desired payload equals what we last told the target, but whose value in the
    target's own feed (the ``loop_suppression`` relation, read after our last send) differs, has
    drifted (a merchandiser's edit in the store). ``correct`` sends the desired value again
    through the same gate, diff and outbox; ``report`` only records it
    (``ops.drift_corrections``). ``schedule`` is the cron of the sweep that reads the target's
    feed afresh and delivers (``drift_sweep__<target>``).
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["correct", "report"] = Field(
        description="correct: send the desired value again; report: record only."
    )
    schedule: str = Field(
        pattern=r"^\S+( \S+){4}$",
        description="Cron (5 fields, UTC) of the drift sweep: read the target's feed, deliver.",
    )
    loaded_at_column: str = Field(
        "loaded_at",
        pattern=IDENTIFIER,
        description="The live relation's column saying when ingest read that row: only a row "
        "read after the record was last published counts as drift.",
    )


class Narrow(BaseModel):
    """The target's narrow path (publish/narrow.py, macros/narrow.sql): its publish model and
    the models between it and a fast-moving source, rebuilt, gated and delivered for a few keys
    at a time by the worker (``distrohub worker``) when events name them."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(
        pattern=IDENTIFIER, description="The key every narrowed model is scoped by (e.g. sku)."
    )
    models: list[str] = Field(
        min_length=1,
        description="The dbt models rebuilt for the scope, upstream first; the last is the "
        "publish model.",
    )
    scope: str = Field(
        pattern=IDENTIFIER,
        description="The dbt analysis (dbt_project/analyses/) that widens the changed keys ($1) "
        "to every key whose figures depend on them.",
    )
    streams: list[str] = Field(
        default_factory=list,
        description="Streams ('<system>/<stream>', globs) whose events start a narrow publish.",
    )


class TargetConfig(BaseModel):
    """One publish target."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    target: str = Field(pattern=IDENTIFIER)
    model: str = Field(
        pattern=IDENTIFIER,
        alias="publish_model",
        description="The publish model, publish.<model> (YAML key publish_model).",
    )
    description: str = ""
    key_columns: list[str] = Field(min_length=1, description="Columns joined by ':' = record key.")
    lines_order_by: list[str] | None = Field(
        None, description="Several rows make one record (its lines), in this order."
    )
    system: str | None = Field(None, description="The system every record goes to.")
    system_column: str | None = Field(None, pattern=IDENTIFIER)
    transport: str | dict[str, str] = Field(
        description="The transport kind, or system kind -> transport kind."
    )
    hold_column: str | None = Field(
        None, pattern=IDENTIFIER, description="A record whose column is not null is held."
    )
    on_remove: Literal["ignore"] = Field(
        "ignore",
        description="A record that left the model is not sent (the target keeps it).",
    )
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    freshness: Freshness = Field(default_factory=Freshness)
    loop_suppression: LoopSuppression | None = None
    batch_size: int = Field(50, gt=0)
    max_attempts: int = Field(5, gt=0, description="Attempts before a dead letter.")
    retry_backoff_seconds: float = Field(30.0, gt=0, description="First retry delay, doubled.")
    pool: str | None = None
    narrow: Narrow | None = None
    drift: Drift | None = None

    @model_validator(mode="after")
    def _check(self) -> TargetConfig:
        if self.narrow is not None:
            if self.narrow.models[-1] != self.model:
                raise ValueError(
                    f"{self.target}: narrow.models must end with the publish model {self.model}"
                )
            if self.lines_order_by:
                raise ValueError(f"{self.target}: narrow needs one row per record")
        if self.drift is not None:
            if self.loop_suppression is None:
                raise ValueError(
                    f"{self.target}: drift needs a live relation, the target's own feed: "
                    "declare loop_suppression (relation, match, compare) for it"
                )
            if self.lines_order_by:
                raise ValueError(f"{self.target}: drift needs one row per record")
        if (self.system is None) == (self.system_column is None):
            raise ValueError(f"{self.target}: declare exactly one of system or system_column")
        for column in [*self.key_columns, *(self.lines_order_by or [])]:
            if not column.replace("_", "a").isalnum() or not column[0].isalpha():
                raise ValueError(f"{self.target}: {column!r} is not a column name")
        return self

    @property
    def relation(self) -> tuple[str, str]:
        return ("publish", self.model)

    def transport_for(self, system_kind: str) -> str:
        if isinstance(self.transport, str):
            return self.transport
        try:
            return self.transport[system_kind]
        except KeyError:
            raise ValueError(
                f"publish target {self.target}: no transport for systems of kind {system_kind!r}"
                f" (declared: {', '.join(self.transport)}); add it to defs/publish/defs.yaml"
            ) from None


class UnknownTarget(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def declared_targets(defs_dir: Path = DEFS_DIR) -> dict[str, TargetConfig]:
    """Every PublishTargetComponent block: target name -> its declaration."""
    targets: dict[str, TargetConfig] = {}
    for path in sorted(defs_dir.rglob("defs.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("type") != COMPONENT_TYPE:
                continue
            config = TargetConfig(**(doc.get("attributes") or {}))
            if config.target in targets:
                raise ValueError(f"publish target {config.target!r} declared twice ({path})")
            targets[config.target] = config
    return targets


def target(name: str) -> TargetConfig:
    targets = declared_targets()
    if name not in targets:
        raise UnknownTarget(
            f"no publish target {name!r}; declared: {', '.join(sorted(targets))} "
            "(dagster_project/defs/publish/defs.yaml)"
        )
    return targets[name]
