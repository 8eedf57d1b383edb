"""The bench's scale world (bench/world.py) at a toy size: what it writes is what the product
lands, a real sync's bookkeeping included, and a stock change lands as new versions.

The full check, that every model, test and gate passes on it, is the smoke run of the
rebuild measurement (tests/test_bench.py)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from bench.context import PRESETS, BenchContext
from bench.world import build_world
from bench.world_templates import load as load_templates
from dagster_project.ingest.registry import declared_systems

#: raw table of the scale world -> the template its payloads are built from
SHAPES = {
    "tryton__items": "tryton.items.goods",
    "tryton__stock": "tryton.stock",
    "tryton__price_list_lines": "tryton.price_list_lines",
    "tryton__sales": "tryton.sales",
    "wms_dc_03__stock": "wms.stock",
    "wms_dc_east__releases": "wms.releases",
    "shopify_b2b__products": "shopify_b2b.products",
    "shopify_d2c__inventory_levels": "shopify_d2c.inventory_levels",
    "shopify_d2c__orders": "shopify_d2c.orders",
}

STOCK_VERSIONS = """select (select count(*) from raw.wms_dc_east__stock)
                         + (select count(*) from raw.wms_dc_west__stock)
                         + (select count(*) from raw.wms_dc_03__stock)"""


def test_scale_world_lands_every_declared_stream_in_the_landed_shapes(pg_cluster, tmp_path):
    ctx = BenchContext(
        scale=PRESETS["smoke"], state_dir=tmp_path, progress=lambda _m: None, cluster=pg_cluster
    )
    with ctx.fresh_hub("world") as hub:
        world = build_world(ctx, hub, skus=120, locations=4, channels=2, seed=3)
        systems = declared_systems(world.defs_dir)
        # 4 locations: the declared three and one WMS block added to the copy; 2 channels
        assert "wms_dc_03" in systems and "shopify_marketplace" not in systems
        declared = {(name, s.name) for name, (_, streams) in systems.items() for s in streams}
        templates = load_templates()
        with psycopg.connect(hub) as conn:
            batches = set(
                conn.execute(
                    "select system, stream from ops.ingest_batches where status = 'succeeded'"
                ).fetchall()
            )
            assert declared <= batches, sorted(declared - batches)
            for table, template in SHAPES.items():
                keys = conn.execute(
                    sql.SQL(
                        "select distinct jsonb_object_keys(payload) from {} "
                        "where not payload ? '_deleted'"
                    ).format(sql.Identifier("raw", table))
                ).fetchall()
                assert {k for (k,) in keys} == set(templates[template]), table
            assert not conn.execute("select count(*) from ops.quarantine").fetchone()[0]
            before = conn.execute(STOCK_VERSIONS).fetchone()[0]

        changed = world.change_stock(hub, share=0.1, seed=5)
        assert changed
        with psycopg.connect(hub) as conn:
            # one new version per changed SKU (one of the DCs holding it)
            assert conn.execute(STOCK_VERSIONS).fetchone()[0] == before + len(changed)
        world.remove()
        assert not world.folder.exists()
