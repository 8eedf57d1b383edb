"""Locations, channels, payment terms, suppliers and customers."""

from __future__ import annotations

from decimal import Decimal

from sandbox.world import (
    Address,
    Channel,
    ChannelKind,
    Customer,
    CustomerKind,
    EdiProfile,
    Location,
    LocationKind,
    PaymentTerm,
    Supplier,
    WorldParams,
)
from sandbox.worldgen import names
from sandbox.worldgen.rng import stream

LOCATIONS: tuple[Location, ...] = (
    Location(
        code="DC-EAST",
        name="East Distribution Centre",
        kind=LocationKind.DISTRIBUTION_CENTER,
        system="wms",
        address=Address("400 Depot St", "Allentown", "PA", "18109", "US"),
        shipping_zone="EAST",
        timezone="America/New_York",
    ),
    Location(
        code="DC-WEST",
        name="West Distribution Centre",
        kind=LocationKind.DISTRIBUTION_CENTER,
        system="wms",
        address=Address("1200 Industrial Pkwy", "Reno", "NV", "89502", "US"),
        shipping_zone="WEST",
        timezone="America/Los_Angeles",
    ),
    Location(
        code="3PL",
        name="Central 3PL (Midway Fulfilment)",
        kind=LocationKind.THIRD_PARTY_LOGISTICS,
        system="3pl",
        address=Address("88 Commerce Dr", "Columbus", "OH", "43219", "US"),
        shipping_zone="CENTRAL",
        timezone="America/New_York",
    ),
)

CHANNELS: tuple[Channel, ...] = (
    Channel(
        code="B2B",
        name="B2B Portal",
        kind=ChannelKind.B2B_PORTAL,
        platform="shopify",
        currency="USD",
        selling_unit="CS",
        price_list="WHOLESALE-USD",
        service_levels=("GROUND", "LTL"),
        shop_domain="distrohub-b2b.myshopify.com",
        utc_offset="-05:00",
    ),
    Channel(
        code="D2C",
        name="D2C Storefront",
        kind=ChannelKind.D2C_STOREFRONT,
        platform="shopify",
        currency="USD",
        selling_unit="EA",
        price_list="LIST-USD",
        service_levels=("STANDARD", "EXPRESS"),
        shop_domain="distrohub-shop.myshopify.com",
        utc_offset="-05:00",
    ),
    Channel(
        code="MARKETPLACE",
        name="Marketplace",
        kind=ChannelKind.MARKETPLACE,
        platform="shopify",
        currency="CAD",
        selling_unit="EA",
        price_list="LIST-CAD",
        service_levels=("STANDARD",),
        shop_domain="distrohub-marketplace.myshopify.com",
        utc_offset="+00:00",
    ),
)

PAYMENT_TERMS: tuple[PaymentTerm, ...] = (
    PaymentTerm("PREPAID", "Paid at checkout", 0),
    PaymentTerm("NET15", "Net 15 days", 15),
    PaymentTerm("NET30", "Net 30 days", 30),
    PaymentTerm("2-10-NET30", "2% 10, net 30", 30, Decimal("2"), 10),
    PaymentTerm("NET60", "Net 60 days", 60),
)

SUPPLIERS: tuple[Supplier, ...] = (
    Supplier(
        code="ACME",
        name="Acme Industrial Supply",
        currency="USD",
        lead_time_days=3,
        payment_term="NET30",
        drop_ships=True,
        edi=EdiProfile(
            isa_qualifier="01",
            isa_id="123456789",
            gs_id="123456789",
            element_separator="*",
            component_separator=">",
            segment_terminator="~",
            segment_suffix="\n",
            repetition_separator="U",
            isa_version="00401",
            gs_version="004010",
        ),
    ),
    Supplier(
        code="BOREAL",
        name="Boreal Paper & Packaging",
        currency="USD",
        lead_time_days=5,
        payment_term="2-10-NET30",
        drop_ships=False,
        edi=EdiProfile(
            isa_qualifier="ZZ",
            isa_id="BOREALPKG",
            gs_id="BOREALPKG",
            element_separator="|",
            component_separator=":",
            segment_terminator="~",
            segment_suffix="",
            repetition_separator="^",
            isa_version="00501",
            gs_version="005010",
            transactions_per_group=3,
        ),
    ),
    Supplier(
        code="CASCADE",
        name="Cascade Safety Products",
        currency="USD",
        lead_time_days=4,
        payment_term="NET60",
        drop_ships=True,
        edi=EdiProfile(
            isa_qualifier="12",
            isa_id="5035550199",
            gs_id="5035550199",
            element_separator="^",
            component_separator=">",
            segment_terminator="}",
            segment_suffix="\r\n",
            repetition_separator="U",
            isa_version="00401",
            gs_version="004010",
            transactions_per_group=2,
            groups_per_interchange=2,
        ),
    ),
)


def _address(rng, country: str = "US") -> tuple[Address, str]:
    city, region, prefix, ctry, zone = rng.choice(
        names.CA_CITIES if country == "CA" else names.CITIES
    )
    return Address(
        names.street(rng), city, region, names.postal_code(rng, prefix, ctry), ctry
    ), zone


def generate_customers(params: WorldParams) -> tuple[Customer, ...]:
    """B2B accounts (terms, credit limits, price lists), D2C guests, marketplace buyers.

    Pool sizes scale with SKUs and orders per day, within fixed bounds.
    """
    rng = stream(params.seed, "customers")
    out: list[Customer] = []
    n_b2b = max(8, min(2000, params.skus // 5))
    for i in range(n_b2b):
        canadian = i % 7 == 3
        addr, zone = _address(rng, "CA" if canadian else "US")
        name = names.company(rng)
        first, last = names.person(rng)
        term = rng.choice(("NET15", "NET30", "NET30", "2-10-NET30", "NET60"))
        limit = Decimal(rng.choice((5_000, 10_000, 25_000, 50_000, 100_000, 250_000)))
        if i % 11 == 5:
            limit = Decimal(1_000)  # a small account that will hit its limit
        out.append(
            Customer(
                code=f"B2B-{i + 1:05d}",
                name=name,
                kind=CustomerKind.B2B,
                channel="B2B",
                email=f"purchasing{i + 1}@{name.split()[0].lower()}{i + 1}.example.com",
                phone=f"+1555{rng.randint(1000000, 9999999)}",
                currency="CAD" if canadian else "USD",
                payment_term=term,
                credit_limit=limit.quantize(Decimal("0.01")),
                price_list="WHOLESALE-CAD"
                if canadian
                else ("KEY-ACCOUNT-USD" if i % 4 == 0 else "WHOLESALE-USD"),
                shipping_zone=zone,
                address=addr,
                tax_exempt=i % 3 != 0,
                first_name=first,
                last_name=last,
            )
        )
    n_d2c = max(20, min(20000, params.orders_per_day * 3))
    for i in range(n_d2c):
        addr, zone = _address(rng)
        first, last = names.person(rng)
        out.append(
            Customer(
                code=f"D2C-{i + 1:06d}",
                name=f"{first} {last}",
                kind=CustomerKind.D2C_GUEST,
                channel="D2C",
                email=f"{first.lower()}.{last.lower()}{i + 1}@mail.example.com",
                phone=f"+1555{rng.randint(1000000, 9999999)}",
                currency="USD",
                payment_term="PREPAID",
                credit_limit=Decimal("0.00"),
                price_list=None,
                shipping_zone=zone,
                address=addr,
                first_name=first,
                last_name=last,
            )
        )
    n_mkt = max(10, min(10000, params.orders_per_day))
    for i in range(n_mkt):
        addr, zone = _address(rng, "CA")
        first, last = names.person(rng)
        out.append(
            Customer(
                code=f"MKT-{i + 1:06d}",
                name=f"{first} {last}",
                kind=CustomerKind.MARKETPLACE_BUYER,
                channel="MARKETPLACE",
                email=f"buyer{i + 1}@marketplace-relay.example.com",
                phone=f"+1555{rng.randint(1000000, 9999999)}",
                currency="CAD",
                payment_term="PREPAID",
                credit_limit=Decimal("0.00"),
                price_list=None,
                shipping_zone=zone,
                address=addr,
                first_name=first,
                last_name=last,
            )
        )
    return tuple(out)
