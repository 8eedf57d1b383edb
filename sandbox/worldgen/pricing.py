"""Price lists, customer contract prices and promotions, and the price rule.

The rule (docs/architecture.md, Pricing): contract price > customer price list >
active promotion > list price, with validity dates and quantity breaks,
rounded by currency. `PriceBook` evaluates it in integer cents so the
simulation can price hundreds of thousands of lines quickly; the same rule
priced the world's history orders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandbox.world import (
    ContractPrice,
    Customer,
    Item,
    PriceList,
    PriceListLine,
    Promotion,
    QuantityBreak,
    WorldParams,
)
from sandbox.worldgen.rng import stream

USD_CAD = Decimal("1.37")


def to_cad_cents(usd_cents: int) -> int:
    """Convert and round to .99 (CAD list prices end in .99 like USD ones)."""
    cad = (Decimal(usd_cents) * USD_CAD).quantize(Decimal("1"), ROUND_HALF_UP)
    return max(99, int(cad) // 100 * 100 + 99)


def _cents(d: Decimal) -> int:
    return int((d * 100).to_integral_value(ROUND_HALF_UP))


def _dec(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def generate_price_lists(params: WorldParams, items: tuple[Item, ...]) -> tuple[PriceList, ...]:
    """LIST-USD, LIST-CAD (list prices), WHOLESALE-USD/-CAD (a B2B discount per
    item), KEY-ACCOUNT-USD (deeper discounts with a quantity break on ~10% of
    items)."""
    rng = stream(params.seed, "price-lists")
    list_usd, list_cad, whole_usd, whole_cad, key = [], [], [], [], []
    for it in items:
        lc = _cents(it.list_price)
        list_usd.append(PriceListLine(it.sku, it.list_price))
        list_cad.append(PriceListLine(it.sku, _dec(to_cad_cents(lc))))
        if it.is_kit:
            continue
        disc = rng.randint(12, 28)
        wc = max(_cents(it.cost_price) + 1, lc * (100 - disc) // 100)
        whole_usd.append(PriceListLine(it.sku, _dec(wc)))
        whole_cad.append(PriceListLine(it.sku, _dec(int(Decimal(wc) * USD_CAD))))
        if rng.random() < 0.10:
            kc = max(_cents(it.cost_price) + 1, wc * 95 // 100)
            key.append(PriceListLine(it.sku, _dec(kc)))
            key.append(
                PriceListLine(
                    it.sku, _dec(max(_cents(it.cost_price) + 1, wc * 90 // 100)), 10 * it.case_pack
                )
            )
    return (
        PriceList("LIST-USD", "List prices (USD)", "USD", tuple(list_usd)),
        PriceList("LIST-CAD", "List prices (CAD)", "CAD", tuple(list_cad)),
        PriceList("WHOLESALE-USD", "Wholesale (USD)", "USD", tuple(whole_usd)),
        PriceList("WHOLESALE-CAD", "Wholesale (CAD)", "CAD", tuple(whole_cad)),
        PriceList("KEY-ACCOUNT-USD", "Key accounts (USD)", "USD", tuple(key)),
    )


def generate_contract_prices(
    params: WorldParams, items: tuple[Item, ...], customers: tuple[Customer, ...]
) -> tuple[ContractPrice, ...]:
    """A few contract prices for about half the B2B accounts; some expired,
    some starting after the epoch, some with a quantity break."""
    rng = stream(params.seed, "contracts")
    b2b_items = [it for it in items if "B2B" in it.channels]
    out: list[ContractPrice] = []
    for c in customers:
        if c.kind != "b2b" or rng.random() < 0.5:
            continue
        for it in rng.sample(b2b_items, min(len(b2b_items), rng.randint(1, 6))):
            base = _cents(it.list_price)
            price = max(_cents(it.cost_price) + 1, base * rng.randint(65, 80) // 100)
            if c.currency == "CAD":
                price = int(Decimal(price) * USD_CAD)
            shape = rng.random()
            start = params.epoch - timedelta(days=rng.randint(30, 365))
            end: datetime | None = None
            if shape < 0.15:
                end = params.epoch - timedelta(days=rng.randint(1, 20))  # expired
            elif shape < 0.25:
                start = params.epoch + timedelta(days=rng.randint(1, 5))  # starts later
            elif shape < 0.6:
                end = params.epoch + timedelta(days=rng.randint(30, 180))
            min_q = it.case_pack * 5 if rng.random() < 0.2 else 1
            out.append(ContractPrice(c.code, it.sku, _dec(price), c.currency, start, end, min_q))
    return tuple(out)


def generate_promotions(params: WorldParams, items: tuple[Item, ...]) -> tuple[Promotion, ...]:
    """Three promotions: one running over the epoch (with quantity breaks), one
    starting two days after the epoch, one that ended before it."""
    rng = stream(params.seed, "promotions")
    d2c = [it.sku for it in items if "D2C" in it.channels]
    mkt = [it.sku for it in items if "MARKETPLACE" in it.channels]
    e = params.epoch

    def pick(pool: list[str], share: float) -> tuple[str, ...]:
        k = max(1, min(len(pool), int(len(pool) * share)))
        return tuple(sorted(rng.sample(pool, k)))

    return (
        Promotion(
            "SPRING-BULK",
            "Spring bulk savings",
            ("D2C", "MARKETPLACE"),
            pick(d2c, 0.10),
            (
                QuantityBreak(1, Decimal("5")),
                QuantityBreak(3, Decimal("10")),
                QuantityBreak(6, Decimal("15")),
            ),
            e - timedelta(days=7),
            e + timedelta(days=21),
        ),
        Promotion(
            "FLASH-48H",
            "48 hour flash sale",
            ("D2C",),
            pick(d2c, 0.03),
            (QuantityBreak(1, Decimal("20")),),
            e + timedelta(days=2),
            e + timedelta(days=4),
        ),
        Promotion(
            "WINTER-CLEAR",
            "Winter clearance (ended)",
            ("MARKETPLACE",),
            pick(mkt or d2c, 0.05),
            (QuantityBreak(1, Decimal("25")),),
            e - timedelta(days=60),
            e - timedelta(days=1),
        ),
    )


class PriceBook:
    """Evaluates the price rule in integer cents for a (customer, item, qty, time).

    Quantities are base units; the result is the price per base unit in the
    customer's currency (the caller multiplies by a case pack).
    """

    def __init__(
        self,
        items: tuple[Item, ...],
        customers: tuple[Customer, ...],
        price_lists: tuple[PriceList, ...],
        contracts: tuple[ContractPrice, ...],
        promotions: tuple[Promotion, ...],
    ) -> None:
        self.sku_index = {it.sku: i for i, it in enumerate(items)}
        self.list_usd = [_cents(it.list_price) for it in items]
        self.list_cad = [to_cad_cents(c) for c in self.list_usd]
        self.lists: dict[str, dict[int, list[tuple[int, int]]]] = {}
        for pl in price_lists:
            table: dict[int, list[tuple[int, int]]] = {}
            for line in pl.lines:
                table.setdefault(self.sku_index[line.sku], []).append(
                    (line.min_quantity, _cents(line.price))
                )
            for v in table.values():
                v.sort()
            self.lists[pl.code] = table
        self.contracts: dict[tuple[str, int], list[ContractPrice]] = {}
        for cp in contracts:
            self.contracts.setdefault((cp.customer, self.sku_index[cp.sku]), []).append(cp)
        self.promos: dict[int, list[Promotion]] = {}
        for p in promotions:
            for sku in p.skus:
                self.promos.setdefault(self.sku_index[sku], []).append(p)
        self.customers = {c.code: c for c in customers}

    def list_price(self, item_idx: int, currency: str) -> int:
        return self.list_cad[item_idx] if currency == "CAD" else self.list_usd[item_idx]

    def promotion_percent(
        self, item_idx: int, channel: str, qty: int, at: datetime
    ) -> tuple[int, str | None]:
        best, code = 0, None
        for p in self.promos.get(item_idx, ()):
            if channel not in p.channels or not (p.valid_from <= at < p.valid_to):
                continue
            pct = 0
            for br in p.breaks:
                if qty >= br.min_quantity:
                    pct = int(br.discount_percent)
            if pct > best:
                best, code = pct, p.code
        return best, code

    def unit_price(
        self, customer: Customer, channel: str, item_idx: int, qty: int, at: datetime
    ) -> tuple[int, str]:
        """(cents per base unit, rule used: contract|price_list|promotion|list)."""
        for cp in self.contracts.get((customer.code, item_idx), ()):
            if (
                cp.valid_from <= at
                and (cp.valid_to is None or at < cp.valid_to)
                and qty >= cp.min_quantity
            ):
                return _cents(cp.price), "contract"
        if customer.price_list:
            rows = self.lists.get(customer.price_list, {}).get(item_idx)
            if rows:
                price = None
                for min_q, c in rows:
                    if qty >= min_q:
                        price = c
                if price is not None:
                    return price, "price_list"
        base = self.list_price(item_idx, customer.currency)
        pct, _ = self.promotion_percent(item_idx, channel, qty, at)
        if pct:
            return base * (100 - pct) // 100, "promotion"
        return base, "list"
