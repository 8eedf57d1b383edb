"""`distrohub hub start|stop|status|url|psql`: the hub's PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sys

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from dagster_project.hub import settings
from dagster_project.hub.cluster import ClusterError
from dagster_project.hub.lifecycle import embedded_cluster, start_hub, stop_hub
from dagster_project.hub.migrate import applied_versions

console = Console()
err = Console(stderr=True)

ROLES = {
    "owner": settings.ENV_DATABASE_URL,
    "dagster": settings.ENV_DAGSTER_DATABASE_URL,
    "admin": settings.ENV_ADMIN_DATABASE_URL,
}


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]hub:[/] {exc}")
    sys.exit(1)


@click.group()
def hub() -> None:
    """The hub's PostgreSQL: embedded under .distrohub/pg, or DISTROHUB_DATABASE_URL."""


@hub.command()
def start() -> None:
    """Start the embedded cluster (or reach the external one) and apply migrations."""
    try:
        with console.status("starting the hub…"):
            state = start_hub(lambda m: console.log(m))
    except (ClusterError, settings.HubNotConfigured) as exc:
        _fail(exc)
    verb = (
        "started"
        if state.started_now
        else "already running"
        if state.mode == "embedded"
        else "reachable"
    )
    console.print(
        f"[green]hub {verb}[/] ({state.mode}) at {state.urls.server}; "
        f"DAGSTER_HOME={settings.dagster_home()}"
    )


@hub.command()
def stop() -> None:
    """Stop the embedded cluster if distrohub started it."""
    try:
        console.print(f"hub: {stop_hub()}")
    except ClusterError as exc:
        _fail(exc)


@hub.command()
def status() -> None:
    """Show where the hub is and whether it runs."""
    settings.load_generated_environment()
    table = Table(title="distrohub hub", show_header=False)
    if settings.is_external():
        urls = settings.hub_urls()
        table.add_row("mode", "external")
        table.add_row("hub", settings.redact(urls.hub))
        table.add_row("dagster storage", settings.redact(urls.dagster))
        running = True
    else:
        st = embedded_cluster().status()
        running = st["running"]
        table.add_row("mode", "embedded")
        table.add_row("running", "[green]yes[/]" if running else "[red]no[/]")
        for key in ("pid", "host", "port", "data_dir", "log"):
            table.add_row(key, str(st[key]))
    if running:
        try:
            versions = applied_versions(settings.hub_urls().hub)
            table.add_row("migrations", ", ".join(versions) or "none")
        except Exception as exc:  # status must still print what it knows
            table.add_row("migrations", f"[red]unreadable: {exc}[/]")
    console.print(table)
    sys.exit(0 if running else 3)


def _url_for(role: str) -> str:
    settings.load_generated_environment()
    if role == "analyst":
        password = os.environ.get(settings.ENV_ANALYST_PASSWORD)
        if not password:
            raise settings.HubNotConfigured(
                f"{settings.ENV_ANALYST_PASSWORD} is not set (the embedded hub generates it)."
            )
        owner = settings.hub_urls().hub
        return (
            make_url(owner)
            .set(username=settings.ANALYST_ROLE, password=password)
            .render_as_string(hide_password=False)
        )
    url = os.environ.get(ROLES[role])
    if role == "dagster" and not url:
        url = settings.hub_urls().dagster
    if not url:
        raise settings.HubNotConfigured(
            f"{ROLES[role]} is not set: run `distrohub hub start` or set it."
        )
    return url


ROLE_CHOICE = click.Choice(["owner", "analyst", "dagster", "admin"])


@hub.command()
@click.option("--role", type=ROLE_CHOICE, default="owner", show_default=True)
@click.option("--with-password", is_flag=True, help="Print the password too (for scripts).")
def url(role: str, with_password: bool) -> None:
    """Print the connection URL (password hidden unless --with-password)."""
    try:
        value = _url_for(role)
    except settings.HubNotConfigured as exc:
        _fail(exc)
    click.echo(value if with_password else settings.redact(value))


@hub.command(context_settings={"ignore_unknown_options": True})
@click.option("--role", type=ROLE_CHOICE, default="owner", show_default=True)
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def psql(role: str, psql_args: tuple[str, ...]) -> None:
    """Open psql on the hub (extra arguments go to psql, e.g. -c 'select 1')."""
    try:
        target = make_url(_url_for(role))
    except settings.HubNotConfigured as exc:
        _fail(exc)
    exe = shutil.which("psql")
    if exe is None:
        _fail(RuntimeError("psql not found: apt-get install postgresql-client-15"))
    env = dict(os.environ)
    env.update(
        PGHOST=target.host or "127.0.0.1",
        PGPORT=str(target.port or 5432),
        PGUSER=target.username or "",
        PGDATABASE=target.database or "",
        PGPASSWORD=target.password or "",
    )
    os.execvpe(exe, [exe, *psql_args], env)
