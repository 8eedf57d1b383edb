"""Bring the hub up or down, whichever mode it is in (embedded or external)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from dagster_project.hub import settings
from dagster_project.hub.cluster import EmbeddedCluster
from dagster_project.hub.dagster_home import ensure_dagster_home
from dagster_project.hub.migrate import apply_migrations

Progress = Callable[[str], None]


@dataclass(frozen=True)
class HubState:
    mode: str  # "embedded" or "external"
    urls: settings.HubUrls
    started_now: bool
    migrations_applied: list[str]


def embedded_cluster() -> EmbeddedCluster:
    return EmbeddedCluster(settings.state_dir())


def start_hub(progress: Progress | None = None) -> HubState:
    """Start (embedded) or reach (external) the hub, migrate it, prepare DAGSTER_HOME.

    Idempotent: with the embedded cluster already running, nothing is started.
    """
    say = progress or (lambda _m: None)
    settings.load_generated_environment()
    if settings.is_external():
        urls = settings.hub_urls()
        say(f"using the existing server at {urls.server} ({settings.ENV_DATABASE_URL})")
        _check_reachable(urls)
        started_now = False
        mode = "external"
    else:
        info = embedded_cluster().start(say)
        os.environ.update(info.environment())
        urls = settings.hub_urls()
        started_now = info.started_now
        mode = "embedded"
    applied = apply_migrations(urls.hub)
    if applied:
        say(f"applied migrations {', '.join(applied)}")
    ensure_dagster_home()
    return HubState(mode, urls, started_now, applied)


def stop_hub() -> str:
    """Stop the embedded cluster if we started it; say what happened."""
    settings.load_generated_environment()
    if settings.is_external():
        return f"external server ({settings.ENV_DATABASE_URL}): nothing to stop"
    return "stopped" if embedded_cluster().stop() else "was not running"


def _check_reachable(urls: settings.HubUrls) -> None:
    for name, url in (("hub", urls.hub), ("dagster", urls.dagster)):
        try:
            with psycopg.connect(url, connect_timeout=10):
                pass
        except psycopg.OperationalError as exc:
            raise settings.HubNotConfigured(
                f"Cannot connect to the {name} database at {settings.redact(url)}: {exc}. "
                f"Check {settings.ENV_DATABASE_URL} / {settings.ENV_DAGSTER_DATABASE_URL}; "
                "the dagster database must exist (create it once: `createdb dagster`)."
            ) from exc
