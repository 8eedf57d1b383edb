"""Dagster definitions load and run on dagster-postgres storage."""

from __future__ import annotations

import os

import dagster as dg
import psycopg

from dagster_project.definitions import defs
from dagster_project.hub.dagster_home import ensure_dagster_home


def test_definitions_load() -> None:
    definitions = defs()
    keys = {k.to_user_string() for k in definitions.resolve_all_asset_keys()}
    assert "hub_schema" in keys
    definitions.resolve_implicit_global_asset_job_def()  # the whole graph resolves


def test_an_asset_materializes_into_postgres_storage(pg_cluster, state_dir) -> None:
    home = ensure_dagster_home()
    assert os.environ["DAGSTER_HOME"] == str(home)
    assert "password" not in (home / "dagster.yaml").read_text().lower()
    job = defs().resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = job.execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("hub_schema")]
        )
        assert result.success
        record = instance.get_latest_materialization_event(dg.AssetKey("hub_schema"))
        assert record is not None
        assert record.asset_materialization.metadata["schema_version"].value >= "0002"
    with psycopg.connect(pg_cluster.dagster_url) as conn:
        runs = conn.execute("select count(*) from runs where status = 'SUCCESS'").fetchone()[0]
    assert runs >= 1
