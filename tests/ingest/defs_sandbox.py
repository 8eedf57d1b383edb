"""A throwaway Dagster defs folder holding the project's resources and one folder of blocks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def defs_sandbox(folder: str) -> Iterator[tuple[Any, Path]]:
    """(Dagster's defs-folder sandbox, the empty folder ``folder`` in it for a defs.yaml)."""
    from dagster.components.testing import create_defs_folder_sandbox

    with create_defs_folder_sandbox() as sandbox:
        (sandbox.defs_folder_path / "resources.py").write_text(
            "from dagster_project.defs.resources import resources  # noqa: F401\n"
        )
        path = sandbox.defs_folder_path / folder
        path.mkdir()
        yield sandbox, path
