"""What one storefront holds: its listing, orders, inventory levels, prices,
fulfillments, webhook subscriptions, and what clients pushed to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.records import LiveOrder, StoreFulfillment
from sandbox.world import Channel, Item

STORE_LOCATIONS = ("DC-EAST", "DC-WEST", "3PL")


@dataclass(slots=True)
class CustomerStats:
    orders_count: int = 0
    total_spent_cents: int = 0
    last_order_seq: int | None = None
    last_order_number: int | None = None
    updated: int = 0


@dataclass
class Store:
    """One Shopify-contract storefront (B2B portal, D2C storefront or marketplace)."""

    channel: Channel
    items: list[int]
    families: list[tuple[str, list[int]]]
    customers: list[int]
    orders: list[LiveOrder] = field(default_factory=list)
    levels: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    prices: dict[int, tuple[int, int | None, int]] = field(default_factory=dict)
    product_updated: dict[int, int] = field(default_factory=dict)  # family position -> ts
    fulfillments: list[StoreFulfillment] = field(default_factory=list)
    customer_stats: dict[int, CustomerStats] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    # what clients pushed, in arrival order
    level_sets: list[dict[str, Any]] = field(default_factory=list)
    price_updates: list[dict[str, Any]] = field(default_factory=list)
    fulfillment_requests: list[dict[str, Any]] = field(default_factory=list)
    mutations: int = 0  # bumps whenever orders change (invalidates sorted indexes)

    def __post_init__(self) -> None:
        self.listed = set(self.items)
        self.family_of: dict[int, int] = {}
        for pos, (_, members) in enumerate(self.families):
            for i in members:
                self.family_of[i] = pos

    @property
    def code(self) -> str:
        return self.channel.code

    def selling_factor(self, item: Item) -> int:
        """Base units per selling unit in this store (case pack for a CS store)."""
        return item.case_pack if self.channel.selling_unit == "CS" and item.case_pack > 1 else 1

    def order_by_seq(self, seq: int) -> LiveOrder | None:
        if 1 <= seq <= len(self.orders):
            return self.orders[seq - 1]
        return None

    def order_by_number(self, number: int) -> LiveOrder | None:
        # numbers are consecutive from 1001 in creation order
        return self.order_by_seq(number - 1000)
