"""Each declared stream's freshness SLA, by the rules of :mod:`dagster_project.hub.slas`."""

from __future__ import annotations

from pathlib import Path

from dagster_project.hub.slas import sla_minutes
from dagster_project.ingest.registry import DEFS_DIR, declared_systems


def declared_slas(defs_dir: Path | None = None) -> dict[tuple[str, str], int]:
    """(system, stream) → SLA minutes, for every declared stream."""
    out: dict[tuple[str, str], int] = {}
    for name, (config, streams) in declared_systems(defs_dir or DEFS_DIR).items():
        for stream in streams:
            out[(name, stream.name)] = sla_minutes(
                config.kind, config.freshness_minutes, stream.freshness_minutes
            )
    return out
