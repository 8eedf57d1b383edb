"""Drafting storefront orders: which channel, customer, items, quantities, prices.

Used for the world's history and, with the same rules, by the simulation for
every order after the epoch. Works in integer cents; popular items are
chosen more often (a Zipf-like weight on a per-channel random ranking).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

from sandbox.world import Channel, Customer, Item
from sandbox.worldgen.pricing import PriceBook

#: Share of orders per channel.
CHANNEL_MIX = (("D2C", 0.60), ("MARKETPLACE", 0.25), ("B2B", 0.15))

TAX_BPS = {"D2C": 700, "MARKETPLACE": 1300, "B2B": 600}  # basis points


@dataclass(slots=True)
class DraftLine:
    item_idx: int
    quantity: int  # in the channel's selling unit
    unit: str  # "EA" or "CS"
    base_quantity: int  # in the item's base unit
    unit_cents: int  # price per selling unit before promotion
    discount_cents: int  # line discount total
    promotion: str | None


@dataclass(slots=True)
class DraftOrder:
    channel: str
    customer_idx: int
    currency: str
    lines: list[DraftLine]
    shipping_cents: int
    tax_cents: int
    tax_bps: int
    service_level: str

    @property
    def subtotal_cents(self) -> int:
        return sum(ln.unit_cents * ln.quantity - ln.discount_cents for ln in self.lines)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.shipping_cents + self.tax_cents


class OrderMaker:
    """Drafts orders from the catalogue, customers and price book."""

    def __init__(
        self,
        seed: int,
        items: tuple[Item, ...],
        customers: tuple[Customer, ...],
        channels: tuple[Channel, ...],
        prices: PriceBook,
    ) -> None:
        self.items = items
        self.customers = customers
        self.channels = {c.code: c for c in channels}
        self.prices = prices
        self.by_channel: dict[str, list[int]] = {}
        self.weights: dict[str, list[float]] = {}
        for code in self.channels:
            listed = [i for i, it in enumerate(items) if code in it.channels]
            rng = random.Random(f"distrohub:{seed}:popularity:{code}")
            rng.shuffle(listed)
            self.by_channel[code] = listed
            self.weights[code] = list(
                accumulate(1.0 / (rank + 8) ** 0.9 for rank in range(len(listed)))
            )
        self.customers_by_channel: dict[str, list[int]] = {}
        for i, c in enumerate(customers):
            self.customers_by_channel.setdefault(c.channel, []).append(i)
        self._mix_codes = [c for c, _ in CHANNEL_MIX]
        self._mix_cum = list(accumulate(w for _, w in CHANNEL_MIX))

    def pick_channel(self, rng: random.Random) -> str:
        return self._mix_codes[
            min(bisect_right(self._mix_cum, rng.random()), len(self._mix_codes) - 1)
        ]

    def pick_item(self, rng: random.Random, channel: str) -> int:
        cum = self.weights[channel]
        return self.by_channel[channel][bisect_right(cum, rng.random() * cum[-1]) if cum else 0]

    def make(self, rng: random.Random, channel: str, at: datetime) -> DraftOrder:
        ch = self.channels[channel]
        pool = self.customers_by_channel[channel]
        cust_idx = pool[int(rng.random() * len(pool))]
        cust = self.customers[cust_idx]
        if channel == "B2B":
            n_lines = rng.randint(2, 8)
        elif channel == "D2C":
            n_lines = rng.choice((1, 1, 1, 2, 2, 3, 4))
        else:
            n_lines = rng.choice((1, 1, 1, 2))
        seen: set[int] = set()
        lines: list[DraftLine] = []
        for _ in range(n_lines):
            idx = self.pick_item(rng, channel)
            if idx in seen:
                continue
            seen.add(idx)
            item = self.items[idx]
            in_cases = ch.selling_unit == "CS" and item.case_pack > 1
            if channel == "B2B":
                qty = (
                    rng.choice((1, 1, 2, 2, 3, 5, 10)) if in_cases else rng.choice((6, 12, 24, 48))
                )
            else:
                qty = rng.choice((1, 1, 1, 1, 2, 2, 3))
            factor = item.case_pack if in_cases else 1
            base_qty = qty * factor
            price, rule = self.prices.unit_price(cust, channel, idx, base_qty, at)
            if rule == "promotion":
                undiscounted = self.prices.list_price(idx, cust.currency)
                discount = (undiscounted - price) * base_qty
                price = undiscounted
                promo = self.prices.promotion_percent(idx, channel, base_qty, at)[1]
            else:
                discount, promo = 0, None
            lines.append(
                DraftLine(
                    idx, qty, "CS" if in_cases else "EA", base_qty, price * factor, discount, promo
                )
            )
        subtotal = sum(ln.unit_cents * ln.quantity - ln.discount_cents for ln in lines)
        service = ch.service_levels[0] if rng.random() < 0.8 else ch.service_levels[-1]
        if channel == "D2C":
            shipping = 1995 if service == "EXPRESS" else (0 if subtotal >= 7500 else 795)
        elif channel == "MARKETPLACE":
            shipping = 999
        else:
            shipping = 12500 if service == "LTL" else 0
        bps = 0 if cust.tax_exempt else TAX_BPS[channel]
        tax = (subtotal * bps + 5000) // 10000
        return DraftOrder(channel, cust_idx, cust.currency, lines, shipping, tax, bps, service)
