"""Named, independent random streams derived from the world seed."""

from __future__ import annotations

import random


def stream(seed: int, *names: object) -> random.Random:
    """A `random.Random` for one purpose: same seed and names, same sequence.

    String seeds are hashed with SHA-512 by `random.Random`, so this is stable
    across processes and Python builds (unlike `hash()`).
    """
    return random.Random(":".join(["distrohub", str(seed), *map(str, names)]))
