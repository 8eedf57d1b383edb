"""Word lists for plausible, deterministic names (items, companies, people, places)."""

from __future__ import annotations

import random

CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (category, product nouns, option values)
    (
        "Cleaning",
        ("Degreaser", "Floor Cleaner", "Glass Cleaner", "Disinfectant", "Hand Soap"),
        ("1 L", "4 L", "20 L"),
    ),
    (
        "Packaging",
        ("Stretch Film", "Packing Tape", "Mailer Box", "Bubble Wrap", "Pallet Wrap"),
        ("Small", "Medium", "Large"),
    ),
    (
        "Safety",
        ("Nitrile Gloves", "Safety Glasses", "Hi-Vis Vest", "Ear Plugs", "Hard Hat"),
        ("S", "M", "L", "XL"),
    ),
    (
        "Office",
        ("Copy Paper", "Ballpoint Pens", "Sticky Notes", "Binder", "Stapler"),
        ("Black", "Blue", "Red"),
    ),
    (
        "Breakroom",
        ("Coffee Beans", "Paper Cups", "Sugar Sticks", "Tea Bags", "Napkins"),
        ("Regular", "Decaf", "Bulk"),
    ),
    (
        "Hardware",
        ("Cable Ties", "Wood Screws", "Anchors", "Hex Bolts", "Washers"),
        ("M4", "M6", "M8", "M10"),
    ),
    (
        "Electrical",
        ("LED Bulb", "Extension Cord", "Power Strip", "AA Batteries", "Work Light"),
        ("Warm", "Cool", "Daylight"),
    ),
    (
        "Janitorial",
        ("Trash Bags", "Mop Head", "Paper Towels", "Toilet Tissue", "Wipes"),
        ("Standard", "Heavy Duty"),
    ),
)

ADJECTIVES = (
    "Premium",
    "Economy",
    "Pro",
    "Eco",
    "Industrial",
    "Classic",
    "Ultra",
    "Compact",
    "Heavy",
    "Select",
    "Prime",
    "Value",
    "Max",
    "Essential",
    "Contract",
    "Elite",
)

BRANDS = (
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Adatum",
    "Woodgrove",
    "Lucerne",
    "Margie",
    "Fourth Coffee",
    "Alpine",
    "Coho",
)

COMPANY_WORDS = (
    "Acme",
    "Beacon",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Meridian",
    "Northstar",
    "Oakridge",
    "Pinnacle",
    "Quarry",
    "Redwood",
    "Summit",
    "Trident",
    "Unity",
    "Vantage",
    "Willow",
    "Yardley",
    "Zenith",
    "Bluebird",
    "Copper",
    "Driftwood",
    "Elm",
    "Foxglove",
)

COMPANY_SUFFIXES = (
    "Facilities",
    "Hospitality",
    "Schools",
    "Medical",
    "Logistics",
    "Property Mgmt",
    "Hotels",
    "Foods",
    "Manufacturing",
    "Offices",
    "Clinics",
    "Retail",
)

FIRST_NAMES = (
    "Ava",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Felix",
    "Grace",
    "Henry",
    "Isla",
    "Jack",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Ruby",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zoe",
    "Aiden",
    "Bella",
    "Caleb",
    "Diana",
)

LAST_NAMES = (
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Tremblay",
    "Roy",
    "Gagnon",
    "Nguyen",
    "Patel",
    "Kowalski",
)

STREETS = (
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Pine St",
    "Elm St",
    "Lake Rd",
    "Hill St",
    "Park Ave",
    "River Rd",
    "Industrial Pkwy",
    "Commerce Dr",
    "Depot St",
)

#: (city, region, postal prefix, country, shipping zone)
CITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Newark", "NJ", "071", "US", "EAST"),
    ("Boston", "MA", "021", "US", "EAST"),
    ("Philadelphia", "PA", "191", "US", "EAST"),
    ("Atlanta", "GA", "303", "US", "EAST"),
    ("Charlotte", "NC", "282", "US", "EAST"),
    ("Chicago", "IL", "606", "US", "CENTRAL"),
    ("Columbus", "OH", "432", "US", "CENTRAL"),
    ("Dallas", "TX", "752", "US", "CENTRAL"),
    ("Denver", "CO", "802", "US", "WEST"),
    ("Phoenix", "AZ", "850", "US", "WEST"),
    ("Reno", "NV", "895", "US", "WEST"),
    ("Sacramento", "CA", "958", "US", "WEST"),
    ("Portland", "OR", "972", "US", "WEST"),
    ("Seattle", "WA", "981", "US", "WEST"),
)

CA_CITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Toronto", "ON", "M5V", "CA", "EAST"),
    ("Montreal", "QC", "H2X", "CA", "EAST"),
    ("Ottawa", "ON", "K1P", "CA", "EAST"),
    ("Calgary", "AB", "T2P", "CA", "WEST"),
    ("Vancouver", "BC", "V6B", "CA", "WEST"),
)


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"


def street(rng: random.Random) -> str:
    return f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"


def postal_code(rng: random.Random, prefix: str, country: str) -> str:
    if country == "CA":
        return f"{prefix} {rng.randint(1, 9)}{chr(65 + rng.randint(0, 25))}{rng.randint(1, 9)}"
    return f"{prefix}{rng.randint(0, 99):02d}"
