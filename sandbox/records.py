"""Mutable records of the running simulation (what each system holds).

Timestamps are integer seconds since the Unix epoch (UTC); items are indexes
into `World.items` (-1 for a deliberately unknown SKU). The servers render
these records into each platform's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------------------
# storefronts


@dataclass(slots=True)
class LiveLine:
    line_no: int
    item: int
    sku: str
    quantity: int
    unit: str
    base_quantity: int
    unit_cents: int
    discount_cents: int
    fulfilled: int = 0
    promotion: str | None = None


@dataclass(slots=True)
class StoreFulfillment:
    """A fulfillment a client created on a storefront (or the history holds)."""

    seq: int
    order_seq: int
    location: str
    lines: list[tuple[int, int]]  # (line_no, quantity)
    tracking_number: str | None
    tracking_company: str | None
    tracking_url: str | None
    created: int
    updated: int
    status: str = "success"
    shipment_status: str | None = None
    notify_customer: bool = False


@dataclass(slots=True)
class LiveOrder:
    channel: str
    seq: int  # position in the store, from 1; the id's sequence
    number: int  # order_number, from 1001
    customer: int  # index into World.customers
    created: int
    updated: int
    currency: str
    lines: list[LiveLine]
    shipping_cents: int
    tax_cents: int
    tax_bps: int
    service_level: str
    financial_status: str
    ship_from: str
    cancelled_at: int | None = None
    cancel_reason: str | None = None
    closed_at: int | None = None
    note: str | None = None
    tags: str = ""
    fulfillments: list[StoreFulfillment] = field(default_factory=list)
    released_to: str | None = (
        None  # location the sandbox itself released it to (history/auto-release)
    )

    @property
    def key(self) -> str:
        return f"{self.channel}#{self.number}"

    @property
    def subtotal_cents(self) -> int:
        return sum(ln.unit_cents * ln.quantity - ln.discount_cents for ln in self.lines)

    @property
    def discount_cents(self) -> int:
        return sum(ln.discount_cents for ln in self.lines)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.shipping_cents + self.tax_cents

    @property
    def fulfillment_status(self) -> str | None:
        ordered = sum(ln.quantity for ln in self.lines)
        done = sum(ln.fulfilled for ln in self.lines)
        if done == 0:
            return None
        return "fulfilled" if done >= ordered else "partial"


# ---------------------------------------------------------------------------
# warehouses (WMS and 3PL)


@dataclass(slots=True)
class ReleaseLine:
    line_ref: str
    sku: str
    item: int
    quantity: int
    allocated: int = 0
    shipped: int = 0
    status: str = (
        # open|allocated|partially_allocated|backordered|rejected|shipped|short_shipped|cancelled
        "open"
    )
    reason: str | None = None


@dataclass(slots=True)
class Release:
    """An order released to a warehouse (WMS release or 3PL 940)."""

    release_id: str
    location: str
    order_ref: str
    channel: str | None
    ship_to: dict[str, Any]
    service_level: str | None
    lines: list[ReleaseLine]
    received_at: int
    body_hash: str
    source: str  # "api" (client), "940" (client file), "history", "auto"
    status: str = "accepted"
    updated: int = 0
    shipment_id: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(slots=True)
class AllocationRec:
    id: int
    release_id: str
    line_ref: str
    item: int
    location: str
    quantity: int
    bin: str
    created: int
    updated: int
    state: str = "allocated"  # allocated|picking|picked|cancelled
    pick_id: int | None = None
    picked: int = 0


@dataclass(slots=True)
class Pick:
    id: int
    location: str
    release_id: str
    allocation_ids: list[int]
    created: int
    state: str = "open"  # open|done|short|cancelled
    completed: int | None = None


@dataclass(slots=True)
class ShipmentLine:
    line_ref: str
    sku: str
    quantity: int
    ordered: int


@dataclass(slots=True)
class Shipment:
    id: str
    location: str  # DC-EAST, DC-WEST, 3PL or a supplier code (drop-ship)
    source: str  # wms|3pl|supplier
    order_ref: str
    release_id: str | None
    lines: list[ShipmentLine]
    carrier: str
    service: str
    tracking_number: str
    tracker_id: str
    shipped_at: int
    ship_to: dict[str, Any]
    channel: str | None = None


@dataclass(slots=True)
class ReceiptLine:
    sku: str
    item: int
    expected: int
    received: int


@dataclass(slots=True)
class Receipt:
    id: str
    location: str
    po_number: str
    asn_id: str | None
    lines: list[ReceiptLine]
    received_at: int
    qc_release_at: int
    qc_done: bool = False


@dataclass(slots=True)
class ReturnRec:
    id: str  # RMA
    location: str
    order_ref: str
    shipment_id: str
    lines: list[tuple[str, int, int]]  # (sku, item, quantity)
    arrives_at: int
    received_at: int | None = None
    inspect_at: int | None = None
    state: str = "expected"  # expected|inspection|closed
    outcome: list[tuple[str, int, str]] = field(default_factory=list)  # (sku, qty, status)


@dataclass(slots=True)
class WmsEvent:
    seq: int
    id: str
    type: str
    occurred_at: int
    recorded_at: int
    data: dict[str, Any]


# ---------------------------------------------------------------------------
# suppliers and carriers


@dataclass(slots=True)
class PoLine:
    line_no: int
    sku: str
    item: int
    quantity: int
    unit_cost_cents: int
    acked: int = 0
    ack_code: str = "IA"
    shipped: int = 0


@dataclass(slots=True)
class PurchaseOrderRec:
    number: str
    supplier: str
    location: str | None  # ship-to location; None for drop-ship to a customer
    ship_to: dict[str, Any]
    lines: list[PoLine]
    ordered_at: int
    ack_at: int
    ship_at: int
    arrive_at: int
    source: str  # "world" (open at the epoch) or "850" (client file)
    state: str = "open"  # open|acknowledged|shipped|received|invoiced
    drop_ship: bool = False
    asn_id: str | None = None
    invoice_no: str | None = None
    invoiced: bool = False
    received: bool = False
    order_ref: str | None = None  # drop-ship: the customer order


@dataclass(slots=True)
class TrackerStep:
    at: int
    status: str
    status_detail: str
    message: str
    city: str | None
    state: str | None
    zip: str | None
    country: str | None = None


@dataclass(slots=True)
class Tracker:
    id: str
    shipment_id: str
    carrier: str
    tracking_code: str
    created: int
    plan: list[TrackerStep]
    done: int = 0  # how many plan steps have happened
    updated: int = 0
    weight_oz: float = 0.0

    @property
    def status(self) -> str:
        return self.plan[self.done - 1].status if self.done else "unknown"


@dataclass(slots=True)
class OutFile:
    """A file a system drops for the hub (EDI, CSV)."""

    system: str  # "3pl" or "supplier:<CODE>"
    name: str
    data: bytes
    created: int
    kind: str  # "846", "855", "856", "810", "945", "stock_csv"
    written: bool = False
