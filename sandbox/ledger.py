"""The physical stock ledger: on-hand by item, location and status, and
committed (allocated + open picks) by item and location.

Every change goes through a method that refuses to make any figure negative,
so the ground truth can never hold negative stock; a refused change raises
`LedgerError` (a bug in the simulation, never a fault profile).
"""

from __future__ import annotations

from collections.abc import Iterator

from sandbox.world import StockStatus

Key = tuple[int, str, StockStatus]


class LedgerError(RuntimeError):
    pass


class StockLedger:
    """Sparse integer counters; items are referred to by their index in `World.items`."""

    def __init__(self) -> None:
        self.on_hand: dict[Key, int] = {}
        self.committed: dict[tuple[int, str], int] = {}
        self.version = 0  # bumps on every change (lets readers cache sorted views)

    # -- reads ----------------------------------------------------------------

    def qty(self, item: int, location: str, status: StockStatus = StockStatus.SELLABLE) -> int:
        return self.on_hand.get((item, location, status), 0)

    def committed_qty(self, item: int, location: str) -> int:
        return self.committed.get((item, location), 0)

    def free(self, item: int, location: str) -> int:
        """Sellable on-hand not yet committed."""
        return self.qty(item, location) - self.committed_qty(item, location)

    def rows(self) -> Iterator[tuple[int, str, StockStatus, int]]:
        for (item, loc, status), q in sorted(
            self.on_hand.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])
        ):
            if q:
                yield item, loc, status, q

    # -- writes ---------------------------------------------------------------

    def add(self, item: int, location: str, status: StockStatus, qty: int) -> None:
        self.version += 1
        if qty < 0:
            raise LedgerError(f"add of negative quantity {qty}")
        key = (item, location, status)
        self.on_hand[key] = self.on_hand.get(key, 0) + qty

    def remove(self, item: int, location: str, status: StockStatus, qty: int) -> None:
        self.version += 1
        key = (item, location, status)
        have = self.on_hand.get(key, 0)
        if qty < 0 or qty > have:
            raise LedgerError(
                f"cannot remove {qty} of item {item} at {location}/{status}: {have} on hand"
            )
        if status is StockStatus.SELLABLE and have - qty < self.committed_qty(item, location):
            raise LedgerError(
                f"removing {qty} of item {item} at {location} would leave less than committed"
            )
        if have == qty:
            del self.on_hand[key]
        else:
            self.on_hand[key] = have - qty

    def move(self, item: int, location: str, src: StockStatus, dst: StockStatus, qty: int) -> None:
        self.remove(item, location, src, qty)
        self.add(item, location, dst, qty)

    def commit(self, item: int, location: str, qty: int) -> None:
        self.version += 1
        if qty < 0 or qty > self.free(item, location):
            raise LedgerError(
                f"cannot commit {qty} of item {item} at {location}: "
                f"{self.free(item, location)} free"
            )
        key = (item, location)
        self.committed[key] = self.committed.get(key, 0) + qty

    def release(self, item: int, location: str, qty: int) -> None:
        self.version += 1
        key = (item, location)
        have = self.committed.get(key, 0)
        if qty < 0 or qty > have:
            raise LedgerError(
                f"cannot un-commit {qty} of item {item} at {location}: {have} committed"
            )
        if have == qty:
            del self.committed[key]
        else:
            self.committed[key] = have - qty

    def ship(self, item: int, location: str, committed_qty: int, shipped_qty: int) -> None:
        """Un-commit ``committed_qty`` and take ``shipped_qty`` (<= it) out of sellable."""
        self.release(item, location, committed_qty)
        self.remove(item, location, StockStatus.SELLABLE, shipped_qty)
