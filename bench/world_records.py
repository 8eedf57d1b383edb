"""The scale world's smaller REST streams (thousands of records, not millions), built in Python
and landed through the product's own path: :class:`~dagster_project.ingest.validation.
RecordValidator` (the stream's JSON Schema and references, as a sync checks them) and
:meth:`~dagster_project.ingest.landing.Landing.commit_page` (COPY and merge, the cursor in the
same transaction), with an ``ops.ingest_batches`` row per stream as a sync leaves.

Tryton's reference records and parties, the price lists, sales, purchases and invoices; each
store's locations, customers and orders; each WMS's releases, allocations, picks, shipments,
receipts and events. Every payload starts from its landed template (:mod:`bench.world_templates`).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg

from bench.world_bulk import (
    ADDRESS,
    CUSTOMER,
    LINE_ITEM,
    LOCATION,
    ORDER,
    PRODUCT,
    SHIPPING_LINE,
    VARIANT,
    contract_list_ids,
    shop_id,
    warehouse_id,
)
from bench.world_decl import Location, Store
from bench.world_plan import SUPPLIERS, Order, Plan
from dagster_project.connectors.base import Page, StreamConfig
from dagster_project.ingest.landing import Landing, LoadCounts
from dagster_project.ingest.validation import RecordValidator, load_known_values

Progress = Callable[[str], None]
PAGE = 5000
CURRENCY_IDS = {"USD": 1, "CAD": 2}
SUPPLIER_PARTIES = {code: 2 + i for i, code in enumerate(SUPPLIERS)}
LIST_IDS = {
    "LIST-USD": 1,
    "LIST-CAD": 2,
    "WHOLESALE-USD": 3,
    "WHOLESALE-CAD": 4,
    "KEY-ACCOUNT-USD": 5,
}
LIST_NAMES = {
    "LIST-USD": "List prices (USD)",
    "LIST-CAD": "List prices (CAD)",
    "WHOLESALE-USD": "Wholesale (USD)",
    "WHOLESALE-CAD": "Wholesale (CAD)",
    "KEY-ACCOUNT-USD": "Key accounts (USD)",
}
CARRIERS = {"US": ("UPS", "GROUND"), "CA": ("CanadaPost", "EXPEDITED")}


class WorldError(RuntimeError):
    """The generator made a record the product would not load: a bug in the scale world."""


def tryton_ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def shop_ts(at: datetime, offset: str) -> str:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = (int(x) for x in offset[1:].split(":"))
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return at.astimezone(zone).isoformat(timespec="seconds")


def z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else "-" + money(-cents)


def dec(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def qty(units: int | float) -> Decimal:
    return Decimal(str(float(units)))


def bin_of(n: int) -> str:
    """The sellable bin of SKU number n (the same rule as the bulk WMS stock)."""
    return f"{chr(65 + n % 20)}{1 + (n // 20) % 40:02d}-1"


def _token(*parts: object) -> str:
    return hashlib.md5(":".join(str(p) for p in parts).encode()).hexdigest()


class RecordLander:
    """Validates and lands a stream's records as a sync does; one batch per stream."""

    def __init__(
        self,
        conn: psycopg.Connection,
        kinds: dict[str, str],
        streams_of: dict[str, dict[str, StreamConfig]],
        progress: Progress,
    ) -> None:
        self.conn = conn
        self.kinds = kinds
        self.streams_of = streams_of
        self.progress = progress
        self.counts: dict[str, int] = {}

    def land(self, system: str, stream_name: str, payloads: list[dict], source: str) -> int:
        stream = self.streams_of[system][stream_name]
        landing = Landing(
            self.conn,
            system,
            stream.name,
            stream.key_columns,
            volatile_fields=tuple(stream.volatile_fields),
        )
        landing.ensure_table()
        landing.start_batch(None)
        validator = RecordValidator(
            system, self.kinds[system], stream, load_known_values(self.conn, stream)
        )
        records, rejected = validator.split(Page(records=payloads, source=source))
        if rejected:
            reasons = "; ".join(r.reason for r in rejected[:3])
            raise WorldError(
                f"{system} {stream_name}: {len(rejected)} generated records would be quarantined "
                f"({reasons}); fix bench/world_records.py"
            )
        cursor = None
        if stream.cursor_field and payloads:
            values = [p.get(stream.cursor_field) for p in payloads]
            newest = max((str(v) for v in values if v is not None), default=None)
            if newest is not None:
                cursor = {"field": stream.cursor_field, "value": newest}
        if stream_name == "events" and payloads:
            cursor = {
                "field": "feed_position",
                "value": str(max(int(p["cursor"]) for p in payloads)),
            }
        counts = LoadCounts()
        for start in range(0, max(len(records), 1), PAGE):
            page = records[start : start + PAGE]
            last = start + PAGE >= len(records)
            counts.add(landing.commit_page(page, cursor=cursor if last else None))
        landing.finish_batch(counts, cursor, None)
        self.counts[f"{system}__{stream_name}"] = len(records)
        self.progress(f"raw.{system}__{stream_name}: {len(records):,} rows")
        return len(records)


def _with(template: dict, **values: Any) -> dict:
    out = copy.deepcopy(template)
    out.update(values)
    return out


# ------------------------------------------------------------------------------ tryton
def tryton_reference(lander: RecordLander, plan: Plan, tpl: dict, created: datetime) -> None:
    stamp = tryton_ts(created)
    lander.land("tryton", "units", tpl["tryton.units"], "tryton:units")
    lander.land("tryton", "payment_terms", tpl["tryton.payment_terms"], "tryton:payment_terms")
    lander.land(
        "tryton",
        "payment_term_deltas",
        tpl["tryton.payment_term_deltas"],
        "tryton:payment_term_deltas",
    )
    limits = sorted(
        {(c.currency, c.credit_limit) for c in plan.customers if c.credit_limit is not None}
    )
    category_of = {limit: 2 + i for i, limit in enumerate(limits)}
    categories = [_with(tpl["tryton.party_categories.root"], id=1, create_date=stamp)]
    categories += [
        _with(
            tpl["tryton.party_categories"],
            id=cid,
            name=f"{currency} {amount}.00",
            parent=1,
            create_date=stamp,
        )
        for (currency, amount), cid in category_of.items()
    ]
    lander.land("tryton", "party_categories", categories, "tryton:party_categories")

    terms = {t["id"]: t["name"] for t in tpl["tryton.payment_terms"]}
    lists = {**LIST_IDS, **{f"CONTRACT {k}": v for k, v in contract_list_ids(plan).items()}}
    parties = [_with(tpl["tryton.parties.company"], write_date=stamp, create_date=stamp)]
    supplier_names = {
        "ACME": "Acme Industrial Supply",
        "BOREAL": "Boreal Paper & Packaging",
        "CASCADE": "Cascade Safety Products",
    }
    for code, pid in SUPPLIER_PARTIES.items():
        parties.append(
            _with(
                tpl["tryton.parties.supplier"],
                id=pid,
                code=code,
                name=supplier_names[code],
                addresses=[pid],
                write_date=stamp,
                create_date=stamp,
            )
        )
    addresses = []
    for c in plan.customers:
        name = c.company or f"{c.first_name} {c.last_name}"
        parties.append(
            _with(
                tpl["tryton.parties.customer"],
                id=c.party_id,
                code=c.code,
                name=name,
                addresses=[c.party_id],
                categories=[category_of[(c.currency, c.credit_limit)]] if c.credit_limit else [],
                sale_price_list=lists.get(c.price_list) if c.price_list else None,
                customer_payment_term=c.payment_term_id,
                **{
                    "customer_payment_term.": {
                        "id": c.payment_term_id,
                        "name": terms[c.payment_term_id],
                    }
                },
                write_date=stamp,
                create_date=stamp,
            )
        )
        addresses.append(
            _with(
                tpl["tryton.addresses"],
                id=c.party_id,
                city=c.city[0],
                party=c.party_id,
                street=c.street,
                country=1 if c.city[3] == "CA" else 2,
                **{"country.": {"id": 1 if c.city[3] == "CA" else 2, "code": c.city[3]}},
                postal_code=c.postal_code,
                write_date=stamp,
                create_date=stamp,
            )
        )
    lander.land("tryton", "parties", parties, "tryton:parties")
    lander.land("tryton", "addresses", addresses, "tryton:addresses")

    warehouses = [
        _with(
            tpl["tryton.warehouses"],
            id=warehouse_id(k),
            code=loc.code,
            name=loc.name,
            input_location=warehouse_id(k) - 4,
            output_location=warehouse_id(k) - 3,
            storage_location=warehouse_id(k) - 2,
            create_date=stamp,
        )
        for k, loc in enumerate(plan.locations, start=1)
    ]
    lander.land("tryton", "warehouses", warehouses, "tryton:warehouses")

    price_lists = [
        _with(
            tpl["tryton.price_lists"],
            id=lid,
            name=f"[{code}] {LIST_NAMES[code]}",
            create_date=stamp,
        )
        for code, lid in LIST_IDS.items()
    ]
    price_lists += [
        _with(
            tpl["tryton.price_lists"],
            id=lid,
            name=f"[CONTRACT {code}] Contract prices",
            create_date=stamp,
        )
        for code, lid in contract_list_ids(plan).items()
    ]
    lander.land("tryton", "price_lists", price_lists, "tryton:price_lists")


def _sale_states(order: Order) -> tuple[str, str, str]:
    if order.state == "cancelled":
        return "cancelled", "none", "none"
    if order.shipped:
        return "done", "sent", "paid"
    return "processing", "waiting", "none"


def tryton_sales(lander: RecordLander, plan: Plan, tpl: dict, created: datetime) -> None:
    stamp = tryton_ts(created)
    lists = {**LIST_IDS}
    sales, lines, invoices, invoice_lines = [], [], [], []
    line_id = invoice_line_id = 0
    wh = {loc.code: warehouse_id(k) for k, loc in enumerate(plan.locations, start=1)}
    for order in plan.orders:
        if order.sale_id is None:
            continue
        state, shipment_state, invoice_state = _sale_states(order)
        c = order.customer
        currency = order.store.currency
        sale = _with(
            tpl["tryton.sales"],
            id=order.sale_id,
            party=c.party_id,
            state=state,
            number=str(order.sale_id),
            currency=CURRENCY_IDS[currency],
            reference=order.key,
            sale_date=order.created_at.date().isoformat(),
            warehouse=wh[order.location.code],
            price_list=lists.get(c.price_list) if c.price_list else None,
            tax_amount=0,
            write_date=stamp,
            create_date=stamp,
            description=f"{order.store.code} order {order.key}",
            payment_term=c.payment_term_id,
            total_amount=dec(order.total_cents),
            invoice_state=invoice_state,
            shipment_state=shipment_state,
            untaxed_amount=dec(order.total_cents),
            invoice_address=c.party_id,
            shipment_address=c.party_id,
            **{
                "party.": {"id": c.party_id, "code": c.code},
                "currency.": {"id": CURRENCY_IDS[currency], "code": currency},
            },
        )
        sales.append(sale)
        for line in order.lines:
            line_id += 1
            units = line.quantity * line.units_per
            lines.append(
                _with(
                    tpl["tryton.sale_lines"],
                    id=line_id,
                    sale=order.sale_id,
                    unit=1,
                    amount=dec(line.price_cents * line.quantity),
                    product=line.item.n,
                    quantity=qty(units),
                    warehouse=wh[order.location.code],
                    unit_price=(dec(line.price_cents) / line.units_per).quantize(Decimal("0.0001")),
                    write_date=stamp,
                    create_date=stamp,
                    actual_quantity=qty(units if order.shipped else 0),
                    **{"product.": {"id": line.item.n, "code": line.item.sku}},
                )
            )
        charges = order.tax_cents + order.shipping_cents
        if charges:
            line_id += 1
            lines.append(
                _with(
                    tpl["tryton.sale_lines.charges"],
                    id=line_id,
                    sale=order.sale_id,
                    amount=dec(charges),
                    warehouse=wh[order.location.code],
                    unit_price=dec(charges),
                    write_date=stamp,
                    create_date=stamp,
                )
            )
        if order.shipped:
            invoices.append(
                _with(
                    tpl["tryton.invoices"],
                    id=order.sale_id,
                    type="out",
                    party=c.party_id,
                    state="paid",
                    number=f"INV-{order.sale_id:06d}",
                    origins=f"{order.sale_id} [{order.key}]",
                    currency=CURRENCY_IDS[currency],
                    reference=order.key,
                    tax_amount=Decimal("0.00"),
                    write_date=stamp,
                    create_date=stamp,
                    invoice_date=order.created_at.date().isoformat(),
                    payment_term=c.payment_term_id,
                    total_amount=dec(order.total_cents),
                    amount_to_pay=0,
                    untaxed_amount=dec(order.total_cents),
                    **{"party.": {"id": c.party_id, "code": c.code}},
                )
            )
            for line in order.lines:
                invoice_line_id += 1
                invoice_lines.append(
                    _with(
                        tpl["tryton.invoice_lines"],
                        id=invoice_line_id,
                        amount=dec(line.price_cents * line.quantity),
                        origin=f"sale.line,{order.sale_id}",
                        invoice=order.sale_id,
                        product=line.item.n,
                        quantity=qty(line.quantity * line.units_per),
                        unit_price=(dec(line.price_cents) / line.units_per).quantize(
                            Decimal("0.0001")
                        ),
                        create_date=stamp,
                        **{"product.": {"id": line.item.n, "code": line.item.sku}},
                    )
                )
    purchases, purchase_lines = [], []
    wh_of = {loc.code: warehouse_id(k) for k, loc in enumerate(plan.locations, start=1)}
    purchase_line_id = 0
    first_invoice = len(plan.orders) + 1
    for po in plan.purchases:
        total = sum(ln.quantity * ln.unit_cents for ln in po.lines)
        received = po.stage == "received"
        purchases.append(
            _with(
                tpl["tryton.purchases"],
                id=po.n,
                party=SUPPLIER_PARTIES[po.supplier],
                state="processing",
                number=str(po.n),
                currency=1,
                reference=po.reference,
                warehouse=wh_of[po.location.code],
                tax_amount=0,
                write_date=stamp,
                create_date=stamp,
                payment_term=4,
                total_amount=dec(total),
                delivery_date=(po.purchase_date + timedelta(days=5)).date().isoformat(),
                invoice_state="pending",
                purchase_date=po.purchase_date.date().isoformat(),
                shipment_state="received" if received else "waiting",
                untaxed_amount=dec(total),
                **{"party.": {"id": SUPPLIER_PARTIES[po.supplier], "code": po.supplier}},
            )
        )
        for ln in po.lines:
            purchase_line_id += 1
            purchase_lines.append(
                _with(
                    tpl["tryton.purchase_lines"],
                    id=purchase_line_id,
                    type="line",
                    unit=1,
                    amount=dec(ln.quantity * ln.unit_cents),
                    product=ln.item.n,
                    purchase=po.n,
                    quantity=qty(ln.quantity),
                    sequence=ln.number,
                    unit_price=dec(ln.unit_cents),
                    write_date=stamp,
                    create_date=stamp,
                    delivery_date=None,
                    actual_quantity=qty(ln.quantity),
                    **{"product.": {"id": ln.item.n, "code": ln.item.sku}},
                )
            )
        invoices.append(
            _with(
                tpl["tryton.invoices"],
                id=first_invoice + po.n,
                type="in",
                party=SUPPLIER_PARTIES[po.supplier],
                state="draft",
                number=None,
                origins=f"{po.n} [{po.reference}]",
                currency=1,
                reference=None,
                write_date=stamp,
                create_date=stamp,
                total_amount=dec(total),
                untaxed_amount=dec(total),
                **{"party.": {"id": SUPPLIER_PARTIES[po.supplier], "code": po.supplier}},
            )
        )
    lander.land("tryton", "sales", sales, "tryton:sales")
    lander.land("tryton", "sale_lines", lines, "tryton:sale_lines")
    lander.land("tryton", "purchases", purchases, "tryton:purchases")
    lander.land("tryton", "purchase_lines", purchase_lines, "tryton:purchase_lines")
    lander.land("tryton", "invoices", invoices, "tryton:invoices")
    lander.land("tryton", "invoice_lines", invoice_lines, "tryton:invoice_lines")


# ------------------------------------------------------------------------------ shopify
def _template(store: Store) -> str:
    known = ("shopify_b2b", "shopify_d2c", "shopify_marketplace")
    return store.system if store.system in known else "shopify_d2c"


def _address(template: dict, c, store: Store) -> dict:
    return _with(
        template,
        id=shop_id(ADDRESS, store.number, c.shop_number),
        zip=c.postal_code,
        city=c.city[0],
        name=f"{c.first_name} {c.last_name}",
        company=c.company,
        country="Canada" if c.city[3] == "CA" else "United States",
        address1=c.street,
        province=c.city[1],
        last_name=c.last_name,
        first_name=c.first_name,
        customer_id=shop_id(CUSTOMER, store.number, c.shop_number),
        country_code=c.city[3],
        country_name="Canada" if c.city[3] == "CA" else "United States",
        province_code=c.city[1],
    )


def _customer(tpl: dict, c, store: Store, epoch: datetime) -> dict:
    t = _template(store)
    address = _address(tpl[f"{t}.customers.address"], c, store)
    cid = shop_id(CUSTOMER, store.number, c.shop_number)
    created = shop_ts(epoch - timedelta(days=c.created_days_ago), store.utc_offset)
    return _with(
        tpl[f"{t}.customers"],
        id=cid,
        note=f"Account {c.code}" if c.kind == "b2b" else None,
        tags=f"b2b, {c.code}" if c.kind == "b2b" else c.code,
        email=c.email,
        state="enabled" if c.kind == "b2b" else "disabled",
        currency=c.currency,
        addresses=[address],
        last_name=c.last_name,
        first_name=c.first_name,
        created_at=created,
        updated_at=created,
        default_address=address,
        admin_graphql_api_id=f"gid://shopify/Customer/{cid}",
    )


def shopify(lander: RecordLander, plan: Plan, tpl: dict, created: datetime) -> None:
    for store in plan.stores:
        t = _template(store)
        locations = []
        for k, loc in enumerate(plan.locations, start=1):
            lid = shop_id(LOCATION, store.number, k)
            locations.append(
                _with(
                    tpl[f"{t}.locations"],
                    id=lid,
                    name=loc.name,
                    created_at=shop_ts(created, store.utc_offset),
                    updated_at=shop_ts(created, store.utc_offset),
                    admin_graphql_api_id=f"gid://shopify/Location/{lid}",
                )
            )
        lander.land(store.system, "locations", locations, "/admin/api/2025-07/locations.json")
        customers = [
            _customer(tpl, c, store, plan.epoch) for c in plan.customers if c.store == store
        ]
        lander.land(store.system, "customers", customers, "/admin/api/2025-07/customers.json")
        orders = [_order(tpl, order, plan.epoch) for order in plan.orders if order.store == store]
        lander.land(store.system, "orders", orders, "/admin/api/2025-07/orders.json")


def _money_set(amount: str, currency: str) -> dict:
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency},
    }


def _order(tpl: dict, order: Order, epoch: datetime) -> dict:
    store = order.store
    t = _template(store)
    c = order.customer
    cur = store.currency
    oid = shop_id(ORDER, store.number, order.n)
    created = shop_ts(order.created_at, store.utc_offset)
    cancelled = order.state == "cancelled"
    told = order.state == "shipped"
    line_template = tpl[f"{t}.orders.line_item"]
    tax_template = (line_template.get("tax_lines") or [None])[0]
    items = []
    for line in order.lines:
        lid = shop_id(LINE_ITEM, store.number, order.n * 100 + line.number)
        title = line.item.name.rsplit(" - ", 1)[0]
        variant_title = f"Case of {line.units_per}" if line.units_per > 1 else None
        price = money(line.price_cents)
        line_tax = money(round(line.price_cents * line.quantity * order.tax_rate))
        tax_line = _with(
            tax_template,
            rate=order.tax_rate,
            price=line_tax,
            price_set=_money_set(line_tax, cur),
        )
        items.append(
            _with(
                tpl[f"{t}.orders.line_item"],
                id=lid,
                sku=line.item.sku,
                name=line.item.name + (f" - {variant_title}" if variant_title else ""),
                grams=line.item.grams * line.units_per,
                price=price,
                title=title,
                vendor=line.item.vendor,
                quantity=line.quantity,
                price_set=_money_set(price, cur),
                tax_lines=[tax_line] if tax_template else [],
                product_id=shop_id(PRODUCT, store.number, line.item.n),
                variant_id=shop_id(VARIANT, store.number, line.item.n),
                variant_title=variant_title,
                total_discount="0.00",
                current_quantity=0 if cancelled else line.quantity,
                fulfillment_status="fulfilled" if told else None,
                total_discount_set=_money_set("0.00", cur),
                admin_graphql_api_id=f"gid://shopify/LineItem/{lid}",
                fulfillable_quantity=0 if (told or cancelled) else line.quantity,
            )
        )
    address = {
        "zip": c.postal_code,
        "city": c.city[0],
        "name": f"{c.first_name} {c.last_name}",
        "phone": None,
        "company": c.company,
        "country": "Canada" if c.city[3] == "CA" else "United States",
        "address1": c.street,
        "address2": None,
        "latitude": None,
        "province": c.city[1],
        "last_name": c.last_name,
        "longitude": None,
        "first_name": c.first_name,
        "country_code": c.city[3],
        "province_code": c.city[1],
    }
    subtotal, tax, shipping = (
        money(order.subtotal_cents),
        money(order.tax_cents),
        money(order.shipping_cents),
    )
    total = money(order.total_cents)
    template = tpl[f"{t}.orders"]
    shipping_line = _with(
        template["shipping_lines"][0] if template.get("shipping_lines") else {},
        id=shop_id(SHIPPING_LINE, store.number, order.n),
        code=order.service_level,
        price=shipping,
        title=order.service_level.title(),
        price_set=_money_set(shipping, cur),
        discounted_price=shipping,
        discounted_price_set=_money_set(shipping, cur),
        current_discounted_price_set=_money_set(shipping, cur),
    )
    if store.code == "B2B":
        financial = "paid" if order.shipped else "pending"
    else:
        financial = "refunded" if cancelled else "paid"
    customer_id = shop_id(CUSTOMER, store.number, c.shop_number)
    customer = _with(
        template["customer"],
        id=customer_id,
        email=c.email,
        currency=c.currency,
        last_name=c.last_name,
        first_name=c.first_name,
        default_address=_address(tpl[f"{t}.customers.address"], c, store),
        admin_graphql_api_id=f"gid://shopify/Customer/{customer_id}",
    )
    updated = shop_ts(
        order.created_at + timedelta(hours=2) if order.shipped else order.created_at,
        store.utc_offset,
    )
    outstanding = "0.00" if financial in ("paid", "refunded") else total
    return _with(
        template,
        id=oid,
        name=f"#{order.n}",
        tags="",
        email=c.email,
        token=_token("order", store.system, order.n),
        number=order.n - 1000,
        currency=cur,
        customer=customer,
        closed_at=None,
        po_number=f"PO-{c.code}-{order.n}" if store.code == "B2B" else None,
        tax_lines=[
            _with(tax_template, rate=order.tax_rate, price=tax, price_set=_money_set(tax, cur))
        ]
        if tax_template
        else [],
        total_tax=tax,
        created_at=created,
        line_items=items,
        updated_at=updated,
        source_name="b2b" if store.code == "B2B" else "web",
        total_price=total,
        cancelled_at=updated if cancelled else None,
        order_number=order.n,
        processed_at=created,
        cancel_reason="customer" if cancelled else None,
        contact_email=c.email,
        total_tax_set=_money_set(tax, cur),
        checkout_token=_token("checkout", store.system, order.n),
        shipping_lines=[shipping_line],
        subtotal_price=subtotal,
        billing_address=address,
        total_price_set=_money_set(total, cur),
        financial_status=financial,
        order_status_url=f"https://{store.system}.myshopify.com/orders/"
        f"{_token('order', store.system, order.n)}/authenticate",
        shipping_address=address,
        current_total_tax="0.00" if cancelled else tax,
        total_outstanding=outstanding,
        fulfillment_status="fulfilled" if told else None,
        subtotal_price_set=_money_set(subtotal, cur),
        confirmation_number=_token("confirmation", store.system, order.n)[:9].upper(),
        current_total_price="0.00" if cancelled else total,
        admin_graphql_api_id=f"gid://shopify/Order/{oid}",
        presentment_currency=cur,
        current_subtotal_price="0.00" if cancelled else subtotal,
        total_line_items_price=subtotal,
        total_shipping_price_set=_money_set(shipping, cur),
    )


# ------------------------------------------------------------------------------ wms
def _ship_to(order: Order) -> dict:
    c = order.customer
    return {
        "city": c.city[0],
        "name": f"{c.first_name} {c.last_name}",
        "line1": c.street,
        "region": c.city[1],
        "country": c.city[3],
        "postal_code": c.postal_code,
    }


def wms(lander: RecordLander, plan: Plan, tpl: dict) -> dict[str, list[Order]]:
    """Releases, allocations, picks, shipments, receipts and events of every DC; the orders
    routed to the 3PL (shipped there: their 945s go to its drop folder), by location code."""
    by_location: dict[str, list[Order]] = {}
    for order in plan.orders:
        if order.state in ("shipped", "shipped_untold", "released"):
            by_location.setdefault(order.location.code, []).append(order)
    for k, loc in enumerate(plan.locations, start=1):
        if loc.kind != "dc":
            continue
        _one_dc(lander, plan, tpl, k, loc, by_location.get(loc.code, []))
    return by_location


def _one_dc(
    lander: RecordLander, plan: Plan, tpl: dict, k: int, loc: Location, orders: list[Order]
) -> None:
    releases, allocations, picks, shipments, events = [], [], [], [], []
    allocation_id = pick_id = shipment_no = cursor = 0
    for order in orders:
        release_id = f"{order.key}@{loc.code}"
        received = order.created_at + timedelta(minutes=20)
        shipped = order.shipped
        shipped_at = order.created_at + timedelta(hours=2)
        pick_id += 1
        shipment_no += 1
        shipment_id = f"SHP-{loc.code}-{shipment_no:07d}"
        release_lines, pick_lines, shipment_lines = [], [], []
        for line in order.lines:
            if line.item.kind == "kit":
                parts = [(comp, q * line.quantity) for comp, q in line.item.components]
            else:
                parts = [(line.item.sku, line.quantity * line.units_per)]
            for part_no, (sku, units) in enumerate(parts, start=1):
                allocation_id += 1
                n = int(sku.split("-")[1])
                line_ref = f"{line.number}.{part_no}"
                allocations.append(
                    _with(
                        tpl["wms.allocations"],
                        allocation_id=allocation_id,
                        bin=bin_of(n),
                        sku=sku,
                        state="picked" if shipped else "allocated",
                        picked=units if shipped else 0,
                        pick_id=pick_id if shipped else None,
                        line_ref=line_ref,
                        quantity=units,
                        created_at=z(received),
                        release_id=release_id,
                        updated_at=z(shipped_at if shipped else received),
                    )
                )
                release_lines.append(
                    _with(
                        tpl["wms.releases.line"],
                        sku=sku,
                        status="shipped" if shipped else "allocated",
                        shipped=units if shipped else 0,
                        line_ref=line_ref,
                        quantity=units,
                        allocated=units,
                    )
                )
                pick_lines.append(
                    _with(
                        tpl["wms.picks.line"],
                        bin=bin_of(n),
                        sku=sku,
                        picked=units,
                        quantity=units,
                        allocation_id=allocation_id,
                    )
                )
                shipment_lines.append(
                    _with(
                        tpl["wms.shipments.line"],
                        sku=sku,
                        ordered=units,
                        line_ref=line_ref,
                        quantity=units,
                    )
                )
        carrier, service = CARRIERS.get(order.customer.city[3], ("UPS", "GROUND"))
        tracking = f"1Z{_token('trk', release_id)[:16].upper()}"
        releases.append(
            _with(
                tpl["wms.releases"],
                lines=release_lines,
                source="hub",
                status="shipped" if shipped else "allocated",
                channel=order.store.code,
                ship_to=_ship_to(order),
                location=loc.code,
                order_ref=order.key,
                release_id=release_id,
                updated_at=z(shipped_at if shipped else received),
                received_at=z(received),
                shipment_id=shipment_id if shipped else None,
                service_level=order.service_level,
            )
        )
        if not shipped:
            continue
        picks.append(
            _with(
                tpl["wms.picks"],
                lines=pick_lines,
                state="done",
                pick_id=pick_id,
                created_at=z(received + timedelta(minutes=30)),
                release_id=release_id,
                completed_at=z(shipped_at - timedelta(minutes=20)),
            )
        )
        shipment = _with(
            tpl["wms.shipments"],
            lines=shipment_lines,
            carrier=carrier,
            service=service,
            ship_to=_ship_to(order),
            order_ref=order.key,
            release_id=release_id,
            shipped_at=z(shipped_at),
            tracker_id=f"trk_{_token('tracker', release_id)}",
            shipment_id=shipment_id,
            tracking_number=tracking,
        )
        shipments.append(shipment)
        cursor += 1
        events.append(
            _with(
                tpl["wms.events.pick_completed"],
                id=f"wev_{_token('pick', loc.code, pick_id)[:24]}",
                cursor=str(cursor),
                data={
                    "lines": [
                        {k2: pl[k2] for k2 in ("allocation_id", "picked", "quantity", "sku")}
                        for pl in pick_lines
                    ],
                    "pick_id": pick_id,
                    "release_id": release_id,
                    "short": False,
                },
                occurred_at=z(shipped_at - timedelta(minutes=20)),
                recorded_at=z(shipped_at - timedelta(minutes=20)),
            )
        )
        cursor += 1
        events.append(
            _with(
                tpl["wms.events.shipment_confirmed"],
                id=f"wev_{_token('ship', loc.code, shipment_id)[:24]}",
                cursor=str(cursor),
                data={key: shipment[key] for key in tpl["wms.events.shipment_confirmed"]["data"]},
                occurred_at=z(shipped_at),
                recorded_at=z(shipped_at),
            )
        )
    receipts = []
    for po in plan.purchases:
        if po.location.code != loc.code or po.stage != "received":
            continue
        received_at = po.purchase_date + timedelta(days=2, hours=7)
        receipts.append(
            _with(
                tpl["wms.receipts"],
                lines=[
                    {"sku": ln.item.sku, "expected": ln.quantity, "received": ln.quantity}
                    for ln in po.lines
                ],
                asn_id=f"ASN-{po.supplier}-{100000 + po.n}",
                po_number=po.reference,
                receipt_id=f"RCV-{loc.code}-{po.n:06d}",
                qc_released=True,
                received_at=z(received_at),
            )
        )
    system = loc.system
    lander.land(system, "releases", releases, "/v1/releases")
    lander.land(system, "allocations", allocations, "/v1/allocations")
    lander.land(system, "picks", picks, "/v1/picks")
    lander.land(system, "short_picks", [], "/v1/short-picks")
    lander.land(system, "shipments", shipments, "/v1/shipments")
    lander.land(system, "receipts", receipts, "/v1/receipts")
    lander.land(system, "returns", [], "/v1/returns")
    lander.land(system, "events", events, "/v1/events")


def empty_streams(lander: RecordLander, names: Iterable[tuple[str, str]]) -> None:
    """Streams a sync read and found nothing in (the carrier's tracker events): a batch each."""
    for system, stream in names:
        lander.land(system, stream, [], f"{system}:{stream}")
