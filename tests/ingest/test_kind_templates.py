"""A system block is only what differs from its kind: the merge rules of defs/kinds/<kind>.yaml
(dagster_project/ingest/declarations.py), and the errors a wrong block gets. No database."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import get_args

import pytest

from dagster_project.connectors.base import Kind
from dagster_project.connectors.tryton import STOCK_STREAM, TrytonStream
from dagster_project.ingest.declarations import (
    KINDS_DIR,
    DeclarationError,
    kind_template,
    resolve_block,
    system_declarations,
)
from dagster_project.ingest.matching import shipment_matching
from dagster_project.ingest.registry import declared_systems
from tests.ingest.defs_sandbox import defs_sandbox

#: a new warehouse, as an operator adds one
WAREHOUSE = """\
type: dagster_project.components.system.SystemComponent
attributes:
  system: wms_dc_north
  webhook_path: wms/dc-north
  kind: wms_rest
  description: The WMS of DC-NORTH.
  url_env: DISTROHUB_WMS_DC_NORTH_URL
  credentials:
    token: DISTROHUB_WMS_DC_NORTH_TOKEN
    webhook_secret: DISTROHUB_WMS_DC_NORTH_WEBHOOK_SECRET
  settings:
    location: DC-NORTH
    shipping_zone: EAST
    service_levels: [GROUND, LTL]
  pool: wms_dc_north
"""


def _write(folder: Path, text: str) -> Path:
    (folder / "systems").mkdir(parents=True, exist_ok=True)
    path = folder / "systems" / "defs.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def _block(**changes: object) -> dict:
    attributes = {"system": "wms_dc_north", "kind": "wms_rest", "pool": "wms_dc_north"}
    attributes.update(changes)
    return attributes


def test_every_kind_has_a_template_that_dagster_does_not_load() -> None:
    assert sorted(p.stem for p in KINDS_DIR.glob("*.yaml")) == sorted(get_args(Kind))
    for kind in get_args(Kind):
        # a mail relay is only written to (publish): the one kind with no streams
        assert kind_template(kind, "test")["streams"] or kind == "smtp", kind
    # data files only: load_from_defs_folder loads a defs.yaml or Python, neither is there
    assert not list(KINDS_DIR.glob("defs.yaml")) and not list(KINDS_DIR.glob("*.py"))


def test_a_new_warehouse_is_fifteen_lines_with_every_stream_of_its_kind(tmp_path) -> None:
    assert len(WAREHOUSE.splitlines()) == 15
    _write(tmp_path, WAREHOUSE)
    (config, streams), *_ = declared_systems(tmp_path).values()
    east_config, east_streams = declared_systems()["wms_dc_east"]
    assert [s.model_dump() for s in streams] == [s.model_dump() for s in east_streams]
    assert config.settings == {
        "stock_feed_sla_minutes": 120,  # the kind's defaults ...
        "stale_stock": "hold",
        "location": "DC-NORTH",  # ... and the block's own settings
        "shipping_zone": "EAST",
        "service_levels": ["GROUND", "LTL"],
    }
    assert config.credentials["token"] == "DISTROHUB_WMS_DC_NORTH_TOKEN"
    assert config.inbound_path == "wms/dc-north"


def test_the_repository_blocks_resolve_to_their_kind_streams() -> None:
    systems = system_declarations()
    template = kind_template("shopify", "test")
    for name in ("shopify_b2b", "shopify_d2c", "shopify_marketplace"):
        assert [s.name for s in systems[name].streams] == [s["name"] for s in template["streams"]]
        assert systems[name].settings["api_version"] == "2025-07"  # the kind's setting
    assert systems["wms_dc_west"].settings["location"] == "DC-WEST"
    assert systems["tpl_midway"].settings["stale_stock"] == "zero"
    assert systems["tryton"].freshness_minutes == 1560


def test_a_stream_override_changes_only_the_fields_it_names() -> None:
    block = _block(
        streams=[{"name": "stock", "schedule": "*/5 * * * *", "params": {"zone": "A"}}],
        settings={"location": "DC-NORTH", "stale_stock": "zero"},
        request_budget=500,
    )
    declaration = resolve_block(block, "defs.yaml")
    stock = next(s for s in declaration.streams if s.name == "stock")
    assert stock.schedule == "*/5 * * * *"
    assert stock.params == {"zone": "A"}  # a field given replaces the template's whole
    assert stock.primary_key == ["sku", "status", "bin"]  # the rest is the template's
    assert stock.refresh_by_key is not None and stock.refresh_by_key.param == "sku"
    # settings merge key by key: the block's stale_stock wins, the template's SLA stays
    assert declaration.settings == {
        "stock_feed_sla_minutes": 120,
        "stale_stock": "zero",
        "location": "DC-NORTH",
    }
    assert declaration.request_budget == 500
    # the order of the streams is the template's
    assert [s.name for s in declaration.streams][:2] == ["stock", "allocations"]


def test_streams_are_dropped_and_added() -> None:
    block = _block(
        disabled_streams=["returns", "events"],
        extra_streams=[{"name": "cycle_counts", "path": "v1/cycle-counts", "primary_key": ["id"]}],
    )
    names = [s.name for s in resolve_block(block, "defs.yaml").streams]
    assert "returns" not in names and "events" not in names
    assert names[-1] == "cycle_counts" and len(names) == 9 - 2 + 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "wms_soap"}, ["kind 'wms_soap' is unknown", "allowed: carrier_webhook"]),
        ({"colour": "blue"}, ["unknown field 'colour'", "allowed: system, kind"]),
        (
            {"streams": [{"name": "stocks", "schedule": "0 * * * *"}]},
            ["streams overrides 'stocks', not a stream of kind wms_rest", "allowed: stock,"],
        ),
        (
            {"streams": [{"name": "stock", "scheduel": "0 * * * *"}]},
            ["streams stock: unknown field 'scheduel'", "allowed: name,"],
        ),
        (
            {"disabled_streams": ["stok"]},
            ["disabled_streams names 'stok', not a stream of kind wms_rest", "allowed: stock"],
        ),
        (
            {"extra_streams": [{"name": "picks", "primary_key": ["id"]}]},
            ["extra_streams adds 'picks', which kind wms_rest already has"],
        ),
        (
            {"streams": [{"name": "stock", "page_size": 0}]},
            ["streams[stock]", "page_size must be 1 to 10,000"],
        ),
        (
            {"extra_streams": [{"name": "cycle_counts"}]},
            ["streams[cycle_counts].primary_key: Field required"],
        ),
    ],
)
def test_a_wrong_block_says_where_and_what_is_allowed(changes, expected) -> None:
    with pytest.raises(DeclarationError) as info:
        resolve_block(_block(**changes), "defs/systems/warehouses/defs.yaml")
    message = str(info.value)
    assert message.startswith("defs/systems/warehouses/defs.yaml: system wms_dc_north")
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("^HIST-(.+$", "is not a valid regular expression: missing ), unterminated subpattern"),
        ("^HIST-.+$", "has 0 capturing groups: it needs exactly one, the order key"),
        ("^(HIST)-(.+)$", "has 2 capturing groups"),
        ("^HIST-(?P<order_key>.+)$", "uses a named group, which PostgreSQL regular expressions"),
    ],
)
def test_a_bad_shipment_matching_pattern_is_a_load_error_naming_system_and_pattern(
    pattern, why
) -> None:
    matching = {"order_reference": ["^DC-(.+)$", pattern]}
    with pytest.raises(DeclarationError) as info:
        resolve_block(
            _block(settings={"location": "DC-NORTH", "shipment_matching": matching}),
            "defs/systems/warehouses/defs.yaml",
        )
    message = str(info.value)
    assert message.startswith("defs/systems/warehouses/defs.yaml: system wms_dc_north"), message
    assert f"settings.shipment_matching.order_reference[1]: pattern {pattern!r}" in message
    assert why in message, message


def test_shipment_matching_rules_reach_dbt_in_order() -> None:
    resolved = resolve_block(
        _block(settings={"shipment_matching": {"order_reference": ["^A-(.+)$", "^(?:B|C)-(.+)$"]}}),
        "defs.yaml",
    )
    assert shipment_matching(resolved.settings).order_reference == ["^A-(.+)$", "^(?:B|C)-(.+)$"]
    with pytest.raises(DeclarationError, match=r"shipment_matching\.patterns: Extra inputs"):
        resolve_block(_block(settings={"shipment_matching": {"patterns": []}}), "defs.yaml")


def test_a_wrong_template_names_its_file(tmp_path) -> None:
    (tmp_path / "wms_rest.yaml").write_text("kind: wms_rest\nsystem: x\nstreams: []\n")
    with pytest.raises(DeclarationError, match=r"wms_rest.yaml: kind template wms_rest: unknown"):
        resolve_block(_block(), "defs.yaml", kinds_dir=tmp_path)


def test_the_dagster_component_merges_the_same_way(tmp_path) -> None:
    with defs_sandbox("warehouses") as (sandbox, folder):
        (folder / "defs.yaml").write_text(WAREHOUSE)
        with sandbox.build_all_defs() as defs:
            keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
        (folder / "defs.yaml").write_text(WAREHOUSE.replace("  pool:", "  colour: blue\n  pool:"))
        with pytest.raises(Exception) as info, sandbox.build_all_defs():
            pass
    _write(tmp_path, WAREHOUSE)
    (_, streams), *_ = declared_systems(tmp_path).values()
    assert keys == {f"raw/wms_dc_north__{s.name}" for s in streams}
    text = "".join(str(e) for e in (info.value, info.value.__cause__, info.value.__context__))
    assert "system wms_dc_north: unknown field 'colour'" in text


def test_tryton_streams_declare_what_they_read() -> None:
    _, streams = declared_systems()["tryton"]
    by_name = {s.name: s for s in streams}
    assert by_name[STOCK_STREAM].query is None  # read by code (read_stock)
    items = TrytonStream.from_declaration(by_name["items"])
    assert items.model == "product.product" and "list_price_used" in items.fields
    assert "template.list_prices.write_date" in items.watch
    warehouses = TrytonStream.from_declaration(by_name["warehouses"])
    assert warehouses.domain == (("type", "=", "warehouse"),)
    assert all(s.query for s in streams if s.name != STOCK_STREAM)
