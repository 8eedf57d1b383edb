"""The dbt project as Dagster sees it, and a manifest that is never stale.

``dbt_project/target/`` is git-ignored, so a fresh clone has no manifest;
:func:`ensure_manifest` runs ``dbt parse`` (the venv's dbt, the connection from
:mod:`~dagster_project.transform.dbt_env`) when ``target/manifest.json`` is
missing or older than any model, macro, test or project file. A file lock keeps
two processes loading the definitions at once from parsing over each other.
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.transform.dbt_env import DBT_EXECUTABLE, dbt_env

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
WATCHED = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_input(project_dir: Path) -> float:
    newest = 0.0
    for name in WATCHED:
        path = project_dir / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def manifest_is_stale(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    manifest = project_dir / "target" / "manifest.json"
    return not manifest.exists() or manifest.stat().st_mtime < _newest_input(project_dir)


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """``target/manifest.json``, parsed again first when it is missing or stale."""
    manifest = project_dir / "target" / "manifest.json"
    if not manifest_is_stale(project_dir):
        return manifest
    (project_dir / "target").mkdir(exist_ok=True)
    with open(project_dir / "target" / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale(project_dir):
            done = subprocess.run(
                [
                    str(DBT_EXECUTABLE),
                    "parse",
                    "--quiet",
                    "--project-dir",
                    str(project_dir),
                    "--profiles-dir",
                    str(project_dir),
                ],
                env=dbt_env(),
                cwd=project_dir,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"dbt parse failed in {project_dir} (exit {done.returncode}); fix the dbt "
                    f"project and reload:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
                )
    return manifest


def upstream_streams(model: str, project_dir: Path = DBT_PROJECT_DIR) -> list[tuple[str, str]]:
    """The (system, stream) raw sources a model reads, directly or through other models."""
    import json

    return streams_in_manifest(json.loads(ensure_manifest(project_dir).read_text()), model)


def streams_in_manifest(manifest: dict, model: str) -> list[tuple[str, str]]:
    """The (system, stream) raw sources ``model`` reads, per a parsed dbt ``manifest``."""
    parents = manifest["parent_map"]
    start = next(
        (
            uid
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and node["name"] == model
        ),
        None,
    )
    if start is None:
        raise KeyError(f"dbt has no model {model!r}")
    seen: set[str] = set()
    todo = [start]
    streams: set[tuple[str, str]] = set()
    while todo:
        uid = todo.pop()
        for parent in parents.get(uid, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                node = manifest["sources"][parent]
                if node.get("schema") == "raw" and "__" in node["name"]:
                    system, stream = node["name"].split("__", 1)
                    streams.add((system, stream))
            else:
                todo.append(parent)
    return sorted(streams)


def outbound_sla_minutes(project_dir: Path = DBT_PROJECT_DIR) -> int:
    """The delivery SLA: ``ops_outbound_sla_minutes`` in dbt_project.yml's vars (default 60)."""
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return int((project.get("vars") or {}).get("ops_outbound_sla_minutes") or 60)
