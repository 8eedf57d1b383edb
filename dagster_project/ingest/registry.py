"""The declared systems, read straight from the ``defs.yaml`` files.

Dagster builds its definitions from the same files; processes that only need
the declarations (the webhook server, the CLI) read them here without loading
Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from dagster_project.connectors.base import StreamConfig
from dagster_project.ingest.readers import SystemConfig

DEFS_DIR = Path(__file__).resolve().parents[1] / "defs"
COMPONENT_TYPE = "dagster_project.components.system.SystemComponent"


def _documents(defs_dir: Path) -> Iterator[tuple[Path, dict]]:
    for path in sorted(defs_dir.rglob("defs.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict):
                yield path, doc


def declared_systems(
    defs_dir: Path = DEFS_DIR,
) -> dict[str, tuple[SystemConfig, list[StreamConfig]]]:
    """Every SystemComponent block: system name → (config, streams)."""
    systems: dict[str, tuple[SystemConfig, list[StreamConfig]]] = {}
    for path, doc in _documents(defs_dir):
        if doc.get("type") != COMPONENT_TYPE:
            continue
        attrs = doc.get("attributes") or {}
        name = attrs["system"]
        if name in systems:
            raise ValueError(f"system {name!r} is declared twice (second time in {path})")
        config = SystemConfig(
            system=name,
            kind=attrs["kind"],
            url_env=attrs.get("url_env"),
            folder_env=attrs.get("folder_env"),
            credentials=dict(attrs.get("credentials") or {}),
            settings=dict(attrs.get("settings") or {}),
            request_budget=int(attrs.get("request_budget", 20_000)),
            webhook_path=attrs.get("webhook_path"),
            freshness_minutes=attrs.get("freshness_minutes"),
        )
        streams = [StreamConfig(**s) for s in attrs.get("streams") or []]
        systems[name] = (config, streams)
    return systems
