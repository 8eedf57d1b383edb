"""The declared systems, read straight from the ``defs.yaml`` files.

Dagster builds its definitions from the same files; processes that only need
the declarations (the webhook server, the CLI) read them here without loading
Dagster. Each block is merged onto its kind's template (``defs/kinds/<kind>.yaml``)
by :func:`dagster_project.ingest.declarations.resolve_block`, as the component does.
"""

from __future__ import annotations

from pathlib import Path

from dagster_project.connectors.base import StreamConfig
from dagster_project.ingest.declarations import COMPONENT_TYPE, DEFS_DIR, system_declarations
from dagster_project.ingest.readers import SystemConfig

__all__ = ["COMPONENT_TYPE", "DEFS_DIR", "declared_systems"]


def declared_systems(
    defs_dir: Path = DEFS_DIR,
) -> dict[str, tuple[SystemConfig, list[StreamConfig]]]:
    """Every SystemComponent block, resolved: system name → (config, streams)."""
    return {
        name: (declaration.config, list(declaration.streams))
        for name, declaration in system_declarations(defs_dir).items()
    }
