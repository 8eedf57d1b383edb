"""Storefront orders rendered once and served many times (``up --prerender-orders``).

Rendering an order (``Renderer.order``) and encoding it costs about 0.2 ms of the
sandbox's one event loop; a storefront with 200,000 orders would spend most of a
benchmark's CPU on that instead of on the client being measured. With
pre-rendering on, every order's JSON is rendered once when the server starts and
list pages are joined from those bytes. The bytes are exactly what
``JSONResponse`` would send for the same dict, and they are thrown away and
rendered again as soon as the store changes (a new, edited, paid, cancelled or
fulfilled order bumps ``Store.mutations``; the clock moving bumps ``sim.hour``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.records import LiveOrder
from sandbox.shopify_payloads import Renderer
from sandbox.store_state import Store

if TYPE_CHECKING:
    from sandbox.simulation import Simulation


def encode(payload: Any) -> bytes:
    """JSON bytes exactly as Starlette's ``JSONResponse`` renders ``payload``."""
    return json.dumps(
        payload, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


class RenderedOrders:
    """One store's orders as JSON bytes, valid while the store and the clock stand still."""

    def __init__(self, sim: Simulation, store: Store) -> None:
        self.sim = sim
        self.store = store
        self._bodies: dict[int, bytes] = {}
        self._generation: tuple[int, int] | None = None

    def _current(self) -> dict[int, bytes]:
        generation = (self.store.mutations, self.sim.hour)
        if generation != self._generation:
            self._bodies.clear()
            self._generation = generation
        return self._bodies

    def body(self, order: LiveOrder) -> bytes:
        bodies = self._current()
        hit = bodies.get(order.seq)
        if hit is None:
            hit = bodies[order.seq] = encode(Renderer(self.sim, self.store).order(order))
        return hit

    def fill(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Render every order of the store now (at start, before clients arrive)."""
        bodies = self._current()
        renderer = Renderer(self.sim, self.store)
        total = len(self.store.orders)
        for k, order in enumerate(self.store.orders, 1):
            if order.seq not in bodies:
                bodies[order.seq] = encode(renderer.order(order))
            if progress and (k % 5000 == 0 or k == total):
                progress(k, total)

    @property
    def size_bytes(self) -> int:
        return sum(len(b) for b in self._bodies.values())
