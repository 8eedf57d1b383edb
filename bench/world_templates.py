"""The payload shapes of the scale world: real landed payloads, captured once.

:mod:`bench.world` writes the raw layer directly (seeding 100,000 products into Tryton takes
hours), so its payloads must have exactly the shapes the product's connectors land. They are
taken from a hub that landed the sandbox world through the real connectors (Tryton 8.2 over
JSON-RPC, the sandbox's Shopify Admin REST and WMS APIs): one payload per stream (and per
variant of a stream where shapes differ, e.g. a kit item or a shipping sale line), the first
element of each nested array a payload repeats (order line items, product variants, customer
addresses), and Tryton's reference records whole (units, payment terms). The scale world keeps
every key of a template and overrides the values it generates.

``bench/world_templates.json`` is committed; after a connector changes what it lands, capture
again from a hub that ran ``distrohub demo`` (clean world)::

    python -m bench.world_templates postgresql://USER:PASSWORD@HOST:PORT/hub

Drop-folder streams (planning CSVs, the 3PL's snapshot and 945s, the suppliers' X12) need no
template: the scale world writes files and lands them with the product's own folder sync.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

PATH = Path(__file__).with_name("world_templates.json")

#: template name -> (raw table, filter on the payload, nested array taken as its first element)
SINGLE: dict[str, tuple[str, str, str | None]] = {
    "tryton.items.goods": ("tryton__items", "payload->>'type' = 'goods'", None),
    "tryton.items.kit": ("tryton__items", "payload->>'code' like 'KIT-%'", None),
    "tryton.price_lists": ("tryton__price_lists", "true", None),
    "tryton.price_list_lines": (
        "tryton__price_list_lines",
        "payload->>'product' is not null",
        None,
    ),
    "tryton.price_list_lines.default": (
        "tryton__price_list_lines",
        "payload->>'product' is null",
        None,
    ),
    "tryton.party_categories": ("tryton__party_categories", "payload->>'parent' is not null", None),
    "tryton.party_categories.root": (
        "tryton__party_categories",
        "payload->>'parent' is null",
        None,
    ),
    "tryton.parties.customer": ("tryton__parties", "payload->>'code' like 'B2B-%'", None),
    "tryton.parties.company": ("tryton__parties", "payload->>'code' = '1'", None),
    "tryton.parties.supplier": ("tryton__parties", "payload->>'code' = 'ACME'", None),
    "tryton.addresses": ("tryton__addresses", "payload->>'city' is not null", None),
    "tryton.warehouses": ("tryton__warehouses", "true", None),
    "tryton.stock": ("tryton__stock", "true", None),
    "tryton.sales": ("tryton__sales", "true", None),
    "tryton.sale_lines": ("tryton__sale_lines", "payload->>'product' is not null", None),
    "tryton.sale_lines.charges": ("tryton__sale_lines", "payload->>'product' is null", None),
    "tryton.purchases": ("tryton__purchases", "true", None),
    "tryton.purchase_lines": ("tryton__purchase_lines", "true", None),
    "tryton.invoices": ("tryton__invoices", "true", None),
    "tryton.invoice_lines": ("tryton__invoice_lines", "true", None),
    "wms.stock": ("wms_dc_east__stock", "true", None),
    "wms.allocations": ("wms_dc_east__allocations", "true", None),
    "wms.picks": ("wms_dc_east__picks", "true", None),
    "wms.picks.line": ("wms_dc_east__picks", "true", "lines"),
    "wms.releases": ("wms_dc_east__releases", "true", None),
    "wms.releases.line": ("wms_dc_east__releases", "true", "lines"),
    "wms.shipments": ("wms_dc_east__shipments", "true", None),
    "wms.shipments.line": ("wms_dc_east__shipments", "true", "lines"),
    "wms.receipts": ("wms_dc_east__receipts", "true", None),
    "wms.events.stock_adjusted": (
        "wms_dc_east__events",
        "payload->>'type' = 'stock.adjusted'",
        None,
    ),
    "wms.events.shipment_confirmed": (
        "wms_dc_east__events",
        "payload->>'type' = 'shipment.confirmed'",
        None,
    ),
    "wms.events.pick_completed": (
        "wms_dc_east__events",
        "payload->>'type' = 'pick.completed'",
        None,
    ),
}

#: per storefront (its shop's time zone, currency and ids differ): template name -> (stream, ...)
PER_STORE: dict[str, tuple[str, str, str | None]] = {
    "products": ("products", "true", None),
    "products.variant": ("products", "true", "variants"),
    "inventory_items": ("inventory_items", "true", None),
    "inventory_levels": ("inventory_levels", "true", None),
    "locations": ("locations", "true", None),
    "customers": ("customers", "true", None),
    "customers.address": ("customers", "true", "addresses"),
    "orders": ("orders", "jsonb_array_length(payload->'line_items') > 0", None),
    "orders.line_item": ("orders", "jsonb_array_length(payload->'line_items') > 0", "line_items"),
}
STORES = ("shopify_b2b", "shopify_d2c", "shopify_marketplace")

#: whole reference sets (Tryton's own records and the seeded terms)
WHOLE: dict[str, str] = {
    "tryton.units": "tryton__units",
    "tryton.payment_terms": "tryton__payment_terms",
    "tryton.payment_term_deltas": "tryton__payment_term_deltas",
}


def _one(conn: psycopg.Connection, table: str, where: str, nested: str | None) -> Any:
    query = sql.SQL(
        "select payload from {} where {} and not payload ? '_deleted' order by _seq desc limit 1"
    ).format(sql.Identifier("raw", table), sql.SQL(where))
    row = conn.execute(query).fetchone()
    if row is None:
        raise LookupError(
            f"raw.{table} has no payload where {where}: capture from a hub that landed the "
            "clean sandbox world (`distrohub demo`)"
        )
    payload = row[0]
    if nested is not None:
        return payload[nested][0]
    return payload


def capture(hub_url: str) -> dict[str, Any]:
    """Every template from the hub at ``hub_url`` (a landed sandbox world)."""
    out: dict[str, Any] = {}
    with psycopg.connect(hub_url) as conn:
        for name, (table, where, nested) in SINGLE.items():
            out[name] = _one(conn, table, where, nested)
        for store in STORES:
            for name, (stream, where, nested) in PER_STORE.items():
                out[f"{store}.{name}"] = _one(conn, f"{store}__{stream}", where, nested)
        for name, table in WHOLE.items():
            rows = conn.execute(
                sql.SQL("select payload from {} order by (payload->>'id')::bigint").format(
                    sql.Identifier("raw", table)
                )
            ).fetchall()
            out[name] = [r[0] for r in rows]
    return out


def load() -> dict[str, Any]:
    return json.loads(PATH.read_text())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.world_templates HUB_URL")
    PATH.write_text(json.dumps(capture(sys.argv[1]), indent=1, sort_keys=True) + "\n")
    print(f"wrote {PATH}")
