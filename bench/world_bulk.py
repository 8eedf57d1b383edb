"""The scale world's big streams, generated in SQL: one statement per stream writes
``raw.<system>__<stream>`` the way :class:`~dagster_project.ingest.landing.Landing` does.

Per SKU (× location × channel) streams never pass through Python: the catalog is copied once
into temporary tables (``w_item``, ``w_listing``, ``w_loc``, ``w_store``), and each stream is an
``insert … select`` over them that builds every payload from its landed template
(:mod:`bench.world_templates`) with the generated values put in, so the shapes are the
connectors' own. Row-level variety (which bins hold a SKU, how many units, store levels) comes
from ``pg_temp.w_rnd(salt, n, k)``, a seeded hash of the row: the same seed gives the same rows.

Landing conventions kept: the table from ``Landing.ensure_table`` (text key columns, ``_seq``
identity), ``_payload_hash`` = md5 of the payload without the stream's volatile fields,
``_batch_id`` of an ``ops.ingest_batches`` row (started, then finished ``succeeded`` with the
counts), ``_source`` as the connector names it, and the stream's cursor in ``ops.sync_cursors``
(``{"field": …, "value": max}``) as a sync leaves it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from bench.world_plan import Plan, cad_cents
from dagster_project.connectors.base import StreamConfig
from dagster_project.ingest.landing import Landing, LoadCounts

Progress = Callable[[str], None]

FUNCTIONS = """
create or replace function pg_temp.w_rnd(salt text, n bigint, k integer default 0)
returns float8 language sql immutable as $$
    select ('x' || substr(md5({seed} || ':' || salt || ':' || n || ':' || k), 1, 8))::bit(32)
           ::bigint / 4294967296.0
$$;
create or replace function pg_temp.w_tryton_ts(ts timestamptz) returns text
language sql immutable as $$
    select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
$$;
create or replace function pg_temp.w_shop_ts(ts timestamptz, off interval) returns text
language sql immutable as $$
    select to_char(ts at time zone off, 'YYYY-MM-DD"T"HH24:MI:SS')
           || case when off < interval '0' then '-' else '+' end
           || to_char(abs(extract(hour from off)), 'FM00') || ':'
           || to_char(abs(extract(minute from off)), 'FM00')
$$;
create or replace function pg_temp.w_z(ts timestamptz) returns text
language sql immutable as $$
    select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
create or replace function pg_temp.w_money(cents bigint) returns text
language sql immutable as $$
    select to_char(cents / 100.0, 'FM999999999990.00')
$$;
"""

CATALOG = """
create temp table w_item (
    n bigint primary key, sku text not null, name text not null, vendor text not null,
    category text not null, kind text not null, list_cents bigint not null,
    list_cad_cents bigint not null, wholesale_cents bigint not null,
    wholesale_cad_cents bigint not null, key_cents bigint, key_break_cents bigint,
    key_break_qty integer, cost_cents bigint not null, case_pack integer not null,
    grams integer not null
) on commit preserve rows;
create temp table w_listing (
    store integer not null, n bigint not null, price_cents bigint not null,
    title text not null, primary key (store, n)
) on commit preserve rows;
create temp table w_loc (
    k integer primary key, code text not null, system text not null, kind text not null,
    name text not null, warehouse_id bigint not null
) on commit preserve rows;
create temp table w_store (
    number integer primary key, system text not null, code text not null, off interval not null
) on commit preserve rows;
create temp table w_price_line (
    list integer not null, n bigint, cents bigint, qty integer
) on commit preserve rows;
"""

#: shopify id spaces: <kind><store:02d><n:015d>, as the sandbox numbers them
PRODUCT, VARIANT, INVENTORY_ITEM, LOCATION, CUSTOMER, ORDER, LINE_ITEM = 11, 12, 13, 14, 15, 16, 17
ADDRESS, OPTION, SHIPPING_LINE = 21, 26, 27


def shop_id(kind: int, store: int, n: int) -> int:
    return kind * 10**17 + store * 10**15 + n


def warehouse_id(k: int) -> int:
    """The ERP warehouse id of the k-th location (1-based)."""
    return 4 * k + 1


def load_catalog(conn: psycopg.Connection, plan: Plan) -> None:
    """The temporary tables every bulk statement reads (this session only)."""
    conn.execute(sql.SQL(FUNCTIONS.replace("{seed}", "{}")).format(sql.Literal(str(plan.seed))))
    conn.execute(CATALOG)
    with conn.cursor().copy(
        "copy w_item (n, sku, name, vendor, category, kind, list_cents, list_cad_cents, "
        "wholesale_cents, wholesale_cad_cents, key_cents, key_break_cents, key_break_qty, "
        "cost_cents, case_pack, grams) from stdin"
    ) as copy:
        for it in plan.items:
            ws = it.wholesale_cents
            key = max(it.cost_cents + 1, ws * 95 // 100) if it.has_key_account_price else None
            brk = max(it.cost_cents + 1, ws * 90 // 100) if it.has_key_account_price else None
            copy.write_row(
                (
                    it.n,
                    it.sku,
                    it.name,
                    it.vendor,
                    it.category,
                    it.kind,
                    it.list_cents,
                    cad_cents(it.list_cents),
                    ws,
                    int(ws * 1.37),
                    key,
                    brk,
                    10 * it.case_pack if key else None,
                    it.cost_cents,
                    it.case_pack,
                    it.grams,
                )
            )
    with conn.cursor().copy("copy w_listing (store, n, price_cents, title) from stdin") as copy:
        for idx, store in enumerate(plan.stores):
            for it in plan.items:
                if it.listed[idx]:
                    case = store.selling_unit == "CS" and it.case_pack > 1
                    title = f"Case of {it.case_pack}" if case else "Default Title"
                    copy.write_row((store.number, it.n, it.store_price_cents(store), title))
    with conn.cursor().copy(
        "copy w_loc (k, code, system, kind, name, warehouse_id) from stdin"
    ) as copy:
        for k, loc in enumerate(plan.locations, start=1):
            copy.write_row((k, loc.code, loc.system, loc.kind, loc.name, warehouse_id(k)))
    with conn.cursor().copy("copy w_store (number, system, code, off) from stdin") as copy:
        for store in plan.stores:
            copy.write_row((store.number, store.system, store.code, store.utc_offset))
    with conn.cursor().copy("copy w_price_line (list, n, cents, qty) from stdin") as copy:
        for list_id, items in contract_lists(plan).items():
            for it, cents, qty in items:
                copy.write_row((list_id, it.n, cents, qty))
    conn.execute("analyze w_item; analyze w_listing")


def contract_lists(plan: Plan) -> dict[int, list]:
    """The ERP's [CONTRACT <customer>] price lists (ids from 6): the contract prices valid at
    the epoch (Tryton 8.2 price list lines have no validity dates), per customer."""
    lists: dict[str, list] = {}
    for customer, item, min_q, cents, start, end in plan.contracts:
        if start <= plan.epoch and (end is None or plan.epoch < end):
            lists.setdefault(customer.code, []).append((item, cents, min_q))
    return {6 + i: lines for i, (_, lines) in enumerate(sorted(lists.items()))}


def contract_list_ids(plan: Plan) -> dict[str, int]:
    codes = sorted(
        {
            c.code
            for c, _, _, _, s, e in plan.contracts
            if s <= plan.epoch and (e is None or plan.epoch < e)
        }
    )
    return {code: 6 + i for i, code in enumerate(codes)}


class BulkWriter:
    """Writes one stream from an ``insert … select`` with the landing's conventions."""

    def __init__(self, conn: psycopg.Connection, progress: Progress) -> None:
        self.conn = conn
        self.progress = progress
        self.counts: dict[str, int] = {}

    def write(
        self,
        system: str,
        stream: StreamConfig,
        select: sql.Composable,
        params: dict[str, Any],
        source: str,
    ) -> int:
        """``select`` yields the key columns (text, in key order) and ``payload``."""
        landing = Landing(
            self.conn,
            system,
            stream.name,
            stream.key_columns,
            volatile_fields=tuple(stream.volatile_fields),
            snapshot=stream.snapshot,
        )
        landing.ensure_table()
        landing.start_batch(None)
        keys = sql.SQL(", ").join(sql.Identifier(k) for k in stream.key_columns)
        statement = sql.SQL(
            """insert into {table} ({keys}, payload, _payload_hash, _batch_id, _source)
               select {keys}, payload, md5((payload - %(w_volatile)s::text[])::text),
                      %(w_batch)s, %(w_source)s
                 from ({select}) as generated"""
        ).format(table=landing.table, keys=keys, select=select)
        with self.conn.transaction():
            rows = self.conn.execute(
                statement,
                {
                    **params,
                    "w_volatile": list(stream.volatile_fields),
                    "w_batch": landing.batch_id,
                    "w_source": source,
                },
            ).rowcount
            cursor = None
            if stream.cursor_field:
                newest = self.conn.execute(
                    sql.SQL("select max(payload->>{}) from {} where _batch_id = %s").format(
                        sql.Literal(stream.cursor_field), landing.table
                    ),
                    (landing.batch_id,),
                ).fetchone()[0]
                if newest is not None:
                    cursor = {"field": stream.cursor_field, "value": newest}
                    self.conn.execute(
                        """insert into ops.sync_cursors (system, stream, cursor, updated_at)
                           values (%s, %s, %s, now())
                           on conflict (system, stream)
                           do update set cursor = excluded.cursor, updated_at = now()""",
                        (system, stream.name, Jsonb(cursor)),
                    )
        landing.finish_batch(LoadCounts(read=rows, inserted=rows), cursor, None)
        self.counts[f"{system}__{stream.name}"] = rows
        self.progress(f"raw.{system}__{stream.name}: {rows:,} rows")
        return rows


# --------------------------------------------------------------------------- tryton
ITEMS = """
select i.n::text as id,
       (case when i.kind = 'kit' then %(kit)s::jsonb else %(goods)s::jsonb end)
       || jsonb_build_object(
           'id', i.n, 'code', i.sku, 'name', i.name,
           'type', case when i.kind = 'kit' then 'service' else 'goods' end,
           'active', true, 'salable', true, 'purchasable', true, 'template', i.n,
           'template.', jsonb_build_object('id', i.n, 'name', i.name, 'write_date', null,
                                           'create_date', pg_temp.w_tryton_ts(%(created)s)),
           'cost_price', round(i.cost_cents / 100.0, 2), 'list_price', null,
           'list_price_used', round(i.list_cents / 100.0, 2),
           'write_date', pg_temp.w_tryton_ts(%(created)s),
           'create_date', pg_temp.w_tryton_ts(%(created)s)) as payload
  from w_item i
"""

PRICE_LIST_LINES = """
with lines as (
    select 1 as list, n, list_cents as cents, null::integer as qty from w_item
    union all select 2, n, list_cad_cents, null from w_item
    union all select 3, n, wholesale_cents, null from w_item where kind <> 'kit'
    union all select 4, n, wholesale_cad_cents, null from w_item where kind <> 'kit'
    union all select 5, n, key_cents, null from w_item where key_cents is not null
    union all select 5, n, key_break_cents, key_break_qty from w_item where key_cents is not null
    union all select list, n, cents, case when qty > 1 then qty end from w_price_line
),
numbered as (
    select lines.*, row_number() over (partition by list order by n, qty nulls first) as seq
      from lines
),
with_defaults as (
    select list, n, cents, qty, seq from numbered
    union all
    select list, null, null, null, count(*) + 1 from numbered group by list
)
select (row_number() over (order by d.list, d.seq))::text as id,
       case when d.n is null then %(default)s::jsonb || jsonb_build_object(
                'id', row_number() over (order by d.list, d.seq), 'sequence', d.seq,
                'price_list', d.list, 'create_date', pg_temp.w_tryton_ts(%(created)s))
            else %(line)s::jsonb || jsonb_build_object(
                'id', row_number() over (order by d.list, d.seq),
                'formula', pg_temp.w_money(d.cents), 'product', d.n,
                'product.', jsonb_build_object('id', d.n, 'code', i.sku),
                'quantity', d.qty::numeric(12, 1), 'sequence', d.seq, 'price_list', d.list,
                'write_date', null, 'create_date', pg_temp.w_tryton_ts(%(created)s))
       end as payload
  from with_defaults d
  left join w_item i on i.n = d.n
"""

ERP_STOCK_PART = """
select s.payload->>'sku' as sku, {warehouse}::bigint as warehouse, {code}::text as code,
       sum((s.payload->>{quantity})::numeric) as quantity
  from {table} s
 where not s.payload ? '_deleted'
 group by 1
"""

ERP_STOCK = """
select i.n::text as product, p.warehouse::text as warehouse,
       %(tpl)s::jsonb || jsonb_build_object(
           'unit', 1, 'product', i.n, 'quantity', p.quantity::numeric(14, 1),
           'warehouse', p.warehouse, 'product_code', i.sku, 'warehouse_code', p.code,
           'forecast_quantity', p.quantity::numeric(14, 1)) as payload
  from ({parts}) as p
  join w_item i on i.sku = p.sku
 where p.quantity <> 0
"""

# --------------------------------------------------------------------------- wms
WMS_STOCK = """
with present as (
    select i.n, i.sku from w_item i
     where i.kind = 'stocked' and pg_temp.w_rnd('present', i.n, %(k)s) < %(presence)s::float8
),
rows as (
    select sku, 'sellable' as status,
           chr(65 + (n %% 20)::int) || lpad((1 + (n / 20) %% 40)::text, 2, '0') || '-1' as bin,
           1 + floor(pg_temp.w_rnd('qty', n, %(k)s) * 400)::integer as quantity
      from present
    union all
    select sku, 'damaged', 'DMG-01', 1 + floor(pg_temp.w_rnd('dmg-qty', n, %(k)s) * 6)::integer
      from present where pg_temp.w_rnd('dmg', n, %(k)s) < 0.06
    union all
    select sku, 'qc', 'QC-01', 6 + floor(pg_temp.w_rnd('qc-qty', n, %(k)s) * 55)::integer
      from present where pg_temp.w_rnd('qc', n, %(k)s) < 0.04
)
select sku, status, bin,
       %(tpl)s::jsonb || jsonb_build_object('bin', bin, 'sku', sku, 'unit', 'EA',
                                           'as_of', %(as_of)s::text, 'status', status,
                                           'quantity', quantity) as payload
  from rows
"""

# --------------------------------------------------------------------------- shopify
PRODUCTS = """
select ids.product_id::text as id,
       %(product)s::jsonb || jsonb_build_object(
           'id', ids.product_id,
           'tags', case when s.code = 'B2B' then 'B2B, ' else '' end || i.category,
           'title', i.name,
           'handle', lower(regexp_replace(i.name, '[^A-Za-z0-9]+', '-', 'g')) || '-f' || i.n,
           'status', 'active', 'vendor', i.vendor,
           'options', jsonb_build_array(jsonb_build_object(
               'id', ids.option_id, 'name', 'Title', 'values', jsonb_build_array(l.title),
               'position', 1, 'product_id', ids.product_id)),
           'variants', jsonb_build_array(%(variant)s::jsonb || jsonb_build_object(
               'id', ids.variant_id, 'sku', i.sku,
               'grams', i.grams * case when l.title like 'Case of %%' then i.case_pack else 1 end,
               'price', pg_temp.w_money(l.price_cents), 'title', l.title,
               'barcode', lpad((10000000 + i.n * 7)::text, 12, '0'), 'option1', l.title,
               'position', 1, 'created_at', pg_temp.w_shop_ts(%(created)s, s.off),
               'product_id', ids.product_id,
               'updated_at', pg_temp.w_shop_ts(%(created)s, s.off), 'compare_at_price', null,
               'inventory_item_id', ids.item_id,
               'inventory_quantity', floor(pg_temp.w_rnd('invq', i.n, s.number) * 500)::integer,
               'old_inventory_quantity',
                   floor(pg_temp.w_rnd('invq', i.n, s.number) * 500)::integer,
               'admin_graphql_api_id', 'gid://shopify/ProductVariant/' || ids.variant_id)),
           'body_html', '<p>' || i.name || '. ' || i.category
                        || ' supplies for professional use.</p>',
           'created_at', pg_temp.w_shop_ts(%(created)s, s.off),
           'updated_at', pg_temp.w_shop_ts(%(created)s, s.off),
           'product_type', i.category,
           'published_at', pg_temp.w_shop_ts(%(created)s + interval '1 hour', s.off),
           'admin_graphql_api_id', 'gid://shopify/Product/' || ids.product_id) as payload
  from w_listing l
  join w_item i on i.n = l.n
  join w_store s on s.number = l.store
  cross join lateral (
      select {product} + l.store * {store} + i.n as product_id,
             {variant} + l.store * {store} + i.n as variant_id,
             {item} + l.store * {store} + i.n as item_id,
             {option} + l.store * {store} + i.n as option_id
  ) as ids
 where l.store = %(store)s
"""

INVENTORY_ITEMS = """
select ({item} + l.store * {store} + i.n)::text as id,
       %(tpl)s::jsonb || jsonb_build_object(
           'id', {item} + l.store * {store} + i.n, 'sku', i.sku,
           'cost', pg_temp.w_money(i.cost_cents), 'tracked', true,
           'created_at', pg_temp.w_shop_ts(%(created)s, s.off),
           'updated_at', pg_temp.w_shop_ts(%(created)s, s.off),
           'admin_graphql_api_id',
               'gid://shopify/InventoryItem/' || ({item} + l.store * {store} + i.n)) as payload
  from w_listing l
  join w_item i on i.n = l.n
  join w_store s on s.number = l.store
 where l.store = %(store)s
"""

INVENTORY_LEVELS = """
select ids.item_id::text as inventory_item_id, ids.location_id::text as location_id,
       %(tpl)s::jsonb || jsonb_build_object(
           'available', floor(pg_temp.w_rnd('level', i.n, loc.k * 100 + l.store) * 300)::integer,
           'updated_at', pg_temp.w_shop_ts(%(updated)s, s.off),
           'location_id', ids.location_id, 'inventory_item_id', ids.item_id,
           'admin_graphql_api_id', 'gid://shopify/InventoryLevel/' || ids.location_id
                                   || '?inventory_item_id=' || ids.item_id) as payload
  from w_listing l
  join w_item i on i.n = l.n
  join w_store s on s.number = l.store
  cross join w_loc loc
  cross join lateral (
      select {item} + l.store * {store} + i.n as item_id,
             {location} + l.store * {store} + loc.k as location_id
  ) as ids
 where l.store = %(store)s
   and i.kind <> 'drop_ship'
   and pg_temp.w_rnd('stocked-at', i.n, loc.k) < %(presence)s::float8
"""


def _ids(query: str) -> sql.SQL:
    return sql.SQL(
        query.replace("{product}", str(PRODUCT * 10**17))
        .replace("{variant}", str(VARIANT * 10**17))
        .replace("{item}", str(INVENTORY_ITEM * 10**17))
        .replace("{option}", str(OPTION * 10**17))
        .replace("{location}", str(LOCATION * 10**17))
        .replace("{store}", str(10**15))
    )


WMS_PRESENCE = 0.85  # share of stocked SKUs a DC holds
STORE_LEVEL_PRESENCE = 0.85  # share of listed SKUs a store tracks at each of its locations


def write_tryton_catalog(
    w: BulkWriter, plan: Plan, streams: dict[str, StreamConfig], tpl: dict, created: datetime
) -> None:
    w.write(
        "tryton",
        streams["items"],
        sql.SQL(ITEMS),
        {
            "kit": Jsonb(tpl["tryton.items.kit"]),
            "goods": Jsonb(tpl["tryton.items.goods"]),
            "created": created,
        },
        "tryton:items",
    )
    w.write(
        "tryton",
        streams["price_list_lines"],
        sql.SQL(PRICE_LIST_LINES),
        {
            "default": Jsonb(tpl["tryton.price_list_lines.default"]),
            "line": Jsonb(tpl["tryton.price_list_lines"]),
            "created": created,
        },
        "tryton:price_list_lines",
    )


def write_wms_stock(
    w: BulkWriter, plan: Plan, streams_of: dict[str, dict[str, StreamConfig]], tpl: dict
) -> None:
    as_of = plan.epoch.strftime("%Y-%m-%dT%H:%M:%SZ")
    for k, loc in enumerate(plan.locations, start=1):
        if loc.kind != "dc":
            continue
        w.write(
            loc.system,
            streams_of[loc.system]["stock"],
            sql.SQL(WMS_STOCK),
            {"k": k, "presence": WMS_PRESENCE, "tpl": Jsonb(tpl["wms.stock"]), "as_of": as_of},
            "/v1/stock",
        )


def write_erp_stock(w: BulkWriter, plan: Plan, streams: dict[str, StreamConfig], tpl: dict) -> None:
    """The ERP's book stock per product and warehouse: what the locations hold (every status),
    so the books agree with the bins until something moves."""
    parts = []
    for k, loc in enumerate(plan.locations, start=1):
        parts.append(
            sql.SQL(ERP_STOCK_PART).format(
                warehouse=sql.Literal(warehouse_id(k)),
                code=sql.Literal(loc.code),
                quantity=sql.Literal("quantity" if loc.kind == "dc" else "on_hand"),
                table=sql.Identifier("raw", f"{loc.system}__stock"),
            )
        )
    select = sql.SQL(ERP_STOCK).format(parts=sql.SQL(" union all ").join(parts))
    w.write("tryton", streams["stock"], select, {"tpl": Jsonb(tpl["tryton.stock"])}, "tryton:stock")


def write_store_catalog(
    w: BulkWriter,
    plan: Plan,
    streams_of: dict[str, dict[str, StreamConfig]],
    tpl: dict,
    created: datetime,
) -> None:
    for store in plan.stores:
        t = _template_store(store.system)
        streams = streams_of[store.system]
        w.write(
            store.system,
            streams["products"],
            _ids(PRODUCTS),
            {
                "product": Jsonb(tpl[f"{t}.products"]),
                "variant": Jsonb(tpl[f"{t}.products.variant"]),
                "created": created,
                "store": store.number,
            },
            "/admin/api/2025-07/products.json",
        )
        w.write(
            store.system,
            streams["inventory_items"],
            _ids(INVENTORY_ITEMS),
            {"tpl": Jsonb(tpl[f"{t}.inventory_items"]), "created": created, "store": store.number},
            "/admin/api/2025-07/inventory_items.json",
        )
        w.write(
            store.system,
            streams["inventory_levels"],
            _ids(INVENTORY_LEVELS),
            {
                "tpl": Jsonb(tpl[f"{t}.inventory_levels"]),
                "updated": plan.epoch,
                "store": store.number,
                "presence": STORE_LEVEL_PRESENCE,
            },
            "/admin/api/2025-07/inventory_levels.json",
        )


def _template_store(system: str) -> str:
    """Extra channels are shaped like the D2C store."""
    known = ("shopify_b2b", "shopify_d2c", "shopify_marketplace")
    return system if system in known else "shopify_d2c"
