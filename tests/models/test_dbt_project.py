"""The dbt project: generated sources up to date, dbt assets in the definitions with
one lineage from raw (ingest) to staging, and dbt's connection from the hub URL."""

from __future__ import annotations

import textwrap

import dagster as dg
import pytest
import yaml

from dagster_project.definitions import defs
from dagster_project.ingest.registry import declared_systems
from dagster_project.transform.dbt_env import dbt_env, dbt_env_from_url
from dagster_project.transform.project import DBT_PROJECT_DIR, manifest_is_stale
from dagster_project.transform.sources import SOURCES_DIR, generated_files, stale_files


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_generated_sources_are_up_to_date() -> None:
    stale = [str(p.relative_to(DBT_PROJECT_DIR.parent)) for p in stale_files()]
    assert not stale, (
        f"{stale} differ from dagster_project/defs/**/defs.yaml; regenerate them with "
        "`python -m dagster_project.transform.sources` and commit the result"
    )


def test_one_source_file_per_system_with_ingest_asset_keys() -> None:
    systems = declared_systems()
    assert {p.stem for p in SOURCES_DIR.glob("*.yml")} == set(systems)
    doc = yaml.safe_load((SOURCES_DIR / "shopify_d2c.yml").read_text())
    (source,) = doc["sources"]
    assert source["name"] == "shopify_d2c" and source["schema"] == "raw"
    assert source["config"]["loaded_at_field"] == "_loaded_at"
    orders = next(t for t in source["tables"] if t["name"] == "shopify_d2c__orders")
    # each stream's freshness is its SLA from defs.yaml (hub/slas.py): dbt errors after
    # it and warns at half of it
    assert orders["config"]["freshness"]["error_after"] == {"count": 60, "period": "minute"}
    assert orders["config"]["freshness"]["warn_after"] == {"count": 30, "period": "minute"}
    assert orders["config"]["meta"]["dagster"]["asset_key"] == ["raw", "shopify_d2c__orders"]
    assert orders["config"]["meta"]["kind"] == "shopify"


def test_a_new_store_reaches_the_generated_systems_macro(tmp_path) -> None:
    (tmp_path / "stores").mkdir()
    (tmp_path / "stores" / "defs.yaml").write_text(
        textwrap.dedent("""\
            type: dagster_project.components.system.SystemComponent
            attributes:
              system: shopify_wholesale
              kind: shopify
              streams:
                - {name: orders, primary_key: [id]}
        """)
    )
    files = generated_files(tmp_path)
    macro = next(text for path, text in files.items() if path.suffix == ".sql")
    assert '"shopify": ["shopify_wholesale"]' in macro
    assert SOURCES_DIR / "shopify_wholesale.yml" in files


def test_dbt_env_from_the_hub_url() -> None:
    url = "postgresql://distrohub:p%40ss%3Aw%2Frd@db.example.com:6543/hub_prod"
    assert dbt_env_from_url(url) == {
        "DISTROHUB_DBT_HOST": "db.example.com",
        "DISTROHUB_DBT_PORT": "6543",
        "DISTROHUB_DBT_USER": "distrohub",
        "DISTROHUB_DBT_PASSWORD": "p@ss:w/rd",
        "DISTROHUB_DBT_DBNAME": "hub_prod",
    }
    env = dbt_env({"DISTROHUB_DATABASE_URL": url, "PATH": "/bin"})
    assert env["PATH"] == "/bin" and env["DISTROHUB_DBT_DBNAME"] == "hub_prod"


def test_dbt_models_are_assets_downstream_of_the_raw_streams(definitions) -> None:
    keys = {k.to_user_string() for k in definitions.resolve_all_asset_keys()}
    assert not manifest_is_stale()
    staging = {k for k in keys if k.startswith("staging/")}
    assert {"staging/stg_shopify__orders", "staging/stg_wms__stock"} <= staging
    dbt_def = definitions.resolve_assets_def(dg.AssetKey(["staging", "stg_shopify__orders"]))
    specs = {s.key: s for s in dbt_def.specs}
    orders = specs[dg.AssetKey(["staging", "stg_shopify__orders"])]
    assert orders.group_name == "staging"
    assert {d.asset_key.to_user_string() for d in orders.deps} == {
        f"raw/{s}__orders" for s in ("shopify_b2b", "shopify_d2c", "shopify_marketplace")
    }
    # every source resolves to an ingest asset or a declared ops table: no dangling source keys
    upstream = {d.asset_key.to_user_string() for s in specs.values() for d in s.deps}
    ingest = {k for k in keys if k.startswith(("raw/", "ops/"))}
    models = {k.to_user_string() for k in specs}
    assert upstream - models <= ingest
    # core reads staging (and other core models), never raw
    order = specs[dg.AssetKey(["core", "order"])]
    assert order.group_name == "core"
    assert {d.asset_key.to_user_string() for d in order.deps} == {
        "staging/stg_shopify__orders",
        "staging/stg_tryton__sales",
        "core/customer",
    }
    core_deps = {
        d.asset_key.path[0] for s in specs.values() if s.key.path[0] == "core" for d in s.deps
    }
    assert core_deps == {"staging", "core"}
    # dbt tests are asset checks
    checks = {c.key.name for c in dbt_def.check_specs if c.asset_key == orders.key}
    assert any(name.startswith("unique_combination_of_columns") for name in checks)
    definitions.resolve_implicit_global_asset_job_def()
