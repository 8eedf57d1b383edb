"""Pricing on the shared landed world: marts.customer_prices (with marts.customer_price_groups),
publish.storefront_prices and marts.recon_prices agree with the world's own price rule
(`sandbox.worldgen.pricing.PriceBook`), and a storefront price edit shows up in recon. Contract
prices with validity dates, promotions and case packs come from the planning feed
(raw/planning__*).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import dagster as dg
import psycopg

from sandbox.worldgen import generate_world
from sandbox.worldgen.pricing import PriceBook
from tests.erp_fixtures import SEED, SKUS
from tests.models.conftest import WORLD_DAYS, LandedWorld, run

RULES = {
    "contract": "contract",
    "price_list": "customer_price_list",
    "promotion": "promotion",
    "list": "list_price",
}


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def price_at(conn: psycopg.Connection, owner: str, sku: str, currency: str, qty: int, at):
    """The customer_prices row a reader looks up for (customer, SKU, quantity, instant): the
    customer's own rows for the SKU (it has contract prices on it), else its price group's
    (the look-up customer_price_groups.yml describes)."""
    return conn.execute(
        """
        with own as (
            select unit_price, rule, rule_reference, valid_from, valid_to,
                   min_quantity, max_quantity
            from marts.customer_prices
            where owner_type = 'customer' and owner_key = %(owner)s and sku = %(sku)s
              and currency = %(currency)s
        ),
        book as (
            select * from own
            union all
            select prices.unit_price, prices.rule, prices.rule_reference, prices.valid_from,
                   prices.valid_to, prices.min_quantity, prices.max_quantity
            from marts.customer_prices as prices
            join marts.customer_price_groups as groups on groups.price_group = prices.owner_key
            where prices.owner_type = 'customer_group' and groups.customer_key = %(owner)s
              and prices.sku = %(sku)s and prices.currency = %(currency)s
              and not exists (select 1 from own)
        )
        select unit_price, rule, rule_reference
        from book
        where coalesce(valid_from, '-infinity') <= %(at)s
          and %(at)s < coalesce(valid_to, 'infinity')
          and min_quantity <= %(qty)s and %(qty)s <= coalesce(max_quantity, 2147483647)
        """,
        {"owner": owner, "sku": sku, "currency": currency, "qty": qty, "at": at},
    ).fetchall()


def test_pricing_marts_follow_the_world_price_rule(clean_world: LandedWorld) -> None:
    world = generate_world(seed=SEED, skus=SKUS, days=WORLD_DAYS)
    book = PriceBook(
        world.items, world.customers, world.price_lists, world.contract_prices, world.promotions
    )
    sb, hub = clean_world.sandbox, clean_world.hub
    edits_before = sb.control.truth(["storefront_price_edits"])["storefront_price_edits"]
    with psycopg.connect(hub) as conn:
        now = conn.execute("select now()").fetchone()[0]
        # contracts: at the epoch, two days later and now (the real clock), for quantity 1,
        # the contract's break and one below it, the row a reader looks up holds what
        # the world's rule gives: the contract while valid, else the price list (or list)
        contracted = {cp.customer for cp in world.contract_prices}
        assert contracted
        checked = set()
        for cp in world.contract_prices:
            customer = world.customer(cp.customer)
            idx = world.sku_index(cp.sku)
            for at in (world.epoch, world.epoch + timedelta(days=2), now):
                for qty in {1, cp.min_quantity, max(1, cp.min_quantity - 1)}:
                    want, rule = book.unit_price(customer, customer.channel, idx, qty, at)
                    rows = price_at(conn, cp.customer, cp.sku, customer.currency, qty, at)
                    assert len(rows) == 1, (cp, at, qty, rows)
                    unit_price, got_rule, reference = rows[0]
                    assert (cents(unit_price), got_rule) == (want, RULES[rule]), (cp, at, qty)
                    checked.add(got_rule)
        assert {"contract", "customer_price_list"} <= checked

        # every other B2B customer and SKU is priced by the customer's price group (one book
        # per channel, price list and currency), at quantity 1 and at each price list break
        groups = dict(
            conn.execute(
                "select customer_key, price_group from marts.customer_price_groups"
            ).fetchall()
        )
        priced = [c for c in world.customers if c.price_list]
        assert priced and {c.code for c in priced} <= set(groups)
        assert len(set(groups.values())) < len(groups)  # customers share their group's book
        own = {(cp.customer, cp.sku) for cp in world.contract_prices}
        breaks = {
            (pl.code, line.sku): line.min_quantity for pl in world.price_lists for line in pl.lines
        }
        checked = set()
        for customer in priced:
            for it in world.items:
                if (customer.code, it.sku) in own:
                    continue
                idx = world.sku_index(it.sku)
                qtys = {1, breaks.get((customer.price_list, it.sku), 1)}
                for at in (world.epoch, now):
                    for qty in qtys:
                        want, rule = book.unit_price(customer, customer.channel, idx, qty, at)
                        rows = price_at(conn, customer.code, it.sku, customer.currency, qty, at)
                        assert len(rows) == 1, (customer.code, it.sku, at, qty, rows)
                        unit_price, got_rule, _ = rows[0]
                        assert (cents(unit_price), got_rule) == (want, RULES[rule]), (
                            customer.code,
                            it.sku,
                            at,
                            qty,
                        )
                        checked.add(got_rule)
        assert "customer_price_list" in checked
        # a customer has rows of its own only for the SKUs of its contract prices
        owned = conn.execute(
            "select distinct owner_key, sku from marts.customer_prices "
            "where owner_type = 'customer'"
        ).fetchall()
        assert set(owned) <= own

        # D2C: the published variant price is the world's list price, or the promotion
        # active now, with the list price as compare-at
        published = {
            sku: (price, compare, rule)
            for sku, price, compare, rule in conn.execute(
                "select sku, price, compare_at_price, rule from publish.storefront_prices "
                "where channel = 'D2C'"
            ).fetchall()
        }
        d2c = [it for it in world.items if "D2C" in it.channels]
        assert set(published) == {it.sku for it in d2c}
        for it in d2c:
            idx = world.sku_index(it.sku)
            listed = book.list_price(idx, "USD")
            pct, _ = book.promotion_percent(idx, "D2C", 1, now)
            price, compare, rule = published[it.sku]
            if pct:
                assert (cents(price), cents(compare), rule) == (
                    listed * (100 - pct) // 100,
                    listed,
                    "promotion",
                ), it.sku
            else:
                assert (cents(price), compare, rule) == (listed, None, "list_price"), it.sku

        # recon on the undisturbed world: the only live prices that differ from what the
        # hub publishes are the sandbox's own storefront edits (the simulation edits 1-3
        # D2C prices every simulated day at 09:09); none when it made none
        def recon(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
            return {
                (system, sku): (live, desired)
                for system, sku, live, desired in conn.execute(
                    "select system, sku, live_price, desired_price from marts.recon_prices"
                ).fetchall()
            }

        last_edit = {(e["channel"], e["sku"]): Decimal(e["new"]) for e in edits_before}
        drifted = {
            ("shopify_d2c", sku): price
            for (channel, sku), price in last_edit.items()
            if channel == "D2C" and price != published[sku][0]
        }
        assert {k: v[0] for k, v in recon(conn).items()} == drifted
        print(f"recon_prices on the undisturbed world: {len(drifted)} sandbox price edits")

    # a price edited by hand in the D2C storefront appears in recon once landed
    untouched = next(it.sku for it in d2c if ("D2C", it.sku) not in last_edit)
    sb.control.edit_price("D2C", untouched, "1.23")
    products = [dg.AssetKey(["raw", "shopify_d2c__products"])]
    assert run(clean_world.definitions, hub, clean_world.env, products).success
    clean_world.rebuild("marts/int_shopify__variant_prices__tracked", "marts/recon_prices")
    with psycopg.connect(hub) as conn:
        found = recon(conn)
        assert found[("shopify_d2c", untouched)] == (Decimal("1.23"), published[untouched][0])
        row = conn.execute(
            "select age_bucket, sla_status, detected_at <= now() from marts.recon_prices "
            "where system = 'shopify_d2c' and sku = %s",
            (untouched,),
        ).fetchone()
        assert row == ("<1h", "within_sla", True)
