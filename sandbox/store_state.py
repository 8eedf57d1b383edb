"""What one storefront holds: its listing, orders, inventory levels, prices,
fulfillments, webhook subscriptions, and what clients pushed to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.records import LiveOrder, StoreFulfillment
from sandbox.world import Channel, Item

#: The own locations every store has (Shopify Locations named as the ERP's warehouses).
STORE_LOCATIONS = ("DC-EAST", "DC-WEST", "3PL")


def drop_ship_location(supplier: str) -> str:
    """The store location standing for a drop-ship supplier: a Shopify Location named
    ``DROPSHIP-<supplier code>`` (the hub's code for that supplier's drop-ship location)
    that stocks only the supplier's drop-ship items, tracked there."""
    return f"DROPSHIP-{supplier}"


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
    # the store's locations in id order: the own ones, then one per drop-ship supplier whose
    # items the store lists
    locations: tuple[str, ...] = STORE_LOCATIONS
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

    def stocks(self, item: int, it: Item, loc: str) -> bool:
        """Whether the item has an inventory level at the store location: a drop-ship item at
        its supplier's location, any other at the own locations; or wherever a client set or
        connected one (Shopify connects an item to a location on ``set``)."""
        if it.drop_ship_supplier is not None:
            home = loc == drop_ship_location(it.drop_ship_supplier)
        else:
            home = loc in STORE_LOCATIONS
        return home or (item, loc) in self.levels

    def stocked_at(self, item: int, it: Item) -> list[str]:
        """The store locations the item has a level at, in location order."""
        return [loc for loc in self.locations if self.stocks(item, it, loc)]

    def order_by_seq(self, seq: int) -> LiveOrder | None:
        if 1 <= seq <= len(self.orders):
            return self.orders[seq - 1]
        return None

    def order_by_number(self, number: int) -> LiveOrder | None:
        # numbers are consecutive from 1001 in creation order
        return self.order_by_seq(number - 1000)
