"""Identifiers the sandbox systems hand out.

Shopify ids are 64-bit integers above 2**53 (so a client that parses them as
doubles loses precision here exactly as it would against a real shop):
``kind * 10**17 + store * 10**15 + sequence``. They increase with creation
order within a store and kind, never collide across stores or kinds, and
fit a signed int64. EasyPost ids are ``prefix_`` + 32 hex digits derived from
the world seed and the sequence.
"""

from __future__ import annotations

import hashlib

SHOPIFY_KINDS = {
    "shop": 10,
    "product": 11,
    "variant": 12,
    "inventory_item": 13,
    "location": 14,
    "customer": 15,
    "order": 16,
    "line_item": 17,
    "fulfillment": 18,
    "fulfillment_order": 19,
    "fulfillment_order_line_item": 20,
    "address": 21,
    "webhook": 22,
    "event": 23,
    "image": 24,
    "inventory_level": 25,
    "product_option": 26,
    "shipping_line": 27,
    "payment_terms": 28,
}

STORE_NUMBERS = {"B2B": 1, "D2C": 2, "MARKETPLACE": 3}

_KIND_SCALE = 10**17
_STORE_SCALE = 10**15
INT64_MAX = 2**63 - 1


def shopify_id(kind: str, store: str, seq: int) -> int:
    """The Shopify id of the ``seq``-th (from 1) record of ``kind`` in ``store``."""
    if not 0 < seq < _STORE_SCALE:
        raise ValueError(f"sequence {seq} out of range for a {kind} id")
    value = SHOPIFY_KINDS[kind] * _KIND_SCALE + STORE_NUMBERS[store] * _STORE_SCALE + seq
    assert value <= INT64_MAX
    return value


def shopify_seq(value: int) -> int:
    """The sequence part of a Shopify id."""
    return value % _STORE_SCALE


def shopify_kind_store(value: int) -> tuple[str, str] | None:
    """(kind, store) of a sandbox Shopify id, or None if it is not one."""
    kind_no, rest = divmod(value, _KIND_SCALE)
    store_no = rest // _STORE_SCALE
    kinds = {v: k for k, v in SHOPIFY_KINDS.items()}
    stores = {v: k for k, v in STORE_NUMBERS.items()}
    if kind_no in kinds and store_no in stores:
        return kinds[kind_no], stores[store_no]
    return None


def line_item_seq(order_seq: int, line_no: int) -> int:
    """Line items are numbered under their order: order sequence * 100 + line."""
    return order_seq * 100 + line_no


def hex_id(seed: int, *parts: object, length: int = 32) -> str:
    """A stable hex token from the seed and the parts (for EasyPost-style ids,
    Shopify tokens, webhook ids)."""
    digest = hashlib.sha256(":".join([str(seed), *map(str, parts)]).encode()).hexdigest()
    return digest[:length]


def tracking_number(carrier: str, seed: int, seq: int) -> str:
    """A carrier-shaped tracking number: UPS ``1Z...`` (18), FedEx 12 digits,
    USPS 22 digits, Canada Post 16."""
    h = int(hex_id(seed, "trk", carrier, seq, length=24), 16)
    if carrier == "UPS":
        return f"1Z{h % 10**6:06d}{carrier[:1]}{h // 10**6 % 10**9:09d}"[:18].upper()
    if carrier == "FedEx":
        return f"{h % 10**12:012d}"
    if carrier == "CanadaPost":
        return f"{h % 10**16:016d}"
    return f"9400{h % 10**18:018d}"
