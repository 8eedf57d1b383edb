"""Shipments posted and invoices posted per second in the embedded Tryton (``erp_shipments``).

A fresh clone of the bench cluster's Tryton template, seeded with a small sandbox world
(products, customers, stock), gets ``shipments`` sales created and confirmed in batches, as the
sales-order transport makes them (invoiced on fulfillment, a charges line). Then one confirmed
shipment per sale, three in four complete and one in four partial (Tryton's backorder left
open), goes through the ``tryton_shipment_postings`` transport in its batches: each shipment
taken to done, the sale processed, the invoice compared with the expected total and posted.
The clock runs from the first send to the last outcome; the hub's gate, diff and outbox are not
in it (the ERP side is what this measures; ``erp`` measures the intake through the outbox).
Every posting is then checked in Tryton: one done shipment carrying its key, one posted
invoice of the right total.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

from bench.context import BenchContext
from bench.erp import SEED, bench_erp, seed_erp, world_knobs
from bench.report import Measurement
from dagster_project.connectors.tryton import (
    SalesOrderLine,
    SalesOrderRequest,
    TrytonClient,
)
from dagster_project.connectors.tryton_fulfillment import key_of
from dagster_project.publish.transports.base import Message, Status
from dagster_project.publish.transports.tryton import INVOICE_METHOD
from dagster_project.publish.transports.tryton_shipments import BATCH_SIZE, TrytonShipmentPostings

TARGET_RATE = 20.0  # shipments/s on 2 cores (issue 19)
MIN_SHIPMENTS = 50
PRICE = Decimal("10.50")
CHARGES = Decimal("4.75")


class _TimedClient(TrytonClient):
    """The client, with the seconds spent in each model method (``model.method``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.spent: dict[str, float] = {}

    def execute(self, model: str, method: str, *args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return super().execute(model, method, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            key = f"{model}.{method}"
            self.spent[key] = self.spent.get(key, 0.0) + time.perf_counter() - started


def run(ctx: BenchContext) -> Measurement:
    wanted = max(ctx.scale.erp_orders, MIN_SHIPMENTS)
    knobs = world_knobs(10)
    m = Measurement(
        "erp_shipments",
        "ERP shipment posting and invoicing (Tryton)",
        params={"shipments": wanted, "seed": SEED, "batch_size": BATCH_SIZE},
    )
    with bench_erp(ctx) as erp:
        seed_erp(ctx, erp, knobs)
        with _TimedClient(erp.credentials) as client:
            products = [
                r["code"]
                for r in client.read_all(
                    "product.product", [["type", "=", "goods"], ["salable", "=", True]], ["code"]
                )[:2]
            ]
            codes = {
                r["code"]: r["id"]
                for r in client.read_all("product.product", [["code", "in", products]], ["code"])
            }
            (party,) = client.read_all("party.party", [["code", "like", "B2B-%"]], ["code"])[:1]
            ctx.step(f"ERP: {wanted} sales created and confirmed (invoiced on fulfillment)")
            started = time.perf_counter()
            references = [f"BENCH-SHIP-{n:05d}" for n in range(wanted)]
            requests = [
                SalesOrderRequest(
                    reference=ref,
                    party=party["id"],
                    lines=(
                        SalesOrderLine(codes[products[0]], 4, PRICE),
                        SalesOrderLine(codes[products[1]], 2, PRICE),
                        SalesOrderLine(None, 1, CHARGES, description="Shipping, tax and discounts"),
                    ),
                    invoice_method=INVOICE_METHOD,
                )
                for ref in references
            ]
            made = client.create_sales_orders(requests, batch_size=100)
            intake_s = time.perf_counter() - started
            failed = [o for o in made if not o.ok]
            if failed:
                raise RuntimeError(
                    f"erp_shipments bench: {len(failed)} sales were not created in Tryton "
                    f"(first: {failed[0].error}); see the trytond log"
                )
            messages = [_message(n, ref, products) for n, ref in enumerate(references)]
            ctx.step(f"publish: {len(messages)} shipments through tryton_shipment_postings")
            transport = TrytonShipmentPostings(client)
            client.spent.clear()
            started = time.perf_counter()
            outcomes = list(transport.send(messages))
            seconds = time.perf_counter() - started
            spent = dict(client.spent)
            load = os.getloadavg()[0]
            ctx.step("verify: one done shipment and one posted invoice per sale, in Tryton")
            done, invoices = _verify(client, references)
    delivered = sum(o.status is Status.DELIVERED for o in outcomes)
    dead = [o for o in outcomes if o.status is Status.DEAD]
    rate = delivered / seconds if seconds > 0 else None
    m.add(
        "shipments posted per second",
        round(rate, 1) if rate is not None else None,
        "shipments/s",
        target=f"≥ {TARGET_RATE:.0f}",
        met=rate is not None and rate >= TARGET_RATE,
        note="taken to done in Tryton (assign, pick, pack, do), sale processed; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs; {erp.workers} trytond process(es)",
    )
    m.add(
        "invoices posted per second",
        round(invoices / seconds, 1) if seconds > 0 else None,
        "invoices/s",
        note="compared with the expected total to the cent, then account.invoice.post",
    )
    post_s = spent.get("account.invoice.post", 0.0)
    workflow_s = seconds - post_s
    m.add(
        "shipments to done per second, invoice posting aside",
        round(delivered / workflow_s, 1) if workflow_s > 0 else None,
        "shipments/s",
        note="the same run less the time in account.invoice.post",
    )
    m.add(
        "account.invoice.post",
        round(post_s, 2),
        "s",
        note="Tryton renders each posted customer invoice's report in the request "
        "(print_invoice, queued; run inline without a queue worker)",
    )
    slowest = sorted(spent.items(), key=lambda kv: -kv[1])[:5]
    m.notes.append("time per Tryton method: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    m.add("posting into Tryton", round(seconds, 2), "s")
    m.add("shipments posted", delivered, "shipments", note=f"{done} found done in Tryton")
    m.add("invoices posted", invoices, "invoices", note="found posted in Tryton")
    m.add("dead letters", len(dead), "shipments")
    m.add("sales created + confirmed (set-up)", round(intake_s, 1), "s")
    m.notes.append(
        f"{wanted} sales, one shipment each (one in four partial: the rest left as Tryton's "
        f"backorder), posted by the tryton_shipment_postings transport in batches of "
        f"{BATCH_SIZE} on one session; the hub's gate, diff and outbox are not timed"
    )
    if dead:
        m.notes.append(f"dead: {[o.error for o in dead[:3]]}")
    return m


def _message(n: int, reference: str, products: list[str]) -> Message:
    partial = n % 4 == 3
    lines = {products[0]: 4 if not partial else 2, products[1]: 2}
    total = sum((PRICE * q for q in lines.values()), Decimal(0)) + CHARGES
    key = f"bench:SHIP-{n:05d}"
    return Message(
        id=n + 1,
        target="erp_shipment_postings",
        system="tryton",
        record_key=key,
        action="upsert",
        idempotency_key=f"erp_shipment_postings:{key}",
        payload={
            "lines": [
                {
                    "shipment_key": key,
                    "order_key": reference,
                    "sku": sku,
                    "quantity": qty,
                    "carrier": "UPS",
                    "tracking_number": f"1ZBENCH{n:05d}",
                    "expected_amount": str(total),
                    "carries_charges": True,
                    "backorder_policy": "allow",
                }
                for sku, qty in lines.items()
            ]
        },
    )


def _verify(client: TrytonClient, references: list[str]) -> tuple[int, int]:
    """Done shipments carrying a bench key, and posted invoices, of the bench's sales."""
    sales = client.read_all(
        "sale.sale", [["reference", "in", references]], ["shipments", "invoices"]
    )
    shipments = client.read_all(
        "stock.shipment.out",
        [["id", "in", [s for sale in sales for s in sale["shipments"]]], ["state", "=", "done"]],
        ["reference"],
    )
    invoices = client.read_all(
        "account.invoice",
        [["id", "in", [i for sale in sales for i in sale["invoices"]]], ["state", "=", "posted"]],
        ["id"],
    )
    done = sum(1 for s in shipments if (key_of(s["reference"]) or "").startswith("bench:"))
    return done, len(invoices)
