"""Timestamps as the sandbox systems write and read them: integer seconds since the Unix
epoch (UTC) in the simulation, ISO-8601 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: int, offset: str = "+00:00") -> str:
    """ISO-8601 with a fixed offset like "-05:00" (Shopify style) or "Z"."""
    sign = -1 if offset.startswith("-") else 1
    hh, mm = offset[1:].split(":")
    shift = sign * (int(hh) * 3600 + int(mm) * 60)
    text = datetime.fromtimestamp(ts + shift, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + offset


def parse_iso(text: str) -> int:
    """Seconds since the Unix epoch from an ISO-8601 timestamp (offset
    optional, UTC assumed without one). Raises ValueError with the input."""
    t = text.strip().replace("Z", "+00:00").replace(" ", "+")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(
            f"not an ISO-8601 timestamp: {text!r} (expected e.g. 2026-03-02T10:00:00-05:00)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())
