"""System declarations: each instance's block in ``defs.yaml``, merged onto its kind's template.

A system block (``defs/systems/*/defs.yaml``, type ``SystemComponent``) holds only what is its
own: name, webhook path, the names of its URL, folder and credential variables, its location
or channel settings, its pool, and overrides. What every system of a kind declares alike (the
streams, their keys, cursors, schedules, SLAs; kind-wide settings) is written once, in
``defs/kinds/<kind>.yaml``. :func:`resolve_block` merges the two; every reader of the
declarations (the Dagster component, :func:`dagster_project.ingest.registry.declared_systems`,
the dbt sources generator, the webhook receiver, the worker, the bench) goes through it.

The templates are YAML data files read here, not Python defaults in the component: an
operator reads and diffs them like the blocks they complete, and a kind's streams (e.g.
Tryton's models and fields) stay data, as a stream should be (docs/architecture.md).
``defs/kinds/`` holds no ``defs.yaml`` and no Python, so Dagster's ``load_from_defs_folder``
loads nothing from it.

Merge rules (also at the top of each template and in
``dagster_project/defs/kinds/README.md``):

* a field of the block replaces the template's field; ``settings`` and ``credentials`` are
  merged key by key (shallowly: a key of the block replaces the template's key whole);
* ``streams:`` in the block overrides the template's streams by ``name``: each field given
  replaces that stream's field whole; naming a stream the kind does not have is an error;
* ``extra_streams:`` adds complete streams the kind does not have (after the template's);
* ``disabled_streams: [name, ...]`` drops template streams;
* an unknown kind, field or stream is an error naming the file, the system, the field and
  what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dagster_project.connectors.base import Kind, StreamConfig
from dagster_project.ingest.matching import shipment_matching
from dagster_project.ingest.readers import SystemConfig

DEFS_DIR = Path(__file__).resolve().parents[1] / "defs"
KINDS_DIR = DEFS_DIR / "kinds"
COMPONENT_TYPE = "dagster_project.components.system.SystemComponent"

#: fields of a block merged key by key with the template's
MERGED_BY_KEY = ("settings", "credentials")
#: fields only a block has (how it changes its kind's streams)
BLOCK_ONLY = ("extra_streams", "disabled_streams")
#: fields only a block may set (a template is no system of its own)
NOT_IN_TEMPLATE = ("system",)


class DeclarationError(ValueError):
    """A system block or kind template that cannot be resolved (says where and what is allowed)."""


class SystemDeclaration(BaseModel):
    """One system instance, fully resolved (its block merged onto its kind's template)."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="Instance name, e.g. shopify_b2b or wms_dc_east.")
    kind: Kind = Field(description="Connector kind (its template: defs/kinds/<kind>.yaml).")
    description: str | None = None
    url_env: str | None = Field(None, description="Variable holding the base URL.")
    folder_env: str | None = Field(None, description="Variable holding the drop folder.")
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="Credential role → the NAME of the environment variable holding it "
        "(token, user, password, webhook_secret). Values are never written here.",
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="Kind-specific options.")
    webhook_path: str | None = Field(
        None,
        description="Where this system's webhooks arrive: POST /webhooks/<webhook_path> on "
        "`distrohub webhooks serve` (default: the system name). Register that URL with the system.",
    )
    pool: str | None = Field(None, description="Dagster pool capping calls to this system.")
    request_budget: int = Field(20_000, description="Requests one sync may make.")
    freshness_minutes: int | None = Field(
        None,
        description="Freshness SLA of the system's streams in minutes (a stream's own "
        "freshness_minutes wins; default: the kind's, hub/slas.py).",
    )
    automation: str = Field("running", description="Schedules and sensors: running or stopped.")
    streams: list[StreamConfig]

    @field_validator("settings")
    @classmethod
    def _shipment_matching(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """``settings.shipment_matching`` is checked as the YAML loads (ingest/matching.py)."""
        shipment_matching(settings)
        return settings

    @property
    def config(self) -> SystemConfig:
        """What a reader needs at run time (names of variables, never their values)."""
        return SystemConfig(
            system=self.system,
            kind=self.kind,
            url_env=self.url_env,
            folder_env=self.folder_env,
            credentials=dict(self.credentials),
            settings=dict(self.settings),
            request_budget=self.request_budget,
            webhook_path=self.webhook_path,
            freshness_minutes=self.freshness_minutes,
        )


SYSTEM_FIELDS = tuple(SystemDeclaration.model_fields)
STREAM_FIELDS = tuple(StreamConfig.model_fields)


def _allowed(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


def known_kinds(kinds_dir: Path = KINDS_DIR) -> list[str]:
    """The kinds that have a template (and a connector)."""
    return sorted(p.stem for p in kinds_dir.glob("*.yaml") if p.stem in get_args(Kind))


def kind_template(kind: Any, where: str, kinds_dir: Path = KINDS_DIR) -> dict[str, Any]:
    """The template of ``kind`` (``<kinds_dir>/<kind>.yaml``), its own fields checked."""
    path = kinds_dir / f"{kind}.yaml"
    if not isinstance(kind, str) or kind not in get_args(Kind) or not path.is_file():
        raise DeclarationError(
            f"{where}: kind {kind!r} is unknown; allowed: {_allowed(known_kinds(kinds_dir))} "
            f"(one template each in {kinds_dir})"
        )
    template = yaml.safe_load(path.read_text()) or {}
    here = f"{path}: kind template {kind}"
    if not isinstance(template, dict):
        raise DeclarationError(
            f"{here}: expected a mapping of fields, got {type(template).__name__}"
        )
    allowed = [f for f in SYSTEM_FIELDS if f not in NOT_IN_TEMPLATE]
    for key in template:
        if key not in allowed:
            raise DeclarationError(
                f"{here}: unknown field {key!r}; allowed in a template: {_allowed(allowed)}"
            )
    if template.get("kind", kind) != kind:
        raise DeclarationError(f"{here}: declares kind {template['kind']!r}, not {kind!r}")
    names = [s.get("name") if isinstance(s, dict) else None for s in template.get("streams") or []]
    if None in names or len(set(names)) != len(names):
        raise DeclarationError(f"{here}: every stream needs a name of its own (got {names})")
    for entry in template.get("streams") or []:
        _check_stream_fields(entry, here, "streams")
    return template


def _check_stream_fields(entry: Any, where: str, field: str) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise DeclarationError(f"{where}: each entry of {field} needs a name (got {entry!r})")
    for key in entry:
        if key not in STREAM_FIELDS:
            raise DeclarationError(
                f"{where}: {field} {entry['name']}: unknown field {key!r}; "
                f"allowed: {_allowed(STREAM_FIELDS)}"
            )
    return entry["name"]


def merge_block(
    attributes: Mapping[str, Any], where: str, kinds_dir: Path = KINDS_DIR
) -> dict[str, Any]:
    """A block's attributes merged onto its kind's template (the rules: module docstring).

    ``where`` names the file; the result is checked for unknown fields and streams but not
    yet validated (:func:`resolve_block` does both)."""
    if not isinstance(attributes, Mapping):
        raise DeclarationError(f"{where}: attributes must be a mapping of fields")
    system = attributes.get("system")
    if not isinstance(system, str) or not system:
        raise DeclarationError(f"{where}: a SystemComponent block needs `system: <name>`")
    here = f"{where}: system {system}"
    for key in attributes:
        if key not in SYSTEM_FIELDS and key not in BLOCK_ONLY:
            raise DeclarationError(
                f"{here}: unknown field {key!r}; allowed: {_allowed([*SYSTEM_FIELDS, *BLOCK_ONLY])}"
            )
    kind = attributes.get("kind")
    template = kind_template(kind, here, kinds_dir)

    merged: dict[str, Any] = {k: v for k, v in template.items() if k != "streams"}
    for key, value in attributes.items():
        if key in BLOCK_ONLY or key == "streams":
            continue
        if key in MERGED_BY_KEY and value is not None:
            if not isinstance(value, Mapping):
                raise DeclarationError(f"{here}: {key} must be a mapping (got {value!r})")
            merged[key] = {**(template.get(key) or {}), **value}
        else:
            merged[key] = value

    streams = {s["name"]: dict(s) for s in template.get("streams") or []}
    kind_streams = list(streams)
    disabled = attributes.get("disabled_streams") or []
    if not isinstance(disabled, list):
        raise DeclarationError(f"{here}: disabled_streams must be a list of stream names")
    for name in disabled:
        if name not in streams:
            raise DeclarationError(
                f"{here}: disabled_streams names {name!r}, not a stream of kind {kind}; "
                f"allowed: {_allowed(kind_streams)}"
            )
    for entry in attributes.get("streams") or []:
        name = _check_stream_fields(entry, here, "streams")
        if name not in streams:
            raise DeclarationError(
                f"{here}: streams overrides {name!r}, not a stream of kind {kind}; allowed: "
                f"{_allowed(kind_streams)} (declare a new stream in full under extra_streams)"
            )
        if name in disabled:
            raise DeclarationError(f"{here}: stream {name!r} is both overridden and disabled")
        streams[name].update(entry)
    for name in disabled:
        del streams[name]
    for entry in attributes.get("extra_streams") or []:
        name = _check_stream_fields(entry, here, "extra_streams")
        if name in kind_streams:
            raise DeclarationError(
                f"{here}: extra_streams adds {name!r}, which kind {kind} already has; "
                "override its fields under streams instead"
            )
        if name in streams:
            raise DeclarationError(f"{here}: extra_streams adds {name!r} twice")
        streams[name] = dict(entry)
    merged["streams"] = list(streams.values())
    return merged


def resolve_block(
    attributes: Mapping[str, Any], where: str, kinds_dir: Path = KINDS_DIR
) -> SystemDeclaration:
    """A block merged onto its kind's template and validated: the one way to read a system."""
    merged = merge_block(attributes, where, kinds_dir)
    try:
        return SystemDeclaration.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(_problem(e, merged) for e in exc.errors())
        raise DeclarationError(
            f"{where}: system {merged['system']} (merged with kind {merged['kind']}): {problems}"
        ) from None


def _problem(error: Any, merged: Mapping[str, Any]) -> str:
    """One pydantic error as ``where: what``; a check that names its own place inside the field
    (``settings.shipment_matching.order_reference[1]: ...``) is given as it says it."""
    where, message = _location(error["loc"], merged), error["msg"]
    inner = message.removeprefix("Value error, ")
    return inner if inner.startswith(f"{where}.") else f"{where}: {message}"


def _location(loc: tuple[Any, ...], merged: Mapping[str, Any]) -> str:
    """A pydantic error location with stream indexes turned into names: streams[items].query."""
    parts = [str(p) for p in loc]
    if len(loc) > 1 and loc[0] == "streams" and isinstance(loc[1], int):
        name = (merged["streams"][loc[1]] or {}).get("name", loc[1])
        parts[:2] = [f"streams[{name}]"]
    return ".".join(parts) or "(block)"


def system_blocks(defs_dir: Path = DEFS_DIR) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every SystemComponent block under ``defs_dir``, as written: (file, attributes)."""
    for path in sorted(defs_dir.rglob("defs.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("type") == COMPONENT_TYPE:
                yield path, doc.get("attributes") or {}


def system_declarations(
    defs_dir: Path = DEFS_DIR, kinds_dir: Path = KINDS_DIR
) -> dict[str, SystemDeclaration]:
    """Every declared system, resolved: system name → declaration."""
    systems: dict[str, SystemDeclaration] = {}
    for path, attributes in system_blocks(defs_dir):
        declaration = resolve_block(attributes, str(path), kinds_dir)
        if declaration.system in systems:
            raise DeclarationError(
                f"system {declaration.system!r} is declared twice (second time in {path})"
            )
        systems[declaration.system] = declaration
    return systems
