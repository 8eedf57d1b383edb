"""The ERP holds the sandbox world of the seed, and seeding again adds nothing."""

from __future__ import annotations

from typing import Any

from dagster_project.connectors.tryton import TrytonClient
from sandbox.erp_seed import (
    CREDIT_LIMIT_PARENT,
    Rpc,
    contract_list_name,
    credit_limit_category,
    seed_erp,
)
from sandbox.world import World
from tests.erp_fixtures import RunningErp


def test_the_world_is_in_the_erp(
    client: TrytonClient, world: World, seed_report: dict[str, Any]
) -> None:
    created = seed_report["created"]
    assert created["items"] == len(world.items)
    assert created["parties"] == len(world.customers) + len(world.suppliers)
    assert created["sales_orders"] == len(world.erp_sales_orders)
    assert created["purchase_orders"] == len(world.open_purchase_orders)
    print(
        f"\nseeded a {len(world.items)}-SKU world in {seed_report['total_seconds']} s "
        f"({seed_report['rpc_calls']} calls)"
    )

    sales = client.read_all(
        "sale.sale",
        [["reference", "!=", None]],
        ["reference", "total_amount", "shipment_state", "state", "currency.code"],
    )
    by_ref = {s["reference"]: s for s in sales}
    for so in world.erp_sales_orders:
        sale = by_ref[so.reference]
        assert sale["total_amount"] == so.total, so.reference
        assert sale["currency."]["code"] == so.currency
        if so.state == "cancelled":
            assert sale["state"] == "cancelled"
        elif all(world.item(ln.sku).is_kit for ln in so.lines):
            assert sale["shipment_state"] == "none"  # kits are sold as services
        else:
            assert sale["shipment_state"] == ("sent" if so.shipment_state == "done" else "waiting")

    b2b = next(c for c in world.customers if c.credit_limit > 0)
    (party,) = client.read_all(
        "party.party",
        [["code", "=", b2b.code]],
        ["customer_payment_term.name", "categories", "sale_price_list.name"],
    )
    term = next(t for t in world.payment_terms if t.code == b2b.payment_term)
    assert party["customer_payment_term."]["name"] == term.name
    names = client.read_all("party.category", [["id", "in", party["categories"]]], ["rec_name"])
    expected = f"{CREDIT_LIMIT_PARENT} / {credit_limit_category(b2b.currency, b2b.credit_limit)}"
    assert [n["rec_name"] for n in names] == [expected]
    assert b2b.price_list in party["sale_price_list."]["name"]

    at = world.epoch
    valid = [
        cp
        for cp in world.contract_prices
        if cp.valid_from <= at and (cp.valid_to is None or at < cp.valid_to)
    ]
    cp = valid[0]
    lines = client.read_all(
        "product.price_list.line",
        [["price_list.name", "=", contract_list_name(cp.customer)]],
        ["product.code", "formula", "quantity"],
    )
    prices = {(ln["product."]["code"], ln["quantity"] or 1): ln["formula"] for ln in lines}
    assert prices[(cp.sku, cp.min_quantity)] == str(cp.price)
    assert len(lines) == sum(1 for c in valid if c.customer == cp.customer)


def test_seeding_again_adds_nothing(
    erp: RunningErp, world: World, seed_report: dict[str, Any]
) -> None:
    rpc = Rpc(erp.info.url, erp.info.user, erp.credentials.password)
    try:
        report = seed_erp(rpc, world)
    finally:
        rpc.close()
    assert not any(report.created.values()), dict(report.created)
