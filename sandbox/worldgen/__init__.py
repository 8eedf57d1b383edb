"""Generators that build a `sandbox.world.World` piece by piece; `generate_world` is the
whole of it.

Each module draws from its own `random.Random`, seeded from the world seed and
the module's name, so adding a field to one part never reshuffles another.
"""

from __future__ import annotations

from sandbox.world import SCENARIOS, World, WorldParams
from sandbox.worldgen.assemble import assemble_world


def generate_world(
    seed: int = 1,
    skus: int = 50,
    orders_per_day: int = 20,
    days: int = 3,
    scenario: str = "clean",
) -> World:
    """Generate the world for these arguments; same arguments, same world.

    ``skus`` is the number of items (50 for tests, up to 100,000 for
    benchmarks); ``orders_per_day`` scales the order history, the customer
    pools and the activity the simulation plays after the epoch; ``days`` is
    how many days of activity the simulation plays when the sandbox starts
    (kept in ``params``, it sizes open purchase orders); ``scenario`` is
    ``clean`` (all systems agree at the epoch) or ``discrepancies`` (the
    differences listed in ``World.discrepancies`` are planted).
    """
    if skus < 10:
        raise ValueError(
            f"skus must be at least 10 (got {skus}): kits and channels need some items"
        )
    if orders_per_day < 0 or days < 0:
        raise ValueError("orders_per_day and days must not be negative")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    params = WorldParams(
        seed=seed, skus=skus, orders_per_day=orders_per_day, days=days, scenario=scenario
    )
    return assemble_world(params)
