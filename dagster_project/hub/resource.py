"""The hub database as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from dagster_project.hub.settings import ENV_DATABASE_URL, redact


class HubDatabase(dg.ConfigurableResource):
    """The PostgreSQL hub (``DISTROHUB_DATABASE_URL``), connected with psycopg 3."""

    url: str

    @contextmanager
    def connect(self, **kwargs) -> Iterator[psycopg.Connection]:
        try:
            conn = psycopg.connect(self.url, connect_timeout=10, **kwargs)
        except psycopg.OperationalError as exc:
            raise dg.Failure(
                description=(
                    f"Cannot reach the hub database at {redact(self.url)}: {exc}. "
                    f"Start it with `distrohub hub start`, or fix {ENV_DATABASE_URL}."
                )
            ) from exc
        with conn:
            yield conn

    @property
    def display_url(self) -> str:
        return redact(self.url)


def hub_database_from_env() -> HubDatabase:
    return HubDatabase(url=dg.EnvVar(ENV_DATABASE_URL))
