"""Shopify's leaky bucket for REST calls.

Each request adds one to the bucket; the bucket leaks ``leak_per_second``;
a request that finds it full gets 429 with ``Retry-After``. The fill level
after the request is reported as ``X-Shopify-Shop-Api-Call-Limit: used/size``.
Plans: standard 40 / 2 per s, advanced 80 / 4 per s, plus 400 / 20 per s,
unlimited (never 429; the header is still sent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

PLANS: dict[str, tuple[int, float]] = {
    "standard": (40, 2.0),
    "advanced": (80, 4.0),
    "plus": (400, 20.0),
    "unlimited": (40, 0.0),
}


@dataclass
class LeakyBucket:
    size: int = 40
    leak_per_second: float = 2.0
    unlimited: bool = False
    level: float = 0.0
    _at: float = field(default_factory=time.monotonic)

    @classmethod
    def for_plan(cls, plan: str) -> LeakyBucket:
        if plan not in PLANS:
            raise ValueError(f"unknown API plan {plan!r}; choose one of {', '.join(PLANS)}")
        size, leak = PLANS[plan]
        return cls(size, leak, unlimited=plan == "unlimited")

    def _leak(self) -> None:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self._at) * self.leak_per_second)
        self._at = now

    def take(self) -> tuple[bool, int, float]:
        """(allowed, used after, seconds until one slot frees)."""
        if self.unlimited:
            return True, 1, 0.0
        self._leak()
        if self.level + 1 > self.size:
            wait = (self.level + 1 - self.size) / self.leak_per_second
            return False, self.size, max(wait, 0.5)
        self.level += 1
        return True, int(self.level + 0.999), 0.0

    def header(self, used: int) -> str:
        return f"{used}/{self.size}"
