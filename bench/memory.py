"""Peak memory of a process tree (and the hub's PostgreSQL server), sampled from /proc.

Resident memory is summed as PSS (``/proc/<pid>/smaps_rollup``): pages shared between the
server's processes (its shared buffers) count once in all, not once per backend, so the
sum is what the machine really spends. Falls back to RSS where PSS is unreadable.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return kids
    for task in tasks:
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return kids


def tree(roots: Iterable[int]) -> set[int]:
    """``roots`` and all their descendants that are alive now."""
    seen: set[int] = set()
    todo = [r for r in roots if r]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo += _children(pid)
    return seen


def resident_kib(pid: int) -> int:
    """PSS of ``pid`` in KiB (RSS if PSS cannot be read; 0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class PeakMemory:
    """Samples the summed PSS of the process trees under ``roots`` until stopped.

    ``with PeakMemory([os.getpid(), postmaster_pid]) as peak: ...`` then ``peak.peak_mib``.
    """

    def __init__(self, roots: Iterable[int] | None = None, interval: float = 0.2) -> None:
        self.roots = [os.getpid(), *(roots or [])]
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peak-memory", daemon=True)

    def sample(self) -> int:
        total = sum(resident_kib(pid) for pid in tree(self.roots))
        self.peak_kib = max(self.peak_kib, total)
        self.samples += 1
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def peak_mib(self) -> float:
        return round(self.peak_kib / 1024, 1)


def postmaster_pid(data_dir: Path) -> int | None:
    """The PostgreSQL server's pid from ``postmaster.pid`` in its data folder."""
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
