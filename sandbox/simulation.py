"""The world in motion: a simulated clock and everything each system holds.

`Simulation(world)` starts at the epoch with the world's state (history
orders in the storefronts, opening stock and allocations in the WMSs and the
3PL, open purchase orders at the suppliers) and `advance(hours)` plays
activity forward one simulated hour at a time:

1. new storefront orders (per channel mix, diurnal curve), payment updates,
   cancellations and edits of recent orders, storefront inventory decrements;
2. in each WMS: allocation of released orders (what is free; the rest is
   backordered and retried), picks two hours later, pick completion with
   occasional short picks (the missing units are written off), shipment
   confirmation with a carrier tracker; receipts of purchase orders into QC,
   QC release to sellable (or damaged); returns into returns inspection, then
   sellable or damaged;
3. at the 3PL: 940 shipping orders shipped after four hours (945 advice), a
   stock snapshot CSV every day at 06:00 UTC;
4. suppliers: 855 two hours after a PO, 856 on the ship date, 810 two hours
   later, daily 846 availability (drop-ship suppliers) at 05:00 UTC;
5. carriers: tracker milestones, EasyPost-style events; a few deliveries
   come back as returns;
6. a merchandiser edits a few storefront prices by hand every day at 09:00 UTC.

Every hour draws from its own `random.Random` (seed, hour), so advancing 48
hours at once or 24 twice gives the same world. Clients push into it
(`set_inventory_level`, `create_fulfillment`, `release`, `accept_file`, ...);
what they pushed is kept and exposed by `received()`. `truth()` is the
ground truth tests compare against.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox import carriers, procurement, warehouse
from sandbox.faults import FaultPlan
from sandbox.ids import hex_id
from sandbox.ledger import StockLedger
from sandbox.records import (
    AllocationRec,
    LiveLine,
    LiveOrder,
    OutFile,
    Pick,
    PurchaseOrderRec,
    Receipt,
    Release,
    ReleaseLine,
    ReturnRec,
    Shipment,
    ShipmentLine,
    StoreFulfillment,
    Tracker,
    WmsEvent,
)
from sandbox.store_state import STORE_LOCATIONS, CustomerStats, Store, drop_ship_location
from sandbox.timestamps import iso
from sandbox.truth import build_received, build_truth
from sandbox.world import StockStatus, World
from sandbox.worldgen.history import ZONE_LOCATIONS
from sandbox.worldgen.ordering import OrderMaker
from sandbox.worldgen.pricing import PriceBook
from sandbox.worldgen.rng import stream
from sandbox.worldgen.stock import pick_bin

#: Relative order volume per hour of the day (UTC).
DIURNAL = (2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 9, 8, 8, 8, 8, 9, 9, 8, 6, 4, 3)

WebhookHook = Callable[[str, str, Any, int], None]

#: Share of new orders the customer cancels 4 to 30 hours after placing them (besides the
#: 1.5% cancelled within 10 hours): late enough to find many released, picked or shipped.
LATE_CANCEL_SHARE = 0.02

#: Days before the epoch a backlog of orders is spread over (``Simulation.place_backlog``).
BACKLOG_DAYS = 30


class SimulationError(ValueError):
    """A client pushed something the system refuses; the message says why."""

    def __init__(
        self, message: str, status: int = 422, code: str = "invalid", details: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details


class Simulation:
    """See the module docstring."""

    def __init__(
        self, world: World, faults: FaultPlan | None = None, auto_release: bool = False
    ) -> None:
        self.world = world
        self.seed = world.seed
        self.faults = faults or FaultPlan()
        self.auto_release = auto_release
        self.epoch_ts = int(world.epoch.timestamp())
        self.hour = 0
        self.now = self.epoch_ts
        self.items = world.items
        self.sku_index = {it.sku: i for i, it in enumerate(world.items)}
        self.customers = world.customers
        self.customer_index = {c.code: i for i, c in enumerate(world.customers)}
        self.locations = {loc.code: loc for loc in world.locations}
        self.prices = PriceBook(
            world.items, world.customers, world.price_lists, world.contract_prices, world.promotions
        )
        self.maker = OrderMaker(
            self.seed, world.items, world.customers, world.channels, self.prices
        )
        self.ledger = StockLedger()
        for s in world.opening_stock:
            self.ledger.add(self.sku_index[s.sku], s.location, s.status, s.quantity)
        # what the storefronts were last told: sellable minus committed at the epoch
        self.opening_free: dict[tuple[int, str], int] = {}
        # warehouse state
        self.releases: dict[tuple[str, str], Release] = {}
        self.allocations: dict[int, AllocationRec] = {}
        self.picks: dict[int, Pick] = {}
        self.shipments: dict[str, Shipment] = {}
        self.receipts: list[Receipt] = []
        self.returns: list[ReturnRec] = []
        self.events: dict[str, list[WmsEvent]] = {"DC-EAST": [], "DC-WEST": []}
        self.delayed: list[tuple[int, int, str, Any]] = []  # (due hour, n, kind, payload)
        # suppliers and carriers
        self.purchase_orders: dict[str, PurchaseOrderRec] = {}
        self.trackers: dict[str, Tracker] = {}
        self.active_trackers: list[str] = []
        self.carrier_events: list[
            tuple[str, str, int, int]
        ] = []  # (event id, tracker id, done, recorded_at)
        self.availability: dict[tuple[str, int], int] = {}
        # files, notifications, logs
        self.files: list[OutFile] = []
        self.on_webhook: WebhookHook | None = None
        self.recent_webhooks: deque[dict[str, Any]] = deque(maxlen=500)
        self.x12_control: dict[str, int] = {}
        self.schedule: list[tuple[int, int, str, str, int]] = []  # (due, n, action, channel, seq)
        self.unreleased: deque[tuple[str, int]] = deque()
        self.unknown_sku_lines: list[dict[str, Any]] = []
        self.price_edits: list[dict[str, Any]] = []
        self.received_files: dict[str, list[dict[str, Any]]] = {}
        self.releases_received: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        # messages the sandbox's mail relay accepted (sandbox.smtp.Mailbox fills it)
        self.mailbox: list[dict[str, Any]] = []
        self._n = 0
        self.stores = self._build_stores()
        self._load_history()
        self.queues = warehouse.init_queues(self)
        self.procurement = procurement.ProcurementQueues()
        procurement.load_world_purchase_orders(self)
        warehouse.snapshot_3pl(self, self.now)
        procurement.opening_documents(self)

    # ------------------------------------------------------------------ setup

    def next_n(self) -> int:
        self._n += 1
        return self._n

    def _build_stores(self) -> dict[str, Store]:
        stores: dict[str, Store] = {}
        for ch in self.world.channels:
            listed = [i for i, it in enumerate(self.items) if ch.code in it.channels]
            fam: dict[str, list[int]] = {}
            for i in listed:
                fam.setdefault(self.items[i].family, []).append(i)
            families = sorted(fam.items())
            custs = [i for i, c in enumerate(self.customers) if c.channel == ch.code]
            drop_ship = sorted(
                {
                    drop_ship_location(self.items[i].drop_ship_supplier)
                    for i in listed
                    if self.items[i].drop_ship_supplier is not None
                }
            )
            stores[ch.code] = Store(
                ch, listed, families, custs, locations=(*STORE_LOCATIONS, *drop_ship)
            )
        committed: dict[tuple[int, str], int] = {}
        for a in self.world.opening_allocations:
            key = (self.sku_index[a.sku], a.location)
            committed[key] = committed.get(key, 0) + a.quantity
        for (item, loc, status), q in self.ledger.on_hand.items():
            if status is StockStatus.SELLABLE:
                free = q - committed.get((item, loc), 0)
                if free > 0:
                    self.opening_free[(item, loc)] = free
        return stores

    def _load_history(self) -> None:
        w = self.world
        rng = stream(self.seed, "history-sim")
        by_key: dict[str, LiveOrder] = {}
        for o in w.history_orders:
            store = self.stores[o.channel]
            seq = len(store.orders) + 1
            created = int(o.created_at.timestamp())
            lines = []
            for ln in o.lines:
                idx = self.sku_index[ln.sku]
                factor = self.items[idx].case_pack if ln.unit == "CS" else 1
                lines.append(
                    LiveLine(
                        ln.line_no,
                        idx,
                        ln.sku,
                        ln.quantity,
                        ln.unit,
                        ln.quantity * factor,
                        int(ln.unit_price * 100),
                        int(ln.discount * 100),
                    )
                )
            order = LiveOrder(
                channel=o.channel,
                seq=seq,
                number=o.number,
                customer=self.customer_index[o.customer],
                created=created,
                updated=created,
                currency=o.currency,
                lines=lines,
                shipping_cents=int(o.shipping * 100),
                tax_cents=int(o.tax * 100),
                tax_bps=0
                if not o.tax
                else round(
                    int(o.tax * 100)
                    * 10000
                    / max(1, sum(ln.unit_cents * ln.quantity - ln.discount_cents for ln in lines))
                ),
                service_level=o.service_level,
                financial_status=o.financial_status,
                ship_from=o.ship_from,
            )
            store.orders.append(order)
            self._count_customer(store, order)
            by_key[o.key] = order
            if o.state == "cancelled":
                order.cancelled_at = created + 2 * 3600
                order.cancel_reason = "customer"
                order.updated = order.cancelled_at
            elif o.state == "fulfilled":
                shipped = created + 26 * 3600
                self._history_shipment(order, shipped, rng)
        # releases for allocations held at the epoch
        grouped: dict[str, list] = {}
        for a in w.opening_allocations:
            grouped.setdefault(a.order_key, []).append(a)
        for key, allocs in grouped.items():
            order = by_key[key]
            loc = allocs[0].location
            rel = Release(
                release_id=f"HIST-{key}",
                location=loc,
                order_ref=key,
                channel=order.channel,
                ship_to=self.ship_to(order),
                service_level=order.service_level,
                lines=[],
                received_at=order.created + 3 * 3600,
                body_hash="",
                source="history",
                status="allocated",
                updated=order.created + 3 * 3600,
            )
            order.released_to = loc
            pick_allocs: list[int] = []
            for k, a in enumerate(allocs):
                idx = self.sku_index[a.sku]
                ref = f"{a.line_no}.{k + 1}"
                rel.lines.append(
                    ReleaseLine(
                        ref, a.sku, idx, a.quantity, allocated=a.quantity, status="allocated"
                    )
                )
                self.ledger.commit(idx, loc, a.quantity)
                aid = self.next_n()
                rec = AllocationRec(
                    aid,
                    rel.release_id,
                    ref,
                    idx,
                    loc,
                    a.quantity,
                    a.bin,
                    rel.received_at,
                    rel.received_at,
                    state=a.state,
                )
                self.allocations[aid] = rec
                if a.state == "picking":
                    pick_allocs.append(aid)
            if pick_allocs:
                pid = self.next_n()
                self.picks[pid] = Pick(pid, loc, rel.release_id, pick_allocs, self.epoch_ts - 3600)
                for aid in pick_allocs:
                    self.allocations[aid].pick_id = pid
                rel.status = "picking"
            self.releases[(loc, rel.release_id)] = rel
        for o in w.history_orders:
            if o.state == "open" and by_key[o.key].released_to is None:
                self.unreleased.append((o.channel, by_key[o.key].seq))

    def _history_shipment(self, order: LiveOrder, shipped: int, rng) -> None:
        loc = order.ship_from
        lines = [
            ShipmentLine(str(ln.line_no), ln.sku, ln.base_quantity, ln.base_quantity)
            for ln in order.lines
        ]
        shipment = self.new_shipment(
            loc,
            "3pl" if loc == "3PL" else "wms",
            order.key,
            None,
            lines,
            shipped,
            self.ship_to(order),
            order.channel,
            rng,
            emit=False,
        )
        store = self.stores[order.channel]
        fseq = len(store.fulfillments) + 1
        f = StoreFulfillment(
            fseq,
            order.seq,
            loc,
            [(ln.line_no, ln.quantity) for ln in order.lines],
            shipment.tracking_number,
            shipment.carrier,
            None,
            shipped,
            shipped,
        )
        store.fulfillments.append(f)
        order.fulfillments.append(f)
        for ln in order.lines:
            ln.fulfilled = ln.quantity
        order.updated = shipped
        if order.financial_status == "paid":
            order.closed_at = shipped

    # ------------------------------------------------------------------ helpers

    def ship_to(self, order: LiveOrder) -> dict[str, Any]:
        c = self.customers[order.customer]
        a = c.address
        return {
            "name": c.name,
            "line1": a.line1,
            "city": a.city,
            "region": a.region,
            "postal_code": a.postal_code,
            "country": a.country,
        }

    def _count_customer(self, store: Store, order: LiveOrder) -> None:
        st = store.customer_stats.get(order.customer)
        if st is None:
            st = store.customer_stats[order.customer] = CustomerStats()
        st.orders_count += 1
        st.total_spent_cents += order.total_cents
        st.last_order_seq = order.seq
        st.last_order_number = order.number
        st.updated = order.created

    def store_available(self, store: Store, item: int, loc: str) -> tuple[int, int]:
        """(available, updated_at) the storefront shows for an item at a location."""
        hit = store.levels.get((item, loc))
        if hit is not None:
            return hit
        it = self.items[item]
        if it.is_kit:
            qty = min(
                (
                    self.opening_free.get((self.sku_index[c.sku], loc), 0) // c.quantity
                    for c in it.kit_components
                ),
                default=0,
            )
        elif it.is_drop_ship:
            qty = 0
        else:
            qty = self.opening_free.get((item, loc), 0) // store.selling_factor(it)
        return qty, self.epoch_ts - 3600

    def webhook(self, system: str, topic: str, ref: Any, at: int) -> None:
        if self.on_webhook is not None:
            self.on_webhook(system, topic, ref, at)

    def wms_event(self, loc: str, type_: str, at: int, data: dict[str, Any]) -> None:
        """Record a WMS event (late_events may hold it back 6 simulated hours)."""
        if loc not in self.events:
            return
        n = self.faults.tick("wms_event")
        if self.faults.on("late_events") and n % 8 == 0:
            self.faults.record(
                "late_events", f"wms:{loc}", f"event {type_} held back 6 hours", occurred_at=at
            )
            heapq.heappush(
                self.delayed, (self.hour + 6, self.next_n(), "wms", (loc, type_, at, data))
            )
            return
        self._append_wms_event(loc, type_, at, data)

    def _append_wms_event(self, loc: str, type_: str, at: int, data: dict[str, Any]) -> None:
        feed = self.events[loc]
        seq = len(feed) + 1
        ev = WmsEvent(
            seq, "wev_" + hex_id(self.seed, loc, seq, length=24), type_, at, max(at, self.now), data
        )
        feed.append(ev)
        self.webhook(f"wms:{loc}", type_, ev, ev.recorded_at)

    def carrier_step(self, tr: Tracker, at: int) -> None:
        tr.done += 1
        tr.updated = at
        n = self.faults.tick("carrier_event")
        if self.faults.on("late_events") and n % 8 == 0:
            self.faults.record(
                "late_events",
                "carrier",
                f"{tr.id} step {tr.done} held back 6 hours",
                occurred_at=at,
            )
            heapq.heappush(
                self.delayed, (self.hour + 6, self.next_n(), "carrier", (tr.id, tr.done, at))
            )
            return
        self._append_carrier_event(tr.id, tr.done, max(at, self.now))

    def _append_carrier_event(self, tracker_id: str, done: int, recorded_at: int) -> None:
        eid = "evt_" + hex_id(self.seed, "evt", tracker_id, done)
        self.carrier_events.append((eid, tracker_id, done, recorded_at))
        self.webhook("carrier", "tracker.updated", (tracker_id, done, recorded_at), recorded_at)

    def new_shipment(
        self,
        loc: str,
        source: str,
        order_ref: str,
        release_id: str | None,
        lines: list[ShipmentLine],
        at: int,
        ship_to: dict[str, Any],
        channel: str | None,
        rng,
        emit: bool = True,
    ) -> Shipment:
        n = len(self.shipments) + 1
        carrier = carriers.carrier_for(loc, ship_to.get("country", "US"))
        tracker_id, code = carriers.new_tracking(self.seed, carrier, n)
        sid = f"SHP-{loc}-{n:07d}"
        service = "GROUND" if carrier != "CanadaPost" else "EXPEDITED"
        sh = Shipment(
            sid,
            loc,
            source,
            order_ref,
            release_id,
            lines,
            carrier,
            service,
            code,
            tracker_id,
            at,
            ship_to,
            channel,
        )
        self.shipments[sid] = sh
        origin = self.locations.get(loc)
        oc = (
            (origin.address.city, origin.address.region, origin.address.postal_code)
            if origin
            else (None, None, None)
        )
        plan = carriers.plan_for(rng, sh, oc)
        weight = sum(
            self.items[self.sku_index[ln.sku]].weight_grams * ln.quantity
            for ln in lines
            if ln.sku in self.sku_index
        )
        tr = Tracker(tracker_id, sid, carrier, code, at, plan, weight_oz=round(weight / 28.3495, 1))
        self.trackers[tracker_id] = tr
        if emit:
            self.active_trackers.append(tracker_id)
        else:  # history: milestones before the epoch already happened, silently
            while tr.done < len(plan) and plan[tr.done].at <= self.epoch_ts:
                tr.done += 1
            if tr.done < len(plan):
                self.active_trackers.append(tracker_id)
        return sh

    def x12_next(self, partner: str, count: int = 1) -> int:
        cur = self.x12_control.get(partner, 0)
        self.x12_control[partner] = cur + count
        return cur + 1

    def add_file(
        self, system: str, name: str, data: bytes, kind: str, at: int, edi: bool = True
    ) -> None:
        if edi:
            n = self.faults.tick("edi_file")
            if self.faults.on("truncated_edi") and n % 3 == 0:
                cut = int(len(data) * 0.6)
                data = data[:cut]
                self.faults.record("truncated_edi", system, f"{name} cut at byte {cut}", file=name)
        self.files.append(OutFile(system, name, data, at, kind))

    # ------------------------------------------------------------------ clock

    def advance(self, hours: int = 1, progress: Callable[[int, int], None] | None = None) -> None:
        """Play ``hours`` simulated hours of activity."""
        if hours < 0:
            raise ValueError("the clock only moves forward: hours must be >= 0")
        for k in range(hours):
            self._hour()
            if progress:
                progress(k + 1, hours)

    def _hour(self) -> None:
        h = self.hour
        t0 = self.epoch_ts + h * 3600
        t1 = t0 + 3600
        self.now = t0
        rng = stream(self.seed, "hour", h)
        self._release_delayed()
        self._new_orders(rng, t0)
        self._run_schedule(t1)
        if self.auto_release:
            self._auto_release(t0)
        for loc in ("DC-EAST", "DC-WEST"):
            warehouse.wms_hour(self, loc, t0, t1, stream(self.seed, "wms", loc, h))
        warehouse.tpl_hour(self, t0, t1, stream(self.seed, "3pl", h))
        procurement.supplier_hour(self, t0, t1, stream(self.seed, "suppliers", h))
        self._carrier_hour(t1, stream(self.seed, "carriers", h))
        if (h + 24) % 24 == 9:
            self._price_edits(t0 + 9 * 60, stream(self.seed, "price-edits", h))
        self.hour = h + 1
        self.now = t1

    def _release_delayed(self) -> None:
        while self.delayed and self.delayed[0][0] <= self.hour:
            _, _, kind, payload = heapq.heappop(self.delayed)
            if kind == "wms":
                loc, type_, at, data = payload
                self._append_wms_event(loc, type_, at, data)
            else:
                tid, done, _at = payload
                self._append_carrier_event(tid, done, self.epoch_ts + self.hour * 3600)

    # ------------------------------------------------------------------ orders

    def _new_orders(self, rng, t0: int) -> None:
        per_day = self.world.params.orders_per_day
        expected = per_day * DIURNAL[self.hour % 24] / sum(DIURNAL)
        n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        offsets = sorted(rng.randrange(3600) for _ in range(n))
        for off in offsets:
            at = t0 + off
            channel = self.maker.pick_channel(rng)
            draft = self.maker.make(rng, channel, datetime.fromtimestamp(at, UTC))
            if draft.lines:
                self._create_order(draft, at, rng)

    def _lines(self, draft) -> list[LiveLine]:
        return [
            LiveLine(
                k + 1,
                ln.item_idx,
                self.items[ln.item_idx].sku,
                ln.quantity,
                ln.unit,
                ln.base_quantity,
                ln.unit_cents,
                ln.discount_cents,
                promotion=ln.promotion,
            )
            for k, ln in enumerate(draft.lines)
        ]

    def _live_order(self, draft, seq: int, lines: list[LiveLine], at: int, rng) -> LiveOrder:
        """The storefront's record of a drafted order placed at ``at``."""
        cust = self.customers[draft.customer_idx]
        if draft.channel == "B2B":
            financial = "pending"
        elif draft.channel == "MARKETPLACE" and rng.random() < 0.1:
            financial = "pending"
        else:
            financial = "paid"
        subtotal = sum(ln.unit_cents * ln.quantity - ln.discount_cents for ln in lines)
        return LiveOrder(
            channel=draft.channel,
            seq=seq,
            number=1000 + seq,
            customer=draft.customer_idx,
            created=at,
            updated=at,
            currency=draft.currency,
            lines=lines,
            shipping_cents=draft.shipping_cents,
            tax_cents=(subtotal * draft.tax_bps + 5000) // 10000,
            tax_bps=draft.tax_bps,
            service_level=draft.service_level,
            financial_status=financial,
            ship_from=ZONE_LOCATIONS[cust.shipping_zone][0],
        )

    def place_backlog(
        self,
        channel: str,
        count: int,
        days: int = BACKLOG_DAYS,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Place ``count`` orders in ``channel``'s empty store, evenly over the ``days`` before
        the epoch, drafted by the same rules as every other order (``OrderMaker``).

        A backlog is history: like the world's history orders it is already reflected in
        the opening stock and levels, so it sends no webhooks, moves no levels and plans no
        later changes (playing time afterwards still changes orders placed after the epoch
        only). Same world and arguments, same backlog. It is how a benchmark gets a store
        with exactly ``count`` orders in seconds instead of simulating months."""
        store = self.stores[channel]
        if store.orders:
            raise SimulationError(
                f"the {channel} store already holds {len(store.orders)} orders; a backlog goes "
                "into an empty store: start the world with orders_per_day 0"
            )
        if count < 0 or days < 1:
            raise ValueError("a backlog needs count >= 0 and days >= 1")
        rng = stream(self.seed, "backlog", channel, count)
        start = self.epoch_ts - days * 86400
        span = days * 86400
        seq = 0
        while seq < count:
            at = start + (seq * span) // max(count, 1)
            draft = self.maker.make(rng, channel, datetime.fromtimestamp(at, UTC))
            if not draft.lines:
                continue
            seq += 1
            order = self._live_order(draft, seq, self._lines(draft), at, rng)
            store.orders.append(order)
            self._count_customer(store, order)
            if progress and (seq % 5000 == 0 or seq == count):
                progress(seq, count)
        store.mutations += 1

    def _create_order(self, draft, at: int, rng) -> LiveOrder:
        store = self.stores[draft.channel]
        seq = len(store.orders) + 1
        lines = self._lines(draft)
        n = self.faults.tick("order")
        if self.faults.on("malformed_records") and n % 40 == 0:
            sku = f"UNKNOWN-{n:05d}"
            lines.append(LiveLine(len(lines) + 1, -1, sku, 1, "EA", 1, 1999, 0))
            self.faults.record(
                "malformed_records",
                f"shopify:{draft.channel}",
                f"order #{1000 + seq} has unknown SKU {sku}",
                order=f"{draft.channel}#{1000 + seq}",
                sku=sku,
            )
            self.unknown_sku_lines.append({"order": f"{draft.channel}#{1000 + seq}", "sku": sku})
        order = self._live_order(draft, seq, lines, at, rng)
        financial = order.financial_status
        store.orders.append(order)
        store.mutations += 1
        self._count_customer(store, order)
        self.webhook(f"shopify:{store.code}", "orders/create", order, at)
        for ln in lines:
            if ln.item >= 0 and ln.item in store.listed:
                self._decrement_level(store, ln.item, ln.quantity, at)
        if financial == "pending" and draft.channel == "MARKETPLACE":
            self._plan(at + rng.randint(1, 3) * 3600, "pay", draft.channel, seq)
        r = rng.random()
        if r < 0.015:
            self._plan(at + rng.randint(1, 10) * 3600, "cancel", draft.channel, seq)
        elif r < 0.05:
            self._plan(at + rng.randint(1, 30) * 3600, "edit", draft.channel, seq)
        # a later change of mind, drawn from a stream of its own (the hour's draws above are
        # unchanged): by then the order is often released to a warehouse, picked or shipped,
        # so cancellations reach every stage (the hub compensates: docs/architecture.md)
        late = stream(self.seed, "late-cancel", draft.channel, seq)
        if late.random() < LATE_CANCEL_SHARE:
            self._plan(at + late.randint(4, 30) * 3600, "cancel", draft.channel, seq)
        if self.auto_release:
            self.unreleased.append((draft.channel, seq))
        return order

    def _decrement_level(self, store: Store, item: int, qty: int, at: int) -> None:
        # the order takes the quantity at the first location the item is stocked at that
        # has it (a drop-ship item: its supplier's location)
        stocked = store.stocked_at(item, self.items[item])
        chosen = stocked[0]
        for loc in stocked:
            if self.store_available(store, item, loc)[0] >= qty:
                chosen = loc
                break
        avail, _ = self.store_available(store, item, chosen)
        store.levels[(item, chosen)] = (avail - qty, at)
        self.webhook(f"shopify:{store.code}", "inventory_levels/update", (item, chosen), at)

    def _plan(self, due: int, action: str, channel: str, seq: int) -> None:
        heapq.heappush(self.schedule, (due, self.next_n(), action, channel, seq))

    def _run_schedule(self, t1: int) -> None:
        while self.schedule and self.schedule[0][0] < t1:
            due, _, action, channel, seq = heapq.heappop(self.schedule)
            store = self.stores[channel]
            order = store.order_by_seq(seq)
            if order is None or order.cancelled_at is not None:
                continue
            if action == "pay" and order.financial_status == "pending":
                order.financial_status = "paid"
            elif action == "cancel" and order.fulfillment_status is None:
                order.cancelled_at = due
                order.cancel_reason = "customer"
                order.financial_status = (
                    "refunded" if order.financial_status == "paid" else "voided"
                )
                order.closed_at = due
            elif action == "edit":
                order.tags = ", ".join(t for t in (order.tags, "reviewed") if t)
                order.note = "Customer asked for delivery before noon"
            else:
                continue
            order.updated = max(order.updated, due)
            store.mutations += 1
            self.webhook(f"shopify:{channel}", "orders/updated", order, due)

    def _auto_release(self, t0: int) -> None:
        while self.unreleased:
            channel, seq = self.unreleased[0]
            order = self.stores[channel].order_by_seq(seq)
            if order is None:
                self.unreleased.popleft()
                continue
            if order.created > t0 - 2 * 3600:
                break
            self.unreleased.popleft()
            if order.cancelled_at is not None or order.released_to is not None:
                continue
            loc = order.ship_from if order.ship_from != "3PL" else "DC-EAST"
            lines = []
            for ln in order.lines:
                if ln.item < 0:
                    continue
                it = self.items[ln.item]
                if it.is_drop_ship:
                    continue
                if it.is_kit:
                    for k, c in enumerate(it.kit_components):
                        lines.append(
                            ReleaseLine(
                                f"{ln.line_no}.{k + 1}",
                                c.sku,
                                self.sku_index[c.sku],
                                c.quantity * ln.base_quantity,
                            )
                        )
                else:
                    lines.append(ReleaseLine(str(ln.line_no), ln.sku, ln.item, ln.base_quantity))
            if not lines:
                continue
            rel = Release(
                f"AUTO-{order.key}",
                loc,
                order.key,
                channel,
                self.ship_to(order),
                order.service_level,
                lines,
                t0,
                "",
                "auto",
                updated=t0,
            )
            order.released_to = loc
            self.releases[(loc, rel.release_id)] = rel
            warehouse.enqueue_release(self, rel)
            self.wms_event(loc, "release.accepted", t0, warehouse.release_summary(rel))

    def _carrier_hour(self, t1: int, rng) -> None:
        still: list[str] = []
        for tid in self.active_trackers:
            tr = self.trackers[tid]
            while tr.done < len(tr.plan) and tr.plan[tr.done].at < t1:
                step = tr.plan[tr.done]
                self.carrier_step(tr, step.at)
                if step.status == "delivered":
                    self._maybe_return(tr, step.at, rng)
            if tr.done < len(tr.plan):
                still.append(tid)
        self.active_trackers = still

    def _maybe_return(self, tr: Tracker, at: int, rng) -> None:
        sh = self.shipments[tr.shipment_id]
        if sh.channel not in ("D2C", "MARKETPLACE") or rng.random() >= 0.04:
            return
        stocked = [
            ln
            for ln in sh.lines
            if ln.sku in self.sku_index and self.items[self.sku_index[ln.sku]].is_stocked
        ]
        if not stocked:
            return
        loc = sh.location if sh.location in ("DC-EAST", "DC-WEST") else "DC-EAST"
        ln = stocked[0]
        rma = f"RMA-{len(self.returns) + 1:07d}"
        self.returns.append(
            ReturnRec(
                rma,
                loc,
                sh.order_ref,
                sh.id,
                [(ln.sku, self.sku_index[ln.sku], 1)],
                at + rng.randint(3, 6) * 86400,
            )
        )

    def _price_edits(self, at: int, rng) -> None:
        store = self.stores["D2C"]
        if not store.items:
            return
        for _ in range(rng.randint(1, 3)):
            item = store.items[rng.randrange(len(store.items))]
            old = self.variant_price(store, item)[0]
            new = max(99, old + rng.choice((-500, -200, 100, 300, 1000)))
            store.prices[item] = (new, None, at)
            store.product_updated[store.family_of[item]] = at
            self.price_edits.append(
                {
                    "channel": "D2C",
                    "sku": self.items[item].sku,
                    "old": _money(old),
                    "new": _money(new),
                    "at": iso(at),
                }
            )

    # ------------------------------------------------------------------ storefront reads

    def variant_price(self, store: Store, item: int) -> tuple[int, int | None, int]:
        """(price cents per selling unit, compare-at cents, updated_at)."""
        hit = store.prices.get(item)
        if hit is not None:
            return hit
        it = self.items[item]
        factor = store.selling_factor(it)
        code = store.channel.price_list
        rows = self.prices.lists.get(code, {}).get(item)
        base = rows[0][1] if rows else self.prices.list_price(item, store.channel.currency)
        return base * factor, None, self.epoch_ts - 30 * 86400

    # ------------------------------------------------------------------ pushes (clients -> systems)

    def set_inventory_level(
        self,
        channel: str,
        item: int,
        loc: str,
        available: int,
        *,
        adjust: bool = False,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        store = self.stores[channel]
        if item not in store.listed:
            raise SimulationError(
                f"inventory item for {self.items[item].sku} is not stocked in this shop", 422
            )
        current, _ = self.store_available(store, item, loc)
        value = current + available if adjust else available
        store.levels[(item, loc)] = (value, self.now)
        store.level_sets.append(
            {
                "sku": self.items[item].sku,
                "location": loc,
                "available": value,
                "adjustment": available if adjust else None,
                "at": iso(self.now),
                "body": body,
            }
        )
        self.webhook(f"shopify:{channel}", "inventory_levels/update", (item, loc), self.now)
        return value, self.now

    def update_variant(
        self,
        channel: str,
        item: int,
        price_cents: int | None,
        compare_cents: int | None | str,
        body: dict[str, Any],
    ) -> None:
        store = self.stores[channel]
        old_price, old_compare, _ = self.variant_price(store, item)
        price = old_price if price_cents is None else price_cents
        compare = old_compare if compare_cents == "keep" else compare_cents
        store.prices[item] = (price, compare, self.now)
        store.product_updated[store.family_of[item]] = self.now
        store.price_updates.append(
            {
                "sku": self.items[item].sku,
                "price": _money(price),
                "compare_at_price": None if compare is None else _money(compare),
                "at": iso(self.now),
                "body": body,
            }
        )

    def create_fulfillment(
        self,
        channel: str,
        order: LiveOrder,
        lines: list[tuple[int, int]],
        tracking: dict[str, Any],
        notify: bool,
        body: dict[str, Any],
    ) -> StoreFulfillment:
        store = self.stores[channel]
        if order.cancelled_at is not None:
            raise SimulationError(f"order {order.key} is cancelled and cannot be fulfilled", 422)
        by_no = {ln.line_no: ln for ln in order.lines}
        for line_no, qty in lines:
            ln = by_no.get(line_no)
            if ln is None:
                raise SimulationError(f"order {order.key} has no line {line_no}", 422)
            if qty <= 0 or qty > ln.quantity - ln.fulfilled:
                raise SimulationError(
                    f"line {line_no} of {order.key}: cannot fulfil {qty}, "
                    f"{ln.quantity - ln.fulfilled} remain",
                    422,
                )
        for line_no, qty in lines:
            by_no[line_no].fulfilled += qty
        fseq = len(store.fulfillments) + 1
        number = tracking.get("number")
        f = StoreFulfillment(
            fseq,
            order.seq,
            order.ship_from,
            lines,
            number,
            tracking.get("company"),
            tracking.get("url"),
            self.now,
            self.now,
            notify_customer=notify,
        )
        store.fulfillments.append(f)
        order.fulfillments.append(f)
        order.updated = self.now
        if order.fulfillment_status == "fulfilled" and order.financial_status == "paid":
            order.closed_at = self.now
        store.mutations += 1
        store.fulfillment_requests.append(
            {
                "order": order.key,
                "fulfillment_seq": fseq,
                "lines": [{"line_no": a, "quantity": b} for a, b in lines],
                "tracking": tracking,
                "at": iso(self.now),
                "body": body,
            }
        )
        self.webhook(f"shopify:{channel}", "orders/updated", order, self.now)
        return f

    def release(self, loc: str, body: dict[str, Any]) -> tuple[int, Release]:
        """Accept a released order into a WMS; idempotent by ``release_id``.

        Returns (201, release) when new, (200, release) for an identical
        repeat. Raises `SimulationError` 409 when the id was used for a
        different body, 422 when the body is invalid (nothing is stored)."""
        errors: list[str] = []
        rid = body.get("release_id")
        if not isinstance(rid, str) or not rid.strip():
            errors.append(
                "release_id: required, a non-empty string chosen by the sender "
                "(the idempotency key)"
            )
        order_ref = body.get("order_ref")
        if not isinstance(order_ref, str) or not order_ref:
            errors.append("order_ref: required, the order this release fulfils")
        lines = body.get("lines")
        parsed: list[ReleaseLine] = []
        if not isinstance(lines, list) or not lines:
            errors.append("lines: required, a non-empty list of {line_ref, sku, quantity}")
        else:
            seen: set[str] = set()
            for k, ln in enumerate(lines):
                if not isinstance(ln, dict):
                    errors.append(f"lines[{k}]: must be an object")
                    continue
                ref, sku, qty = ln.get("line_ref"), ln.get("sku"), ln.get("quantity")
                if not isinstance(ref, str) or not ref or ref in seen:
                    errors.append(f"lines[{k}].line_ref: required, unique within the release")
                seen.add(str(ref))
                if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
                    errors.append(
                        f"lines[{k}].quantity: must be a positive integer (base units), got {qty!r}"
                    )
                idx = self.sku_index.get(sku) if isinstance(sku, str) else None
                if idx is None:
                    errors.append(f"lines[{k}].sku: unknown item {sku!r} in this warehouse")
                elif not self.items[idx].is_stocked:
                    kind = (
                        "a kit: release its components"
                        if self.items[idx].is_kit
                        else "drop-shipped by a supplier"
                    )
                    errors.append(f"lines[{k}].sku: {sku} is {kind}, not stocked here")
                else:
                    parsed.append(
                        ReleaseLine(str(ref), sku, idx, qty if isinstance(qty, int) else 0)
                    )
        if errors:
            raise SimulationError(
                "release rejected: " + "; ".join(errors), 422, "invalid_release", errors
            )
        digest = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        existing = self.releases.get((loc, rid))
        if existing is not None:
            if existing.body_hash == digest:
                return 200, existing
            raise SimulationError(
                f"release_id {rid!r} was already used for a different release; "
                "use a new id for a new release",
                409,
                "release_conflict",
            )
        ship_to = body.get("ship_to") if isinstance(body.get("ship_to"), dict) else {}
        rel = Release(
            rid,
            loc,
            order_ref,
            body.get("channel"),
            ship_to,
            body.get("service_level"),
            parsed,
            self.now,
            digest,
            "api",
            updated=self.now,
            payload=body,
        )
        self.releases[(loc, rid)] = rel
        warehouse.enqueue_release(self, rel)
        self.releases_received.append(
            {
                "location": loc,
                "release_id": rid,
                "order_ref": order_ref,
                "at": iso(self.now),
                "body": body,
            }
        )
        self.wms_event(loc, "release.accepted", self.now, warehouse.release_summary(rel))
        return 201, rel

    def accept_file(self, system: str, name: str, data: bytes) -> dict[str, Any]:
        """A file a client put in an outbox (850 for a supplier, 940 for the 3PL)."""
        if system == "3pl":
            return warehouse.accept_940(self, name, data)
        return procurement.accept_850(self, system.split(":", 1)[1], name, data)

    def log_file(self, system: str, entry: dict[str, Any]) -> None:
        self.received_files.setdefault(system, []).append(entry)

    # ------------------------------------------------------------------ control: change one record

    def touch_order(self, channel: str, number: int, change: str = "tag") -> LiveOrder:
        """Change one storefront order now (tag, note, or cancel), bumping
        updated_at, for incremental-load tests."""
        store = self.stores[channel]
        order = store.order_by_number(number)
        if order is None:
            raise SimulationError(f"{channel} has no order #{number}", 404, "not_found")
        if change == "tag":
            order.tags = ", ".join(t for t in (order.tags, f"touched-{len(self.changes) + 1}") if t)
        elif change == "note":
            order.note = f"note changed at {iso(self.now)}"
        elif change == "cancel":
            if order.fulfillment_status is not None:
                raise SimulationError(
                    f"order {order.key} is fulfilled; it cannot be cancelled", 422
                )
            order.cancelled_at = self.now
            order.cancel_reason = "other"
            order.closed_at = self.now
        else:
            raise SimulationError(f"unknown change {change!r}; use tag, note or cancel", 400)
        order.updated = max(self.now, order.updated + 1)
        store.mutations += 1
        self.changes.append(
            {"kind": "order", "key": order.key, "change": change, "at": iso(order.updated)}
        )
        self.webhook(f"shopify:{channel}", "orders/updated", order, order.updated)
        return order

    def touch_stock(self, loc: str, sku: str, delta: int) -> dict[str, Any]:
        """Adjust sellable stock of one item in a WMS (cycle count), with an event."""
        idx = self.sku_index.get(sku)
        if idx is None or not self.items[idx].is_stocked:
            raise SimulationError(f"{sku!r} is not a stocked item", 404, "not_found")
        if delta >= 0:
            self.ledger.add(idx, loc, StockStatus.SELLABLE, delta)
        else:
            if -delta > self.ledger.free(idx, loc):
                raise SimulationError(
                    f"only {self.ledger.free(idx, loc)} of {sku} free at {loc}", 422
                )
            self.ledger.remove(idx, loc, StockStatus.SELLABLE, -delta)
        self.wms_event(
            loc,
            "stock.adjusted",
            self.now,
            {
                "sku": sku,
                "bin": pick_bin(idx, loc),
                "status": "sellable",
                "quantity_change": delta,
                "reason": "cycle_count",
            },
        )
        entry = {"kind": "stock", "key": f"{sku}@{loc}", "change": delta, "at": iso(self.now)}
        self.changes.append(entry)
        return entry

    def touch_price(self, channel: str, sku: str, price_cents: int) -> dict[str, Any]:
        """Edit one variant's price in a storefront by hand (drift from what the hub published)."""
        store = self.stores[channel]
        idx = self.sku_index.get(sku)
        if idx is None or idx not in store.listed:
            raise SimulationError(
                f"{sku!r} is not listed in the {channel} storefront", 404, "not_found"
            )
        if price_cents < 0:
            raise SimulationError("a price cannot be negative", 422)
        old = self.variant_price(store, idx)[0]
        store.prices[idx] = (price_cents, None, self.now)
        store.product_updated[store.family_of[idx]] = self.now
        entry = {
            "channel": channel,
            "sku": sku,
            "old": _money(old),
            "new": _money(price_cents),
            "at": iso(self.now),
        }
        self.price_edits.append(entry)
        self.changes.append(
            {"kind": "price", "key": f"{channel}:{sku}", "change": entry["new"], "at": entry["at"]}
        )
        return entry

    # ------------------------------------------------------------------ truth and received

    def truth(self, sections: set[str] | None = None) -> dict[str, Any]:
        return build_truth(self, sections)

    def received(self) -> dict[str, Any]:
        return build_received(self)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
