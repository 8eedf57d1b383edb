"""How each kind of system signs its webhooks, and how we read a delivery's identity.

All comparisons are constant-time (``hmac.compare_digest``) and are made on the
raw request body, before any parsing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import simplejson


class SignatureRefused(Exception):
    """The delivery is unsigned or its signature does not match: answer 401, store nothing."""


@dataclass(frozen=True)
class Delivery:
    event_id: str
    topic: str
    triggered_at: str | None


def _hmac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name) or headers.get(name.lower())
    if not value:
        raise SignatureRefused(f"missing {name} header")
    return value


def verify_shopify(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """Shopify: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(secret, raw body))."""
    given = _header(headers, "X-Shopify-Hmac-Sha256").strip()
    expected = base64.b64encode(_hmac(secret, body)).decode()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused("X-Shopify-Hmac-Sha256 does not match the body")
    return Delivery(
        event_id=_header(headers, "X-Shopify-Event-Id"),
        topic=_header(headers, "X-Shopify-Topic"),
        triggered_at=headers.get("x-shopify-triggered-at"),
    )


def verify_wms(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """Our WMS contract: ``X-Wms-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""
    given = _header(headers, "X-Wms-Signature").strip()
    expected = "sha256=" + _hmac(secret, body).hex()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused("X-Wms-Signature does not match the body")
    return Delivery(
        event_id=_header(headers, "X-Wms-Event-Id"),
        topic=_header(headers, "X-Wms-Event-Type"),
        triggered_at=headers.get("x-wms-timestamp"),
    )


def verify_easypost(headers: Mapping[str, str], body: bytes, secret: str) -> Delivery:
    """EasyPost: ``X-Hmac-Signature: hmac-sha256-hex=<hex>`` with the NFKD-normalized secret.

    The event id and topic are in the body (``id``, ``description``).
    """
    given = _header(headers, "X-Hmac-Signature").strip()
    normalized = unicodedata.normalize("NFKD", secret)
    expected = "hmac-sha256-hex=" + _hmac(normalized, body).hex()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused("X-Hmac-Signature does not match the body")
    try:
        event = simplejson.loads(body)
        return Delivery(str(event["id"]), str(event["description"]), event.get("created_at"))
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureRefused(f"signed, but not an EasyPost event ({exc})") from exc


VERIFIERS: dict[str, Callable[[Mapping[str, str], bytes, str], Delivery]] = {
    "shopify": verify_shopify,
    "wms_rest": verify_wms,
    "carrier_webhook": verify_easypost,
}
