"""Shopify Admin REST resources as JSON-ready dicts (API version 2025-07).

Written from Shopify's documentation and real public payloads (see docs/connecting.md,
Sandbox), independently of the product's Shopify code.
Conventions of the real API kept here: ids are int64 (above 2**53), money is
a string with two decimals plus ``*_set`` objects with shop and presentment
money, timestamps carry the shop's UTC offset, ``admin_graphql_api_id`` is
the gid, empty collections are ``[]`` and absent values ``null``. Top-level
amounts are in the shop currency; ``presentment_money`` is the customer's
currency (a Canadian B2B customer sees CAD in the USD B2B shop).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sandbox.ids import hex_id, line_item_seq, shopify_id
from sandbox.records import LiveLine, LiveOrder, StoreFulfillment
from sandbox.store_state import STORE_LOCATIONS, Store
from sandbox.timestamps import iso
from sandbox.worldgen.pricing import USD_CAD

if TYPE_CHECKING:
    from sandbox.simulation import Simulation

API_VERSION = "2025-07"

COUNTRY_NAMES = {"US": "United States", "CA": "Canada"}
REGION_NAMES = {
    "NJ": "New Jersey",
    "MA": "Massachusetts",
    "PA": "Pennsylvania",
    "GA": "Georgia",
    "NC": "North Carolina",
    "IL": "Illinois",
    "OH": "Ohio",
    "TX": "Texas",
    "CO": "Colorado",
    "AZ": "Arizona",
    "NV": "Nevada",
    "CA": "California",
    "OR": "Oregon",
    "WA": "Washington",
    "ON": "Ontario",
    "QC": "Quebec",
    "AB": "Alberta",
    "BC": "British Columbia",
}
SERVICE_TITLES = {
    "STANDARD": "Standard Shipping",
    "EXPRESS": "Express Shipping",
    "GROUND": "Ground",
    "LTL": "LTL Freight",
}


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def gid(kind: str, id_: int) -> str:
    return f"gid://shopify/{kind}/{id_}"


class Renderer:
    """Renders one store's records; holds the per-store context (offset, currency)."""

    def __init__(self, sim: Simulation, store: Store) -> None:
        self.sim = sim
        self.store = store
        self.code = store.code
        self.offset = store.channel.utc_offset
        self.shop_currency = store.channel.currency

    # -- small helpers ----------------------------------------------------------

    def ts(self, t: int | None) -> str | None:
        return None if t is None else iso(t, self.offset)

    def id(self, kind: str, seq: int) -> int:
        return shopify_id(kind, self.code, seq)

    def to_shop(self, cents: int, currency: str) -> int:
        if currency == self.shop_currency:
            return cents
        if currency == "CAD" and self.shop_currency == "USD":
            return int((Decimal(cents) / USD_CAD).to_integral_value(ROUND_HALF_UP))
        return int((Decimal(cents) * USD_CAD).to_integral_value(ROUND_HALF_UP))

    def money_set(self, cents: int, currency: str) -> dict[str, Any]:
        return {
            "shop_money": {
                "amount": money(self.to_shop(cents, currency)),
                "currency_code": self.shop_currency,
            },
            "presentment_money": {"amount": money(cents), "currency_code": currency},
        }

    def location_id(self, code: str) -> int:
        locations = self.store.locations
        return self.id("location", locations.index(code) + 1 if code in locations else 1)

    # -- locations ------------------------------------------------------------------

    def location(self, code: str) -> dict[str, Any]:
        id_ = self.location_id(code)
        created = self.ts(self.sim.epoch_ts - 400 * 86400)
        loc = self.sim.locations.get(code)
        if loc is not None:
            a = loc.address
            name, line1, city, zip_, region, country = (
                loc.name,
                a.line1,
                a.city,
                a.postal_code,
                a.region,
                a.country,
            )
        else:
            # a drop-ship supplier's location: named by its code, no street address of ours
            name, line1, city, zip_, region, country = code, None, None, None, None, "US"
        return {
            "id": id_,
            "name": name,
            "address1": line1,
            "address2": None,
            "city": city,
            "zip": zip_,
            "province": None if region is None else REGION_NAMES.get(region, region),
            "country": country,
            "phone": None,
            "created_at": created,
            "updated_at": created,
            "country_code": country,
            "country_name": COUNTRY_NAMES.get(country, country),
            "province_code": region,
            "legacy": False,
            "active": True,
            "deleted_at": None,
            "admin_graphql_api_id": gid("Location", id_),
        }

    # -- catalogue ------------------------------------------------------------------

    def product_times(self, pos: int) -> tuple[int, int]:
        created = self.sim.epoch_ts - (400 - pos % 300) * 86400
        updated = max(created + 86400, self.store.product_updated.get(pos, 0))
        for i in self.store.families[pos][1]:
            hit = self.store.prices.get(i)
            if hit is not None:
                updated = max(updated, hit[2])
        return created, updated

    def variant(self, item: int, position: int, product_id: int) -> dict[str, Any]:
        it = self.sim.items[item]
        store = self.store
        price, compare, p_updated = self.sim.variant_price(store, item)
        fam_pos = store.family_of[item]
        created, _ = self.product_times(fam_pos)
        factor = store.selling_factor(it)
        qty = sum(
            self.sim.store_available(store, item, loc)[0] for loc in store.stocked_at(item, it)
        )
        title = (
            it.option
            if factor == 1
            else (
                f"{it.option} / Case of {factor}"
                if it.option != "Default Title"
                else f"Case of {factor}"
            )
        )
        id_ = self.id("variant", item + 1)
        return {
            "id": id_,
            "product_id": product_id,
            "title": title,
            "price": money(price),
            "position": position,
            "inventory_policy": "deny",
            "compare_at_price": None if compare is None else money(compare),
            "option1": title,
            "option2": None,
            "option3": None,
            "created_at": self.ts(created),
            "updated_at": self.ts(max(created + 86400, p_updated)),
            "taxable": True,
            "barcode": it.barcode,
            "fulfillment_service": "manual",
            "grams": it.weight_grams * factor,
            "inventory_management": "shopify",
            "requires_shipping": True,
            "sku": it.sku,
            "inventory_item_id": self.id("inventory_item", item + 1),
            "inventory_quantity": qty,
            "old_inventory_quantity": qty,
            "image_id": None,
            "admin_graphql_api_id": gid("ProductVariant", id_),
        }

    def product(self, pos: int) -> dict[str, Any]:
        family, members = self.store.families[pos]
        first = self.sim.items[members[0]]
        id_ = self.id("product", int(family[1:]))
        created, updated = self.product_times(pos)
        title = first.name if len(members) == 1 else first.name.rsplit(" - ", 1)[0]
        variants = [self.variant(i, n + 1, id_) for n, i in enumerate(members)]
        return {
            "id": id_,
            "title": title,
            "body_html": f"<p>{title}. {first.category} supplies for professional use.</p>",
            "vendor": title.split()[0],
            "product_type": first.category,
            "created_at": self.ts(created),
            "handle": f"{title.lower().replace(' ', '-')}-{family.lower()}",
            "updated_at": self.ts(updated),
            "published_at": self.ts(created + 3600),
            "template_suffix": None,
            "published_scope": "global" if self.code != "B2B" else "web",
            "tags": ", ".join(sorted({first.category, "B2B" if self.code == "B2B" else "retail"})),
            "status": "active",
            "admin_graphql_api_id": gid("Product", id_),
            "variants": variants,
            "options": [
                {
                    "id": self.id("product_option", int(family[1:])),
                    "product_id": id_,
                    "name": "Title" if len(members) == 1 else "Option",
                    "position": 1,
                    "values": [v["title"] for v in variants],
                }
            ],
            "images": [],
            "image": None,
        }

    def inventory_item(self, item: int) -> dict[str, Any]:
        it = self.sim.items[item]
        created, _ = self.product_times(self.store.family_of[item])
        id_ = self.id("inventory_item", item + 1)
        factor = self.store.selling_factor(it)
        cost = int(it.cost_price * 100) * factor
        return {
            "id": id_,
            "sku": it.sku,
            "created_at": self.ts(created),
            "updated_at": self.ts(created),
            "requires_shipping": True,
            "cost": money(self.to_shop(cost, "USD")),
            "country_code_of_origin": None,
            "province_code_of_origin": None,
            "harmonized_system_code": None,
            # a drop-ship item is tracked too: at its supplier's location (Store.stocks)
            "tracked": True,
            "country_harmonized_system_codes": [],
            "admin_graphql_api_id": gid("InventoryItem", id_),
        }

    def inventory_level(self, item: int, loc: str) -> dict[str, Any]:
        avail, updated = self.sim.store_available(self.store, item, loc)
        inv = self.id("inventory_item", item + 1)
        loc_id = self.location_id(loc)
        return {
            "inventory_item_id": inv,
            "location_id": loc_id,
            "available": avail,
            "updated_at": self.ts(updated),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{loc_id}?inventory_item_id={inv}",
        }

    # -- customers ---------------------------------------------------------------------

    def address(self, cust_idx: int, with_ids: bool) -> dict[str, Any]:
        c = self.sim.customers[cust_idx]
        a = c.address
        company = c.name if c.kind == "b2b" else None
        out: dict[str, Any] = {}
        if with_ids:
            out["id"] = self.id("address", cust_idx + 1)
            out["customer_id"] = self.id("customer", cust_idx + 1)
        out.update(
            {
                "first_name": c.first_name or None,
                "last_name": c.last_name or None,
                "company": company,
                "address1": a.line1,
                "address2": a.line2 or None,
                "city": a.city,
                "province": REGION_NAMES.get(a.region, a.region),
                "country": COUNTRY_NAMES.get(a.country, a.country),
                "zip": a.postal_code,
                "phone": c.phone,
                "name": f"{c.first_name} {c.last_name}".strip(),
                "province_code": a.region,
                "country_code": a.country,
            }
        )
        if with_ids:
            out["country_name"] = COUNTRY_NAMES.get(a.country, a.country)
            out["default"] = True
        return out

    def order_address(self, cust_idx: int) -> dict[str, Any]:
        out = self.address(cust_idx, with_ids=False)
        out["latitude"] = None
        out["longitude"] = None
        return out

    def customer_created(self, cust_idx: int) -> int:
        return self.sim.epoch_ts - (30 + cust_idx * 7 % 700) * 86400

    def customer(self, cust_idx: int, embedded: bool = False) -> dict[str, Any]:
        c = self.sim.customers[cust_idx]
        id_ = self.id("customer", cust_idx + 1)
        created = self.customer_created(cust_idx)
        stats = self.store.customer_stats.get(cust_idx)
        updated = max(created, stats.updated) if stats else created
        out: dict[str, Any] = {
            "id": id_,
            "email": c.email,
            "created_at": self.ts(created),
            "updated_at": self.ts(updated),
            "first_name": c.first_name,
            "last_name": c.last_name,
            "state": "enabled" if c.kind == "b2b" else "disabled",
            "note": f"Account {c.code}; terms {c.payment_term}" if c.kind == "b2b" else None,
            "verified_email": True,
            "multipass_identifier": None,
            "tax_exempt": c.tax_exempt,
            "phone": c.phone,
            "currency": c.currency,
            "tax_exemptions": [],
            "admin_graphql_api_id": gid("Customer", id_),
            "default_address": self.address(cust_idx, with_ids=True),
        }
        if embedded:
            return out
        out.update(
            {
                "orders_count": stats.orders_count if stats else 0,
                "total_spent": money(stats.total_spent_cents if stats else 0),
                "last_order_id": self.id("order", stats.last_order_seq)
                if stats and stats.last_order_seq
                else None,
                "last_order_name": f"#{stats.last_order_number}"
                if stats and stats.last_order_number
                else None,
                "tags": ", ".join(t for t in ("b2b" if c.kind == "b2b" else "", c.code) if t),
                "addresses": [self.address(cust_idx, with_ids=True)],
            }
        )
        return out

    # -- orders --------------------------------------------------------------------------

    def line_item(self, order: LiveOrder, ln: LiveLine) -> dict[str, Any]:
        id_ = self.id("line_item", line_item_seq(order.seq, ln.line_no))
        known = ln.item >= 0
        it = self.sim.items[ln.item] if known else None
        title = it.name.rsplit(" - ", 1)[0] if it else f"Item {ln.sku}"
        variant_title = None
        if it is not None and (it.option != "Default Title" or ln.unit == "CS"):
            variant_title = it.option if ln.unit != "CS" else f"Case of {it.case_pack}"
        tax = (ln.unit_cents * ln.quantity - ln.discount_cents) * order.tax_bps // 10000
        cur = order.currency
        fulfillable = 0 if order.cancelled_at else ln.quantity - ln.fulfilled
        return {
            "id": id_,
            "admin_graphql_api_id": gid("LineItem", id_),
            "attributed_staffs": [],
            "current_quantity": 0 if order.cancelled_at else ln.quantity,
            "fulfillable_quantity": fulfillable,
            "fulfillment_service": "manual",
            "fulfillment_status": None
            if ln.fulfilled == 0
            else ("fulfilled" if ln.fulfilled >= ln.quantity else "partial"),
            "gift_card": False,
            "grams": (it.weight_grams * (it.case_pack if ln.unit == "CS" else 1)) if it else 0,
            "name": title if variant_title is None else f"{title} - {variant_title}",
            "price": money(self.to_shop(ln.unit_cents, cur)),
            "price_set": self.money_set(ln.unit_cents, cur),
            "product_exists": known,
            "product_id": self.id("product", int(it.family[1:])) if it else None,
            "properties": [],
            "quantity": ln.quantity,
            "requires_shipping": True,
            "sales_line_item_group_id": None,
            "sku": ln.sku,
            "taxable": True,
            "title": title,
            "total_discount": money(self.to_shop(ln.discount_cents, cur)),
            "total_discount_set": self.money_set(ln.discount_cents, cur),
            "variant_id": self.id("variant", ln.item + 1) if known else None,
            "variant_inventory_management": "shopify" if known else None,
            "variant_title": variant_title,
            "vendor": title.split()[0] if it else None,
            "tax_lines": [self._tax_line(order, tax)] if order.tax_bps else [],
            "duties": [],
            "discount_allocations": (
                [
                    {
                        "amount": money(self.to_shop(ln.discount_cents, cur)),
                        "amount_set": self.money_set(ln.discount_cents, cur),
                        "discount_application_index": 0,
                    }
                ]
                if ln.discount_cents
                else []
            ),
        }

    def _tax_line(self, order: LiveOrder, cents: int) -> dict[str, Any]:
        return {
            "price": money(self.to_shop(cents, order.currency)),
            "rate": order.tax_bps / 10000,
            "title": "HST"
            if order.currency == "CAD" and self.shop_currency == "CAD"
            else "Sales Tax",
            "price_set": self.money_set(cents, order.currency),
            "channel_liable": self.code == "MARKETPLACE",
        }

    def order(self, order: LiveOrder) -> dict[str, Any]:
        sim = self.sim
        id_ = self.id("order", order.seq)
        cur = order.currency
        c = sim.customers[order.customer]
        line_total = sum(ln.unit_cents * ln.quantity for ln in order.lines)
        discounts = order.discount_cents
        subtotal = line_total - discounts
        total = order.total_cents
        cancelled = order.cancelled_at is not None
        paid = order.financial_status in ("paid", "partially_refunded")
        outstanding = 0 if paid or cancelled else total
        weight = sum(
            sim.items[ln.item].weight_grams * ln.base_quantity for ln in order.lines if ln.item >= 0
        )
        token = hex_id(sim.seed, "order-token", self.code, order.seq)
        promos = sorted({ln.promotion for ln in order.lines if ln.promotion})
        fulfilled_status = order.fulfillment_status
        payment_terms = None
        if c.payment_term != "PREPAID":
            term = next(t for t in sim.world.payment_terms if t.code == c.payment_term)
            payment_terms = {
                "id": self.id("payment_terms", order.seq),
                "payment_terms_name": term.name,
                "payment_terms_type": "net",
                "due_in_days": term.net_days,
                "created_at": self.ts(order.created),
                "updated_at": self.ts(order.created),
                "payment_schedules": [
                    {
                        "amount": money(self.to_shop(total, cur)),
                        "currency": self.shop_currency,
                        "issued_at": self.ts(order.created),
                        "due_at": self.ts(order.created + term.net_days * 86400),
                        "completed_at": None,
                    }
                ],
            }
        return {
            "id": id_,
            "admin_graphql_api_id": gid("Order", id_),
            "app_id": 580111,
            "browser_ip": None if self.code == "B2B" else "203.0.113.10",
            "buyer_accepts_marketing": False,
            "cancel_reason": order.cancel_reason,
            "cancelled_at": self.ts(order.cancelled_at),
            "cart_token": None,
            "checkout_token": hex_id(sim.seed, "checkout", self.code, order.seq),
            "client_details": None,
            "closed_at": self.ts(order.closed_at),
            "confirmation_number": hex_id(
                sim.seed, "confirm", self.code, order.seq, length=9
            ).upper(),
            "confirmed": True,
            "contact_email": c.email,
            "created_at": self.ts(order.created),
            "currency": self.shop_currency,
            "current_shipping_price_set": self.money_set(
                0 if cancelled else order.shipping_cents, cur
            ),
            "current_subtotal_price": money(self.to_shop(0 if cancelled else subtotal, cur)),
            "current_subtotal_price_set": self.money_set(0 if cancelled else subtotal, cur),
            "current_total_additional_fees_set": None,
            "current_total_discounts": money(self.to_shop(0 if cancelled else discounts, cur)),
            "current_total_discounts_set": self.money_set(0 if cancelled else discounts, cur),
            "current_total_duties_set": None,
            "current_total_price": money(self.to_shop(0 if cancelled else total, cur)),
            "current_total_price_set": self.money_set(0 if cancelled else total, cur),
            "current_total_tax": money(self.to_shop(0 if cancelled else order.tax_cents, cur)),
            "current_total_tax_set": self.money_set(0 if cancelled else order.tax_cents, cur),
            "customer": self.customer(order.customer, embedded=True),
            "customer_locale": "en",
            "device_id": None,
            "discount_applications": [
                {
                    "target_type": "line_item",
                    "type": "automatic",
                    "value": "0.0",
                    "value_type": "percentage",
                    "allocation_method": "across",
                    "target_selection": "entitled",
                    "title": code,
                }
                for code in promos
            ],
            "discount_codes": [],
            "duties_included": False,
            "email": c.email,
            "estimated_taxes": False,
            "financial_status": order.financial_status,
            "fulfillment_status": fulfilled_status,
            "fulfillments": [self.fulfillment(order, f) for f in order.fulfillments],
            "landing_site": None,
            "landing_site_ref": None,
            "line_item_groups": [],
            "line_items": [self.line_item(order, ln) for ln in order.lines],
            "location_id": None,
            "merchant_business_entity_id": f"MTAx{self.code}",
            "merchant_of_record_app_id": None,
            "name": f"#{order.number}",
            "note": order.note,
            "note_attributes": [],
            "number": order.number - 1000,
            "order_number": order.number,
            "order_status_url": f"https://{self.store.channel.shop_domain}/orders/{token}/authenticate",
            "original_total_additional_fees_set": None,
            "original_total_duties_set": None,
            "payment_gateway_names": ["manual"]
            if c.payment_term != "PREPAID"
            else ["shopify_payments"],
            "payment_terms": payment_terms,
            "phone": None,
            "po_number": f"PO-{c.code}-{order.number}" if self.code == "B2B" else None,
            "presentment_currency": cur,
            "processed_at": self.ts(order.created),
            "reference": None,
            "referring_site": None,
            "refunds": [],
            "returns": [],
            "billing_address": self.order_address(order.customer),
            "shipping_address": self.order_address(order.customer),
            "shipping_lines": [
                {
                    "id": self.id("shipping_line", order.seq),
                    "carrier_identifier": None,
                    "code": order.service_level,
                    "current_discounted_price_set": self.money_set(order.shipping_cents, cur),
                    "discounted_price": money(self.to_shop(order.shipping_cents, cur)),
                    "discounted_price_set": self.money_set(order.shipping_cents, cur),
                    "is_removed": False,
                    "phone": None,
                    "price": money(self.to_shop(order.shipping_cents, cur)),
                    "price_set": self.money_set(order.shipping_cents, cur),
                    "requested_fulfillment_service_id": None,
                    "source": "shopify",
                    "title": SERVICE_TITLES.get(order.service_level, order.service_level.title()),
                    "tax_lines": [],
                    "discount_allocations": [],
                }
            ],
            "source_identifier": None,
            "source_name": "web" if self.code != "B2B" else "b2b",
            "source_url": None,
            "subtotal_price": money(self.to_shop(subtotal, cur)),
            "subtotal_price_set": self.money_set(subtotal, cur),
            "tags": order.tags,
            "tax_exempt": c.tax_exempt,
            "tax_lines": [self._tax_line(order, order.tax_cents)] if order.tax_bps else [],
            "taxes_included": False,
            "test": False,
            "token": token,
            "total_cash_rounding_payment_adjustment_set": self.money_set(0, cur),
            "total_cash_rounding_refund_adjustment_set": self.money_set(0, cur),
            "total_discounts": money(self.to_shop(discounts, cur)),
            "total_discounts_set": self.money_set(discounts, cur),
            "total_line_items_price": money(self.to_shop(line_total, cur)),
            "total_line_items_price_set": self.money_set(line_total, cur),
            "total_outstanding": money(self.to_shop(outstanding, cur)),
            "total_price": money(self.to_shop(total, cur)),
            "total_price_set": self.money_set(total, cur),
            "total_shipping_price_set": self.money_set(order.shipping_cents, cur),
            "total_tax": money(self.to_shop(order.tax_cents, cur)),
            "total_tax_set": self.money_set(order.tax_cents, cur),
            "total_tip_received": "0.00",
            "total_weight": weight,
            "updated_at": self.ts(order.updated),
            "user_id": None,
        }

    # -- fulfillments -------------------------------------------------------------------

    def fulfillment(self, order: LiveOrder, f: StoreFulfillment) -> dict[str, Any]:
        id_ = self.id("fulfillment", f.seq)
        by_no = {ln.line_no: ln for ln in order.lines}
        items = []
        for line_no, qty in f.lines:
            li = self.line_item(order, by_no[line_no])
            li["quantity"] = qty
            items.append(li)
        urls = [f.tracking_url] if f.tracking_url else []
        numbers = [f.tracking_number] if f.tracking_number else []
        for li in items:
            for key in ("attributed_staffs", "current_quantity", "sales_line_item_group_id"):
                li.pop(key, None)
        c = self.sim.customers[order.customer]
        position = order.fulfillments.index(f) + 1 if f in order.fulfillments else 1
        return {
            "id": id_,
            "admin_graphql_api_id": gid("Fulfillment", id_),
            "destination": self.order_address(order.customer),
            "email": c.email,
            "created_at": self.ts(f.created),
            "location_id": self.location_id(f.location) if f.location in STORE_LOCATIONS else None,
            "name": f"#{order.number}.{position}",
            "order_id": self.id("order", order.seq),
            "origin_address": None,
            "receipt": {},
            "service": "manual",
            "shipment_status": f.shipment_status,
            "status": f.status,
            "tracking_company": f.tracking_company,
            "tracking_number": f.tracking_number,
            "tracking_numbers": numbers,
            "tracking_url": f.tracking_url,
            "tracking_urls": urls,
            "updated_at": self.ts(f.updated),
            "line_items": items,
        }

    def fulfillment_order(self, order: LiveOrder) -> dict[str, Any]:
        id_ = self.id("fulfillment_order", order.seq)
        remaining = sum(ln.quantity - ln.fulfilled for ln in order.lines)
        if order.cancelled_at is not None:
            status = "cancelled"
        elif remaining == 0:
            status = "closed"
        elif any(ln.fulfilled for ln in order.lines):
            status = "in_progress"
        else:
            status = "open"
        loc = order.ship_from if order.ship_from in STORE_LOCATIONS else "DC-EAST"
        return {
            "id": id_,
            "admin_graphql_api_id": gid("FulfillmentOrder", id_),
            "shop_id": self.id("shop", 1),
            "order_id": self.id("order", order.seq),
            "assigned_location_id": self.location_id(loc),
            "request_status": "unsubmitted",
            "status": status,
            "fulfill_at": self.ts(order.created),
            "supported_actions": ["create_fulfillment"]
            if status in ("open", "in_progress")
            else [],
            "destination": None,
            "line_items": [
                {
                    "id": self.id(
                        "fulfillment_order_line_item", line_item_seq(order.seq, ln.line_no)
                    ),
                    "shop_id": self.id("shop", 1),
                    "fulfillment_order_id": id_,
                    "quantity": ln.quantity,
                    "line_item_id": self.id("line_item", line_item_seq(order.seq, ln.line_no)),
                    "inventory_item_id": self.id("inventory_item", ln.item + 1)
                    if ln.item >= 0
                    else None,
                    "fulfillable_quantity": 0 if order.cancelled_at else ln.quantity - ln.fulfilled,
                    "variant_id": self.id("variant", ln.item + 1) if ln.item >= 0 else None,
                }
                for ln in order.lines
            ],
            "international_duties": None,
            "fulfillment_holds": [],
            "fulfill_by": None,
            "created_at": self.ts(order.created),
            "updated_at": self.ts(order.updated),
            "delivery_method": {"id": id_, "method_type": "shipping"},
            "assigned_location": {
                "name": self.sim.locations[loc].name,
                "location_id": self.location_id(loc),
            },
            "merchant_requests": [],
        }

    # -- shop and webhooks --------------------------------------------------------------

    def shop(self) -> dict[str, Any]:
        ch = self.store.channel
        id_ = self.id("shop", 1)
        return {
            "id": id_,
            "name": f"distrohub {ch.name}",
            "email": f"ops+{self.code.lower()}@distrohub.example.com",
            "domain": ch.shop_domain,
            "myshopify_domain": ch.shop_domain,
            "currency": ch.currency,
            "enabled_presentment_currencies": sorted({ch.currency, "CAD", "USD"}),
            "iana_timezone": "America/New_York" if ch.utc_offset == "-05:00" else "Etc/UTC",
            "timezone": f"(GMT{ch.utc_offset}) "
            + ("Eastern Time" if ch.utc_offset == "-05:00" else "UTC"),
            "plan_name": "shopify_plus" if self.code == "B2B" else "advanced",
            "country_code": "CA" if ch.currency == "CAD" else "US",
            "created_at": self.ts(self.sim.epoch_ts - 800 * 86400),
            "updated_at": self.ts(self.sim.epoch_ts - 30 * 86400),
            "admin_graphql_api_id": gid("Shop", id_),
        }
