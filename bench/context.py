"""The scale knobs and what every measurement shares: a hub cluster, fresh databases, progress."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dagster_project.hub import settings
from dagster_project.hub.cluster import ClusterInfo, EmbeddedCluster
from dagster_project.hub.migrate import apply_migrations


@dataclass(frozen=True)
class Scale:
    """How big each measurement runs. ``default`` is what the README's figures come from."""

    skus: int = 100_000  # rebuild: catalog size
    locations: int = 12  # rebuild/incremental: stocking locations (WMS DCs and the 3PL)
    channels: int = 3  # rebuild/incremental: storefront channels
    orders: tuple[int, ...] = (20_000, 200_000)  # ingest: storefront orders per run
    incremental_skus: tuple[int, ...] = (10_000, 100_000)  # incremental: catalog sizes
    change_share: float = 0.01  # incremental: share of SKUs whose stock changes
    events: int = 50  # event latency: WMS stock-change events
    erp_orders: int = 400  # ERP intake: storefront orders sent to Tryton
    dlt: bool = True  # ingest: also run dlt's rest_api source on the same endpoint
    oversell_days: int = 14  # oversell: the simulated period
    oversell_every_hours: int = 6  # oversell: simulated hours between pipeline passes

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Scale] = {
    "default": Scale(),
    # seconds-long: every measurement runs end to end on a toy world (make test runs it)
    "smoke": Scale(
        skus=300,
        locations=3,
        channels=3,
        orders=(600,),
        incremental_skus=(300,),
        change_share=0.05,
        events=3,
        erp_orders=10,
        oversell_days=1,
    ),
}


def scale_from(preset: str, **overrides) -> Scale:
    base = PRESETS[preset]
    given = {k: v for k, v in overrides.items() if v not in (None, ())}
    return replace(base, **given)


Progress = Callable[[str], None]


@dataclass
class BenchContext:
    """What a measurement gets: the scale, a PostgreSQL cluster, a state folder, progress."""

    scale: Scale
    state_dir: Path
    progress: Progress = print
    cluster: ClusterInfo | None = None  # given (tests) or started on first use
    # what one measurement leaves for a later one (the rebuild's scale world for the
    # incremental measurement at the same size): key -> (hub URL, world); released on close()
    worlds: dict[tuple, tuple[str, Any]] = field(default_factory=dict)
    resources: ExitStack = field(default_factory=ExitStack, repr=False)
    _owned: EmbeddedCluster | None = field(default=None, repr=False)

    def step(self, message: str) -> None:
        self.progress(message)

    def pg(self) -> ClusterInfo:
        """The bench's PostgreSQL cluster (the product's embedded cluster in the bench state
        folder, same configuration as the demo's), started on first use."""
        if self.cluster is None:
            self._owned = EmbeddedCluster(self.state_dir / "hub", durable=True)
            self.step(f"starting the bench's PostgreSQL cluster in {self._owned.data_dir}")
            self.cluster = self._owned.start(self.step)
        return self.cluster

    @contextmanager
    def fresh_database(self, label: str, keep: bool = False) -> Iterator[str]:
        """A fresh, empty database on the bench cluster, owned by the hub's owner role; its URL.
        Dropped afterwards unless ``keep``."""
        pg = self.pg()
        name = f"bench_{label}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(pg.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(name), sql.Identifier(settings.OWNER_ROLE)
                )
            )
        try:
            yield settings.with_database(pg.hub_url, name)
        finally:
            if not keep:
                with psycopg.connect(pg.admin_url, autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("drop database if exists {} with (force)").format(
                            sql.Identifier(name)
                        )
                    )

    @contextmanager
    def fresh_hub(self, label: str, keep: bool = False) -> Iterator[str]:
        """A fresh, migrated hub database for one measurement (dropped afterwards)."""
        with self.fresh_database(label, keep) as url:
            apply_migrations(url)
            yield url

    def close(self) -> None:
        self.resources.close()
        self.worlds.clear()
        if self._owned is not None:
            self._owned.stop()


class Ticker:
    """Progress for a loop: a line at most every ``every`` seconds."""

    def __init__(
        self, progress: Progress, label: str, total: int | None = None, every: float = 5.0
    ) -> None:
        self.progress, self.label, self.total, self.every = progress, label, total, every
        self.started = self.last = time.monotonic()

    def __call__(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        of = f"/{self.total:,}" if self.total else ""
        rate = done / max(now - self.started, 1e-9)
        self.progress(f"{self.label}: {done:,}{of} ({rate:,.0f}/s){' ' + extra if extra else ''}")


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (None: unset) inside the block, restored after."""
    saved = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
