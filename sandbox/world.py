"""The distributor's world: plain, typed, immutable records (`sandbox.worldgen.generate_world`
makes one).

This module is the contract between the sandbox and everything seeded from it
(the sandbox servers, and the real ERP, Tryton, which a colleague seeds from
the same seed). Keep it stable: add fields with defaults, never rename.

The world is *the state at the epoch* (a fixed instant in 2026) plus a short
pre-epoch history that every system already agrees on (with deliberate,
listed exceptions in the ``discrepancies`` scenario):

* master data: units, items (case packs, kits, drop-ship items), locations
  (two own distribution centres with a WMS each, one 3PL), channels (B2B portal,
  D2C storefront, marketplace), customers with payment terms and credit limits,
  suppliers trading on X12, price lists, customer contract prices, promotions
  with quantity breaks and validity dates, two currencies;
* physical stock at the epoch per item, location and status
  (``opening_stock``, what the WMS and the 3PL hold), what the ERP books say
  (``erp_stock``), allocations and open picks for released orders
  (``opening_allocations``);
* the storefront orders placed before the epoch (``history_orders``) and the
  ERP sales orders made from them (``erp_sales_orders``), open purchase orders
  (``open_purchase_orders``).

Activity after the epoch (new orders, picks, shipments, carrier milestones,
returns, receipts, EDI documents) is not part of the world: the simulation in
``sandbox.simulation`` plays it forward, deterministically, from this state.

Consistency rules (checked by ``World.check()`` and by the tests):

* every SKU referenced anywhere (kit components, stock, orders, POs, prices)
  exists in ``items``; kits have no stock of their own; drop-ship items have no
  stock in own locations;
* stock quantities are positive integers in the item's base unit;
* per item and location, committed (allocated + picking) never exceeds the
  sellable on-hand;
* money is ``Decimal`` with two places; each record names its currency.

Same arguments, same world, byte for byte: all randomness comes from
``random.Random`` instances seeded from the arguments; nothing reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

#: The instant the world describes: Monday 2 March 2026, 00:00 UTC.
EPOCH = datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC)

#: How many days of history before the epoch every system already holds.
HISTORY_DAYS = 2

SCENARIOS = ("clean", "discrepancies")


class StockStatus(StrEnum):
    """The status of a unit of stock in a bin. Only ``sellable`` can be sold."""

    SELLABLE = "sellable"
    DAMAGED = "damaged"
    QC = "qc"
    RETURNS_INSPECTION = "returns_inspection"


class LocationKind(StrEnum):
    DISTRIBUTION_CENTER = "distribution_center"
    THIRD_PARTY_LOGISTICS = "third_party_logistics"


class ChannelKind(StrEnum):
    B2B_PORTAL = "b2b_portal"
    D2C_STOREFRONT = "d2c_storefront"
    MARKETPLACE = "marketplace"


class CustomerKind(StrEnum):
    B2B = "b2b"
    D2C_GUEST = "d2c_guest"
    MARKETPLACE_BUYER = "marketplace_buyer"


# ---------------------------------------------------------------------------
# master data


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and the step prices in it are rounded to."""

    code: str
    name: str
    rounding: Decimal = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure. Items are stocked in their ``unit``; a case is
    ``Item.case_pack`` of them."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class KitComponent:
    """One component of a kit (bill of materials): ``quantity`` base units."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Item:
    """A sellable item (SKU).

    ``family`` groups items that a storefront shows as variants of one product;
    ``option`` is the variant's option value. ``case_pack`` is how many base
    units a case holds (1 = not sold in cases). Prices are in ``currency`` per
    base unit. A kit has ``kit_components`` and no stock of its own; a
    drop-ship item has a ``drop_ship_supplier`` and no stock in own locations.
    ``channels`` lists the channel codes whose storefront lists the item.
    """

    sku: str
    name: str
    family: str
    option: str
    category: str
    unit: str
    case_pack: int
    weight_grams: int
    list_price: Decimal
    cost_price: Decimal
    currency: str
    barcode: str
    supplier: str
    supplier_part: str
    kit_components: tuple[KitComponent, ...] = ()
    drop_ship_supplier: str | None = None
    channels: tuple[str, ...] = ()
    safety_stock: int = 0

    @property
    def is_kit(self) -> bool:
        return bool(self.kit_components)

    @property
    def is_drop_ship(self) -> bool:
        return self.drop_ship_supplier is not None

    @property
    def is_stocked(self) -> bool:
        """Whether own locations hold stock of this item (not kits, not drop-ship)."""
        return not self.kit_components and self.drop_ship_supplier is None


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    region: str  # state or province code
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str = ""


@dataclass(frozen=True, slots=True)
class Location:
    """A place that holds stock: an own distribution centre (one WMS each) or
    a 3PL (file drop)."""

    code: str
    name: str
    kind: LocationKind
    system: str  # "wms" or "3pl"
    address: Address
    shipping_zone: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Channel:
    """A sales channel, each with its own storefront (Shopify contract).

    ``selling_unit`` is ``"EA"`` (eaches) or ``"CS"``: a ``"CS"`` channel sells
    items whose case pack is above 1 by the case, so its order quantities and
    inventory levels are in cases. ``utc_offset`` is the shop's fixed offset
    used in its timestamps (no daylight saving in the sandbox).
    """

    code: str
    name: str
    kind: ChannelKind
    platform: str
    currency: str
    selling_unit: str
    price_list: str
    service_levels: tuple[str, ...]
    shop_domain: str
    utc_offset: str


@dataclass(frozen=True, slots=True)
class PaymentTerm:
    code: str
    name: str
    net_days: int
    discount_percent: Decimal = Decimal("0")
    discount_days: int = 0


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer. B2B customers have payment terms, a credit limit, a price
    list and possibly contract prices; D2C guests and marketplace buyers pay
    at checkout (``payment_term`` "PREPAID", no credit limit)."""

    code: str
    name: str
    kind: CustomerKind
    channel: str
    email: str
    phone: str
    currency: str
    payment_term: str
    credit_limit: Decimal
    price_list: str | None
    shipping_zone: str
    address: Address
    tax_exempt: bool = False
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class EdiProfile:
    """How a trading partner writes X12: its interchange ids and delimiters.

    ``segment_suffix`` is what follows each segment terminator ("" or a line
    break); ``transactions_per_group`` > 1 batches several transaction sets in
    one functional group; ``groups_per_interchange`` > 1 puts different
    document types in one interchange.
    """

    isa_qualifier: str
    isa_id: str
    gs_id: str
    element_separator: str
    component_separator: str
    segment_terminator: str
    segment_suffix: str
    repetition_separator: str
    isa_version: str
    gs_version: str
    transactions_per_group: int = 1
    groups_per_interchange: int = 1


@dataclass(frozen=True, slots=True)
class Supplier:
    """A supplier on EDI: receives 850s, sends 855, 856, 810 and (drop-ship
    suppliers) 846 availability."""

    code: str
    name: str
    currency: str
    lead_time_days: int
    payment_term: str
    drop_ships: bool
    edi: EdiProfile


#: The hub's own X12 identity (receiver of supplier documents, sender of 850s).
HUB_EDI = EdiProfile(
    isa_qualifier="ZZ",
    isa_id="DISTROHUB",
    gs_id="DISTROHUB",
    element_separator="*",
    component_separator=">",
    segment_terminator="~",
    segment_suffix="\n",
    repetition_separator="U",
    isa_version="00401",
    gs_version="004010",
)


# ---------------------------------------------------------------------------
# prices


@dataclass(frozen=True, slots=True)
class PriceListLine:
    """A price for ``sku`` from ``min_quantity`` base units up (a quantity break)."""

    sku: str
    price: Decimal
    min_quantity: int = 1


@dataclass(frozen=True, slots=True)
class PriceList:
    code: str
    name: str
    currency: str
    lines: tuple[PriceListLine, ...]


@dataclass(frozen=True, slots=True)
class ContractPrice:
    """A customer's negotiated price for a SKU, valid ``valid_from`` (inclusive)
    to ``valid_to`` (exclusive, None = open ended), from ``min_quantity`` up."""

    customer: str
    sku: str
    price: Decimal
    currency: str
    valid_from: datetime
    valid_to: datetime | None
    min_quantity: int = 1


@dataclass(frozen=True, slots=True)
class QuantityBreak:
    min_quantity: int
    discount_percent: Decimal


@dataclass(frozen=True, slots=True)
class Promotion:
    """A percentage discount on ``skus`` in ``channels`` while valid; the
    applicable break is the highest ``min_quantity`` not above the quantity."""

    code: str
    name: str
    channels: tuple[str, ...]
    skus: tuple[str, ...]
    breaks: tuple[QuantityBreak, ...]
    valid_from: datetime
    valid_to: datetime


# ---------------------------------------------------------------------------
# stock and documents at the epoch


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Physical on-hand at the epoch, in base units."""

    sku: str
    location: str
    status: StockStatus
    quantity: int


@dataclass(frozen=True, slots=True)
class BookStock:
    """What the ERP's books say is on hand per item and warehouse at the epoch
    (all statuses together, base units)."""

    sku: str
    location: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A storefront order line. ``quantity`` is in the channel's selling unit
    (``unit``: "EA" or "CS": a case is ``Item.case_pack`` base units);
    ``unit_price`` is per that unit before any promotion, ``discount`` the
    line's promotion discount in total. Line amount = price x qty - discount."""

    line_no: int
    sku: str
    quantity: int
    unit: str
    unit_price: Decimal
    discount: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Order:
    """A storefront order placed before the epoch.

    ``number`` is the storefront's sequence (shown as ``#number``), ``state``
    one of ``open`` (not shipped), ``fulfilled``, ``cancelled``;
    ``ship_from`` the location it was (or is being) fulfilled from.
    """

    channel: str
    number: int
    customer: str
    created_at: datetime
    currency: str
    lines: tuple[OrderLine, ...]
    shipping: Decimal
    tax: Decimal
    state: str
    ship_from: str
    financial_status: str
    service_level: str

    @property
    def subtotal(self) -> Decimal:
        return sum(
            (ln.unit_price * ln.quantity - ln.discount for ln in self.lines), Decimal("0.00")
        )

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax

    @property
    def key(self) -> str:
        """A stable key: ``<channel>#<number>``."""
        return f"{self.channel}#{self.number}"


@dataclass(frozen=True, slots=True)
class ErpSalesOrder:
    """A sales order in the ERP made from a storefront order before the epoch.

    ``reference`` is the storefront order's key (``Order.key``); ``state`` is
    Tryton's (``processing`` or ``done`` or ``cancelled``); ``shipment_state``
    ``waiting`` (not shipped yet, or shipped but not posted) or ``done``.
    """

    reference: str
    channel: str
    customer: str
    currency: str
    order_date: datetime
    lines: tuple[OrderLine, ...]
    total: Decimal
    state: str
    shipment_state: str
    warehouse: str


@dataclass(frozen=True, slots=True)
class Allocation:
    """Stock committed at the epoch to a released order line: ``state`` is
    ``allocated`` (reserved, not yet picked) or ``picking`` (an open pick)."""

    order_key: str
    line_no: int
    sku: str
    location: str
    quantity: int
    state: str
    bin: str


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    line_no: int
    sku: str
    quantity: int
    unit_cost: Decimal


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """An open purchase order at the epoch, shipping to ``location``."""

    number: str
    supplier: str
    location: str
    order_date: datetime
    expected_date: datetime
    currency: str
    lines: tuple[PurchaseOrderLine, ...]
    state: str = "confirmed"

    @property
    def total(self) -> Decimal:
        return sum((ln.unit_cost * ln.quantity for ln in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A difference deliberately planted between systems (scenario
    ``discrepancies``); reconciliation must find exactly these.

    ``kind`` is one of: ``order_missing_in_erp``, ``order_duplicated_in_erp``,
    ``order_total_mismatch``, ``shipment_unposted``, ``onhand_mismatch``,
    ``invoice_po_mismatch``. ``key`` identifies the record (order key, PO
    number, ``sku@location``); ``detail`` holds the values on each side.
    """

    kind: str
    key: str
    systems: tuple[str, ...]
    detail: dict[str, str]


# ---------------------------------------------------------------------------
# the world


@dataclass(frozen=True, slots=True)
class WorldParams:
    seed: int
    skus: int
    orders_per_day: int
    days: int
    scenario: str
    epoch: datetime = EPOCH


@dataclass(slots=True)
class World:
    """Everything the systems hold at the epoch. See the module docstring."""

    params: WorldParams
    currencies: tuple[Currency, ...]
    fx_rates: dict[str, Decimal]  # "USD/CAD" -> CAD per USD
    units: tuple[Unit, ...]
    items: tuple[Item, ...]
    locations: tuple[Location, ...]
    channels: tuple[Channel, ...]
    payment_terms: tuple[PaymentTerm, ...]
    customers: tuple[Customer, ...]
    suppliers: tuple[Supplier, ...]
    price_lists: tuple[PriceList, ...]
    contract_prices: tuple[ContractPrice, ...]
    promotions: tuple[Promotion, ...]
    opening_stock: tuple[StockLevel, ...]
    erp_stock: tuple[BookStock, ...]
    opening_allocations: tuple[Allocation, ...]
    history_orders: tuple[Order, ...]
    erp_sales_orders: tuple[ErpSalesOrder, ...]
    open_purchase_orders: tuple[PurchaseOrder, ...]
    discrepancies: tuple[Discrepancy, ...]
    _sku_index: dict[str, int] = field(default_factory=dict, repr=False)

    # -- lookups --------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.params.seed

    @property
    def epoch(self) -> datetime:
        return self.params.epoch

    def sku_index(self, sku: str) -> int:
        """Position of ``sku`` in ``items``; KeyError if unknown."""
        if not self._sku_index:
            self._sku_index.update((it.sku, i) for i, it in enumerate(self.items))
        return self._sku_index[sku]

    def item(self, sku: str) -> Item:
        return self.items[self.sku_index(sku)]

    def location(self, code: str) -> Location:
        return _by_code(self.locations, code, "location")

    def channel(self, code: str) -> Channel:
        return _by_code(self.channels, code, "channel")

    def customer(self, code: str) -> Customer:
        return _by_code(self.customers, code, "customer")

    def supplier(self, code: str) -> Supplier:
        return _by_code(self.suppliers, code, "supplier")

    def price_list(self, code: str) -> PriceList:
        return _by_code(self.price_lists, code, "price list")

    # -- consistency ----------------------------------------------------------

    def check(self) -> list[str]:
        """Return the broken consistency rules (empty when the world is sound)."""
        problems: list[str] = []
        skus = {it.sku for it in self.items}
        if len(skus) != len(self.items):
            problems.append("duplicate SKUs in items")
        by_sku = {it.sku: it for it in self.items}
        for it in self.items:
            for comp in it.kit_components:
                if comp.sku not in skus:
                    problems.append(f"kit {it.sku}: component {comp.sku} does not exist")
                elif by_sku[comp.sku].is_kit:
                    problems.append(f"kit {it.sku}: component {comp.sku} is itself a kit")
        sellable: dict[tuple[str, str], int] = {}
        for s in self.opening_stock:
            if s.sku not in skus:
                problems.append(f"stock for unknown SKU {s.sku}")
                continue
            if s.quantity <= 0:
                problems.append(f"non-positive stock {s}")
            if not by_sku[s.sku].is_stocked:
                problems.append(f"stock held for unstocked item {s.sku}")
            if s.status is StockStatus.SELLABLE:
                sellable[(s.sku, s.location)] = sellable.get((s.sku, s.location), 0) + s.quantity
        committed: dict[tuple[str, str], int] = {}
        for a in self.opening_allocations:
            committed[(a.sku, a.location)] = committed.get((a.sku, a.location), 0) + a.quantity
        for key, qty in committed.items():
            if qty > sellable.get(key, 0):
                problems.append(f"committed {qty} > sellable {sellable.get(key, 0)} for {key}")
        for o in self.history_orders:
            for ln in o.lines:
                if ln.sku not in skus:
                    problems.append(f"order {o.key}: unknown SKU {ln.sku}")
        for po in self.open_purchase_orders:
            for pl in po.lines:
                if pl.sku not in skus:
                    problems.append(f"PO {po.number}: unknown SKU {pl.sku}")
        for pl in self.price_lists:
            for line in pl.lines:
                if line.sku not in skus:
                    problems.append(f"price list {pl.code}: unknown SKU {line.sku}")
        return problems


def _by_code(records, code: str, what: str):
    for r in records:
        if r.code == code:
            return r
    known = ", ".join(r.code for r in records[:20])
    raise KeyError(f"unknown {what} {code!r} (known: {known})")
