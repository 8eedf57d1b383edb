"""Systems are declared, not coded: a new store or warehouse is one YAML block."""

from __future__ import annotations

import textwrap

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.ingest.registry import declared_systems
from tests.ingest.defs_sandbox import defs_sandbox

STORE = textwrap.dedent("""\
    type: dagster_project.components.system.SystemComponent
    attributes:
      system: {name}
      kind: shopify
      url_env: DISTROHUB_{code}_URL
      credentials: {{token: DISTROHUB_{code}_TOKEN, webhook_secret: DISTROHUB_{code}_SECRET}}
      # the kind's streams (defs/kinds/shopify.yaml) but these, one of them hourly
      disabled_streams: [customers, products, inventory_items, locations]
      streams:
        - {{name: inventory_levels, schedule: "0 * * * *"}}
""")


def test_a_second_store_is_one_more_yaml_block() -> None:
    one = STORE.format(name="store_one", code="ONE")
    two = one + "---\n" + STORE.format(name="store_two", code="TWO")
    with defs_sandbox("stores") as (sandbox, folder):
        (folder / "defs.yaml").write_text(one)
        with sandbox.build_all_defs() as first:
            keys_one = {k.to_user_string() for k in first.resolve_all_asset_keys()}
        (folder / "defs.yaml").write_text(two)
        with sandbox.build_all_defs() as second:
            keys_two = {k.to_user_string() for k in second.resolve_all_asset_keys()}
            sensors = {s.name for s in second.sensors}
            schedules = {s.name for s in second.schedules}
            orders = second.resolve_assets_def(dg.AssetKey(["raw", "store_two__orders"]))
    assert keys_one == {"raw/store_one__orders", "raw/store_one__inventory_levels"}
    assert keys_two - keys_one == {"raw/store_two__orders", "raw/store_two__inventory_levels"}
    assert {"store_one_webhooks", "store_two_webhooks"} <= sensors
    assert {"store_two_every_15_minutes", "store_two_hourly"} <= schedules
    spec = next(iter(orders.specs))
    assert spec.group_name == "store_two"
    assert "shopify" in spec.kinds
    assert orders.op.pool == "store_two"


def test_the_project_declarations_match_the_dagster_definitions() -> None:
    if not declared_systems():
        pytest.skip("no systems declared under dagster_project/defs yet")
    declared = {
        f"raw/{name}__{stream.name}"
        for name, (_cfg, streams) in declared_systems().items()
        for stream in streams
    }
    loaded = {k.to_user_string() for k in defs().resolve_all_asset_keys()}
    assert declared and declared <= loaded


def test_no_secret_value_is_resolved_at_load(monkeypatch) -> None:
    monkeypatch.setenv("DISTROHUB_SHOPIFY_B2B_TOKEN", "shpat_should_not_appear_anywhere")
    definitions = defs()
    for assets_def in definitions.assets or []:
        for spec in getattr(assets_def, "specs", []):
            assert "shpat_should_not_appear_anywhere" not in repr(spec.metadata)
            assert "shpat_should_not_appear_anywhere" not in (spec.description or "")
