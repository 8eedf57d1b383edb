"""Items: families of variants, case packs, kits, drop-ship items, channel listings.

Built in one pass over plain integers so that 100,000 SKUs take well under a
second or two; `Decimal` prices are made from integer cents.
"""

from __future__ import annotations

import math
from decimal import Decimal

from sandbox.world import Item, KitComponent, WorldParams
from sandbox.worldgen import names
from sandbox.worldgen.rng import stream

SUPPLIER_CODES = ("ACME", "BOREAL", "CASCADE")
DROP_SHIP_SUPPLIERS = ("ACME", "CASCADE")
LOG_MIN_COST, LOG_MAX_COST = math.log(60), math.log(15_000)
CASE_PACKS = (1, 1, 1, 6, 6, 12, 12, 12, 24, 48)


def cents(value: int) -> Decimal:
    """Integer cents as a two-place Decimal."""
    return Decimal(value).scaleb(-2)


def upc_a(number: int) -> str:
    """A valid 12-digit UPC-A with check digit for an 11-digit number."""
    digits = f"{number % 10**11:011d}"
    odd = sum(int(d) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    check = (10 - (odd * 3 + even) % 10) % 10
    return digits + str(check)


def generate_items(params: WorldParams) -> tuple[Item, ...]:
    """`params.skus` items: ~3% kits, ~8% drop-ship, the rest stocked.

    Channel listings: B2B lists every non-kit item; D2C about 60% of items and
    every kit; the marketplace about 30% and half the kits. Every channel lists
    at least one stocked item.
    """
    rng = stream(params.seed, "catalog")
    n = params.skus
    width = max(5, len(str(n)))
    n_kits = max(2, n * 3 // 100)
    n_drop = max(2, n * 8 // 100)
    items: list[Item] = []
    family_no = 0
    i = 0
    # kits are the last n_kits items; drop-ship items are spread evenly
    drop_every = max(2, (n - n_kits) // n_drop)
    while i < n - n_kits:
        family_no += 1
        category, nouns, options = names.CATEGORIES[rng.randrange(len(names.CATEGORIES))]
        noun = nouns[rng.randrange(len(nouns))]
        brand = names.BRANDS[rng.randrange(len(names.BRANDS))]
        adjective = names.ADJECTIVES[rng.randrange(len(names.ADJECTIVES))]
        family_name = f"{brand} {adjective} {noun}"
        n_variants = min(rng.choice((1, 1, 1, 2, 3)), len(options), n - n_kits - i)
        base_cost = int(math.exp(rng.uniform(LOG_MIN_COST, LOG_MAX_COST)))  # cents, median ~$9
        case_pack = CASE_PACKS[rng.randrange(len(CASE_PACKS))]
        supplier = SUPPLIER_CODES[rng.randrange(3)]
        family = f"F{family_no:0{width}d}"
        for v in range(n_variants):
            option = options[v] if n_variants > 1 else "Default Title"
            cost = base_cost + v * rng.randint(0, base_cost // 5 + 1)
            markup = rng.randint(135, 220)
            list_cents = max(99, (cost * markup // 100) // 100 * 100 + 99)  # x.99 pricing
            drop_ship = None
            if i % drop_every == drop_every - 1 and supplier in DROP_SHIP_SUPPLIERS:
                drop_ship = supplier
            roll = rng.random()
            channels = ["B2B"]
            if roll < 0.6:
                channels.append("D2C")
            if roll < 0.3 or (roll > 0.9):
                channels.append("MARKETPLACE")
            sku = f"SKU-{i + 1:0{width}d}"
            items.append(
                Item(
                    sku=sku,
                    name=family_name if n_variants == 1 else f"{family_name} - {option}",
                    family=family,
                    option=option,
                    category=category,
                    unit="EA",
                    case_pack=case_pack,
                    weight_grams=rng.randint(50, 20_000),
                    list_price=cents(list_cents),
                    cost_price=cents(cost),
                    currency="USD",
                    barcode=upc_a(params.seed * 1_000_003 + i + 1),
                    supplier=supplier,
                    supplier_part=f"{supplier[:2]}-{rng.randint(10000, 99999)}-{v + 1}",
                    drop_ship_supplier=drop_ship,
                    channels=tuple(channels),
                    safety_stock=rng.choice((0, 0, 2, 5, 10)),
                )
            )
            i += 1
    stocked = [it for it in items if it.is_stocked]
    # make sure each channel lists at least one stocked item
    for ch in ("D2C", "MARKETPLACE"):
        if not any(ch in it.channels for it in stocked):
            first = stocked[0]
            idx = items.index(first)
            items[idx] = _with_channels(first, (*first.channels, ch))
            stocked[0] = items[idx]
    for k in range(n_kits):
        n_comp = rng.randint(2, 4)
        picked = rng.sample(range(len(stocked)), min(n_comp, len(stocked)))
        comps = tuple(
            KitComponent(stocked[p].sku, rng.choice((1, 1, 2, 4))) for p in sorted(picked)
        )
        cost = sum(
            int(stocked[p].cost_price * 100) * c.quantity
            for p, c in zip(sorted(picked), comps, strict=True)
        )
        list_cents = (cost * 180 // 100) // 100 * 100 + 99
        family_no += 1
        sku = f"KIT-{k + 1:0{width}d}"
        channels = ("D2C", "MARKETPLACE") if k % 2 == 0 else ("D2C",)
        items.append(
            Item(
                sku=sku,
                name=f"{names.BRANDS[k % len(names.BRANDS)]} Starter Kit {k + 1}",
                family=f"F{family_no:0{width}d}",
                option="Default Title",
                category="Kits",
                unit="EA",
                case_pack=1,
                weight_grams=sum(500 * c.quantity for c in comps),
                list_price=cents(list_cents),
                cost_price=cents(cost),
                currency="USD",
                barcode=upc_a(params.seed * 1_000_003 + n + k + 1),
                supplier="ACME",
                supplier_part="",
                kit_components=comps,
                channels=channels,
            )
        )
    return tuple(items)


def _with_channels(item: Item, channels: tuple[str, ...]) -> Item:
    from dataclasses import replace

    return replace(item, channels=channels)
