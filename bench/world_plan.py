"""What the scale world holds, decided in Python from one seed: the catalog, the customers,
the storefront orders and what became of each, the open purchase orders.

Per-SKU × location data (bin stock, ERP book stock, store inventory levels) is not planned here:
:mod:`bench.world_bulk` derives it in SQL from the catalog table, with a seeded hash per row,
so 100,000 × 12 rows never pass through Python.

Proportions (a distributor of supplies; the sandbox world's, at scale):

* items: ~3% kits (2–3 stocked components each), ~8% drop-shipped by ACME or CASCADE (their
  X12 846 says what they can ship), the rest stocked; list and cost prices, case packs, safety
  stock from the planning feed;
* channels: B2B lists ~90% of the non-kit items (sold by the case), D2C ~92%, the marketplace
  ~85%, extra channels ~90%;
* customers: ``b2b_accounts`` B2B accounts with terms, credit limits and a price list (a third
  with contract prices), D2C and marketplace buyers;
* orders: ``orders`` storefront orders over the last three days, 1–4 lines; about 60% shipped
  (a few not yet told to the store), 15% released and allocated in a warehouse, 10% accepted by
  the ERP and not yet released, 10% new (not yet in the ERP), 5% cancelled;
* purchasing: one open purchase order per ~1,000 SKUs, ~20 lines, acknowledged (855), most
  shipped (856), some received.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.world_decl import Declarations, Location, Store
from sandbox.worldgen import names

SUPPLIERS = ("ACME", "BOREAL", "CASCADE")
DROP_SHIP_SUPPLIERS = ("ACME", "CASCADE")
USD_CAD = 1.37
#: listing probability per channel code (extra channels: the default)
LISTING = {"B2B": 0.90, "D2C": 0.92, "MARKETPLACE": 0.85}
ORDER_WEIGHT = {"B2B": 0.2, "D2C": 0.5, "MARKETPLACE": 0.3}
CREDIT_LIMITS = (5_000, 10_000, 25_000, 50_000, 100_000, 250_000)


def cad_cents(usd_cents: int) -> int:
    """A USD list price in CAD, ending in .99 like the USD ones (the sandbox's rule)."""
    cad = round(usd_cents * USD_CAD)
    return max(99, cad // 100 * 100 + 99)


@dataclass(frozen=True)
class Item:
    n: int  # 1-based; also the ERP product (and template) id
    sku: str
    name: str
    vendor: str
    category: str
    kind: str  # stocked | kit | drop_ship
    list_cents: int  # USD
    cost_cents: int
    case_pack: int
    safety_stock: int
    supplier: str  # who we buy it from
    drop_supplier: str | None
    listed: tuple[bool, ...]  # per store, in the declarations' order
    grams: int
    components: tuple[tuple[str, int], ...] = ()  # kits: (component sku, quantity per kit)

    @property
    def wholesale_cents(self) -> int:
        discount = 12 + self.n % 17  # 12–28 % off list
        return max(self.cost_cents + 1, self.list_cents * (100 - discount) // 100)

    @property
    def has_key_account_price(self) -> bool:
        return self.kind != "kit" and self.n % 10 == 3

    def store_price_cents(self, store: Store) -> int:
        """What the store's variant shows: its price list's price, for a case on a CS store."""
        if store.price_list.startswith("WHOLESALE"):
            base = self.wholesale_cents
            if store.currency == "CAD":
                base = int(base * USD_CAD)
        else:
            base = cad_cents(self.list_cents) if store.currency == "CAD" else self.list_cents
        return base * (self.case_pack if store.selling_unit == "CS" else 1)


@dataclass(frozen=True)
class Customer:
    code: str  # the ERP party code, also the storefront customer's tag
    kind: str  # b2b | consumer
    store: Store
    party_id: int
    shop_number: int  # the storefront customer's number in its store's id space
    company: str | None
    first_name: str
    last_name: str
    email: str
    currency: str
    price_list: str | None
    credit_limit: int | None
    payment_term_id: int
    city: tuple[str, str, str, str, str]  # (city, region, postal prefix, country, zone)
    street: str
    postal_code: str
    created_days_ago: int


@dataclass
class OrderLine:
    number: int
    item: Item
    quantity: int  # selling units on the store
    units_per: int  # base units per selling unit (a case on a CS store)
    price_cents: int  # per selling unit, in the store's currency


@dataclass
class Order:
    n: int  # the store's order number (from 1001) and id suffix
    store: Store
    customer: Customer
    created_at: datetime
    state: str  # shipped | shipped_untold | released | accepted | new | cancelled
    location: Location
    lines: list[OrderLine] = field(default_factory=list)
    sale_id: int | None = None
    service_level: str = "STANDARD"
    tax_rate: float = 0.06
    shipping_cents: int = 0

    @property
    def key(self) -> str:
        return f"{self.store.code}#{self.n}"

    @property
    def subtotal_cents(self) -> int:
        return sum(line.price_cents * line.quantity for line in self.lines)

    @property
    def tax_cents(self) -> int:
        return round(self.subtotal_cents * self.tax_rate)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.tax_cents + self.shipping_cents

    @property
    def shipped(self) -> bool:
        return self.state in ("shipped", "shipped_untold")

    @property
    def in_erp(self) -> bool:
        return self.state not in ("new",) and not (self.state == "cancelled" and self.n % 2)


@dataclass
class PurchaseLine:
    number: int
    item: Item
    quantity: int
    unit_cents: int


@dataclass
class Purchase:
    n: int  # ERP purchase id
    supplier: str
    location: Location
    purchase_date: datetime
    stage: str  # acknowledged | shipped | received
    lines: list[PurchaseLine] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return f"PO-{100000 + self.n}"


@dataclass
class Plan:
    seed: int
    epoch: datetime  # "now" of the world: every age is measured back from it
    declarations: Declarations
    items: list[Item]
    customers: list[Customer]
    orders: list[Order]
    purchases: list[Purchase]
    contracts: list[tuple[Customer, Item, int, int, datetime, datetime | None]]
    # (customer, item, min quantity, price cents, valid from, valid to)

    @property
    def locations(self) -> tuple[Location, ...]:
        return self.declarations.locations

    @property
    def stores(self) -> tuple[Store, ...]:
        return self.declarations.stores


def _items(rng: random.Random, skus: int, stores: tuple[Store, ...]) -> list[Item]:
    items: list[Item] = []
    stocked: list[Item] = []
    for n in range(1, skus + 1):
        kind = "kit" if n % 33 == 0 else ("drop_ship" if n % 12 == 5 else "stocked")
        category, nouns, options = names.CATEGORIES[n % len(names.CATEGORIES)]
        vendor = names.BRANDS[(n * 7) % len(names.BRANDS)]
        noun = nouns[(n // 8) % len(nouns)]
        adjective = names.ADJECTIVES[(n // 40) % len(names.ADJECTIVES)]
        option = options[n % len(options)]
        if kind == "kit":
            picks = rng.sample(stocked[-200:], min(len(stocked[-200:]), rng.randint(2, 3)))
            components = tuple((c.sku, rng.choice((1, 1, 2))) for c in picks)
            list_cents = max(
                99,
                sum(c.list_cents * q for c, (_, q) in zip(picks, components, strict=True))
                * 9
                // 10,
            )
            cost = sum(c.cost_cents * q for c, (_, q) in zip(picks, components, strict=True))
            item = Item(
                n=n,
                sku=f"KIT-{n:06d}",
                name=f"{vendor} Starter Kit {n}",
                vendor=vendor,
                category="Kits",
                kind=kind,
                list_cents=list_cents,
                cost_cents=max(1, cost),
                case_pack=1,
                safety_stock=0,
                supplier=SUPPLIERS[n % 3],
                drop_supplier=None,
                listed=tuple(
                    s.code != "B2B" and rng.random() < LISTING.get(s.code, 0.9) for s in stores
                ),
                grams=1000,
                components=components,
            )
        else:
            list_cents = rng.randint(0, 199) * 100 + 99
            cost = max(1, list_cents * rng.randint(45, 65) // 100)
            drop = DROP_SHIP_SUPPLIERS[(n // 12) % 2] if kind == "drop_ship" else None
            item = Item(
                n=n,
                sku=f"SKU-{n:06d}",
                name=f"{vendor} {adjective} {noun} - {option}",
                vendor=vendor,
                category=category,
                kind=kind,
                list_cents=list_cents,
                cost_cents=cost,
                case_pack=rng.choice((1, 1, 1, 6, 12, 24)),
                safety_stock=rng.choice((0, 0, 2, 5, 10)),
                supplier=drop or SUPPLIERS[n % 3],
                drop_supplier=drop,
                listed=tuple(rng.random() < LISTING.get(s.code, 0.9) for s in stores),
                grams=rng.randint(100, 20_000),
            )
            if kind == "stocked":
                stocked.append(item)
        items.append(item)
    return items


def _customers(
    rng: random.Random, stores: tuple[Store, ...], b2b_accounts: int, orders: int
) -> list[Customer]:
    out: list[Customer] = []
    party = 10  # 1 company, 2-4 suppliers; customers from 10
    for store in stores:
        if store.code == "B2B":
            count, kind = b2b_accounts, "b2b"
        else:
            count, kind = max(20, orders // 3), "consumer"
        for k in range(1, count + 1):
            canadian = store.currency == "CAD" or (kind == "b2b" and k % 7 == 3)
            city = rng.choice(names.CA_CITIES if canadian else names.CITIES)
            first, last = names.person(rng)
            if kind == "b2b":
                code = f"B2B-{k:05d}"
                company = names.company(rng)
                email = f"purchasing{k}@{company.split()[0].lower()}{k}.example.com"
                price_list = (
                    "WHOLESALE-CAD"
                    if canadian
                    else ("KEY-ACCOUNT-USD" if k % 4 == 1 else "WHOLESALE-USD")
                )
                limit = 1_000 if k % 11 == 5 else rng.choice(CREDIT_LIMITS)
                term = rng.choice((3, 4, 4, 11, 5))  # Net 15, Net 30, 2% 10 net 30, Net 60
            else:
                prefix = {"D2C": "D2C", "MARKETPLACE": "MKT"}.get(store.code, store.code)
                code = f"{prefix}-{k:06d}"
                company = None
                domain = "marketplace-relay" if store.code == "MARKETPLACE" else "mail"
                email = f"{first.lower()}.{last.lower()}{k}@{domain}.example.com"
                price_list, limit, term = None, None, 10  # paid at checkout
            party += 1
            out.append(
                Customer(
                    code=code,
                    kind=kind,
                    store=store,
                    party_id=party,
                    shop_number=k,
                    company=company,
                    first_name=first,
                    last_name=last,
                    email=email,
                    currency="CAD" if canadian else "USD",
                    price_list=price_list,
                    credit_limit=limit,
                    payment_term_id=term,
                    city=city,
                    street=names.street(rng),
                    postal_code=names.postal_code(rng, city[2], city[3]),
                    created_days_ago=rng.randint(30, 700),
                )
            )
    return out


def _location_for(
    rng: random.Random, customer: Customer, service_level: str, locations: tuple[Location, ...]
) -> Location:
    """A location that ships the service level, in the customer's zone when one does."""
    serving = [loc for loc in locations if service_level in loc.service_levels] or list(locations)
    in_zone = [loc for loc in serving if loc.zone == customer.city[4]]
    return rng.choice(in_zone or serving)


def _orders(
    rng: random.Random,
    epoch: datetime,
    decl: Declarations,
    items: list[Item],
    customers: list[Customer],
    count: int,
) -> list[Order]:
    by_store: dict[str, list[Customer]] = {}
    for c in customers:
        by_store.setdefault(c.store.system, []).append(c)
    listed: dict[str, list[Item]] = {}
    for idx, store in enumerate(decl.stores):
        listed[store.system] = [
            it for it in items if it.listed[idx] and not (store.code == "B2B" and it.kind == "kit")
        ]
    weights = [ORDER_WEIGHT.get(s.code, 0.3) for s in decl.stores]
    numbers = {s.system: 1000 for s in decl.stores}
    states = (
        ["shipped"] * 54
        + ["shipped_untold"] * 6
        + ["released"] * 15
        + ["accepted"] * 10
        + ["new"] * 10
        + ["cancelled"] * 5
    )
    sale_id = 0
    out: list[Order] = []
    for _ in range(count):
        store = rng.choices(decl.stores, weights)[0]
        numbers[store.system] += 1
        customer = rng.choice(by_store[store.system])
        state = rng.choice(states)
        hours = rng.uniform(0.5, 6) if state in ("new", "accepted") else rng.uniform(6, 72)
        level = store.service_levels[0] if rng.random() < 0.8 else rng.choice(store.service_levels)
        order = Order(
            n=numbers[store.system],
            store=store,
            customer=customer,
            created_at=(epoch - timedelta(hours=hours)).replace(microsecond=0),
            state=state,
            location=_location_for(rng, customer, level, decl.locations),
            service_level=level,
            tax_rate=0.13 if store.currency == "CAD" else rng.choice((0.06, 0.07, 0.0825)),
        )
        chosen: set[str] = set()
        for number in range(1, rng.randint(1, 4) + 1):
            item = rng.choice(listed[store.system])
            if item.sku in chosen:
                continue
            chosen.add(item.sku)
            case = store.selling_unit == "CS" and item.case_pack > 1
            order.lines.append(
                OrderLine(
                    number=number,
                    item=item,
                    quantity=rng.randint(1, 5) if store.code == "B2B" else rng.randint(1, 3),
                    units_per=item.case_pack if case else 1,
                    price_cents=item.store_price_cents(store),
                )
            )
        if store.code != "B2B" and order.subtotal_cents < 5000:
            order.shipping_cents = 999
        if order.in_erp:
            sale_id += 1
            order.sale_id = sale_id
        out.append(order)
    out.sort(key=lambda o: o.created_at)
    return out


def _purchases(
    rng: random.Random, epoch: datetime, decl: Declarations, items: list[Item]
) -> list[Purchase]:
    stocked = [it for it in items if it.kind == "stocked"]
    out: list[Purchase] = []
    for n in range(1, max(9, len(items) // 1000) + 1):
        supplier = SUPPLIERS[n % 3]
        candidates = [it for it in rng.sample(stocked, min(len(stocked), 60))]
        candidates = [it for it in candidates if it.supplier == supplier] or candidates
        stage = rng.choice(("acknowledged", "shipped", "shipped", "shipped", "received"))
        purchase = Purchase(
            n=n,
            supplier=supplier,
            location=rng.choice(decl.locations),
            purchase_date=(epoch - timedelta(days=rng.randint(2, 6))).replace(
                hour=0, minute=0, second=0, microsecond=0
            ),
            stage=stage,
        )
        for number, item in enumerate(candidates[:20], start=1):
            purchase.lines.append(
                PurchaseLine(number, item, rng.randint(2, 40) * item.case_pack, item.cost_cents)
            )
        out.append(purchase)
    return out


def _contracts(
    rng: random.Random, epoch: datetime, customers: list[Customer], items: list[Item]
) -> list[tuple[Customer, Item, int, int, datetime, datetime | None]]:
    out = []
    b2b_items = [it for it in items if it.kind != "kit" and it.listed[0]]
    for c in customers:
        if c.kind != "b2b" or c.shop_number % 3:
            continue
        for it in rng.sample(b2b_items, min(len(b2b_items), rng.randint(1, 6))):
            price = max(it.cost_cents + 1, it.list_cents * rng.randint(65, 80) // 100)
            if c.currency == "CAD":
                price = int(price * USD_CAD)
            start = epoch - timedelta(days=rng.randint(30, 365))
            end = epoch + timedelta(days=rng.randint(30, 180)) if rng.random() < 0.5 else None
            min_q = it.case_pack * 5 if rng.random() < 0.2 else 1
            out.append((c, it, min_q, price, start.replace(hour=0, minute=0, second=0), end))
    return out


def make_plan(
    decl: Declarations,
    skus: int,
    seed: int,
    *,
    orders: int,
    b2b_accounts: int,
    epoch: datetime | None = None,
) -> Plan:
    """The whole world's plan from one seed (the same seed and sizes give the same world)."""
    rng = random.Random(seed)
    epoch = epoch or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    items = _items(rng, skus, decl.stores)
    customers = _customers(rng, decl.stores, b2b_accounts, orders)
    return Plan(
        seed=seed,
        epoch=epoch,
        declarations=decl,
        items=items,
        customers=customers,
        orders=_orders(rng, epoch, decl, items, customers, orders),
        purchases=_purchases(rng, epoch, decl, items),
        contracts=_contracts(rng, epoch, customers, items),
    )
