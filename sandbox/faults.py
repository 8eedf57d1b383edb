"""Fault profiles: deterministic misbehaviour, off by default.

Enable with ``--faults NAME[,NAME...]``. Every fault is decided by counters
(the n-th request, the n-th webhook, the n-th file), never by the clock or
the global random generator, so the same run injects the same faults. Each
injection is logged (`FaultPlan.log`) and exposed by the control API
(``GET /_sandbox/faults``), so tests can check a profile produced the faults
it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROFILES: dict[str, str] = {
    "rate_limit_burst": "Shopify and WMS answer 429 with Retry-After to requests 7-9 of every 20 "
    "(per server), whatever the leaky bucket says.",
    "server_errors": "Shopify and WMS answer 500, 502 or 503 to request 4 of every 10 "
    "(per server).",
    "timeouts": "Shopify and WMS hold request 11 of every 15 (per server) for timeout_seconds "
    "before answering (default 15 s), longer than a sane client timeout.",
    "duplicate_webhooks": "every 3rd webhook is delivered twice, with the same event id.",
    "out_of_order_webhooks": "webhooks are delivered in batches of 4, newest first.",
    "late_events": "every 8th WMS event and carrier event is held back 6 simulated hours, then "
    "published with its original occurred_at (after newer events).",
    "malformed_records": "every 40th new storefront order carries a line with an unknown SKU; "
    "every "
    "25th webhook body is cut short (bad JSON, correctly signed); WMS stock pages and 3PL stock "
    "CSVs carry a negative quantity, an unknown SKU and (CSV) a garbled row.",
    "truncated_edi": "every 3rd EDI file (supplier documents, 3PL 945) is cut off mid-segment "
    "(no SE/GE/IEA trailer).",
    "smtp_drops": "the mail relay keeps every 3rd message but drops the connection after its "
    "data, before answering (the sender cannot know it was accepted).",
}


class FaultError(ValueError):
    pass


def parse_profiles(text: str | None) -> tuple[str, ...]:
    """``"a,b"`` -> ("a", "b"), checking every name."""
    if not text:
        return ()
    names = tuple(sorted({n.strip() for n in text.split(",") if n.strip()}))
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise FaultError(
            f"unknown fault profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}"
        )
    return names


@dataclass(slots=True)
class HttpFault:
    kind: str  # "rate_limit" | "server_error" | "timeout"
    status: int
    delay: float = 0.0


@dataclass
class FaultPlan:
    """Which profiles are on, the counters that decide each injection, the log."""

    profiles: tuple[str, ...] = ()
    timeout_seconds: float = 15.0
    log: list[dict[str, Any]] = field(default_factory=list)
    _requests: dict[str, int] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def on(self, name: str) -> bool:
        return name in self.profiles

    def record(self, profile: str, system: str, detail: str, **extra: Any) -> None:
        self.log.append({"profile": profile, "system": system, "detail": detail, **extra})

    def tick(self, counter: str) -> int:
        """Increment and return a named counter (1-based)."""
        n = self._counters.get(counter, 0) + 1
        self._counters[counter] = n
        return n

    def http_fault(self, system: str, path: str) -> HttpFault | None:
        """The fault to inject into this request to ``system``, if any."""
        if not ({"rate_limit_burst", "server_errors", "timeouts"} & set(self.profiles)):
            return None
        n = self._requests.get(system, 0) + 1
        self._requests[system] = n
        if self.on("rate_limit_burst") and n % 20 in (7, 8, 9):
            self.record("rate_limit_burst", system, f"429 on request {n}", path=path)
            return HttpFault("rate_limit", 429)
        if self.on("server_errors") and n % 10 == 4:
            status = (500, 502, 503)[(n // 10) % 3]
            self.record("server_errors", system, f"{status} on request {n}", path=path)
            return HttpFault("server_error", status)
        if self.on("timeouts") and n % 15 == 11:
            self.record(
                "timeouts", system, f"held request {n} for {self.timeout_seconds}s", path=path
            )
            return HttpFault("timeout", 200, self.timeout_seconds)
        return None
