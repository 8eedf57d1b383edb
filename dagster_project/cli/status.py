"""`distrohub status [--json]`: every sync, gate, outbox and open problem at a glance.

Exit status: 0 healthy, 1 attention needed (a stale or failed feed, a held gate, a stalled
delivery, an open dead letter or error-severity exception, or the ops marts not built),
2 the hub is not configured or not reachable.
"""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

console = Console()
err = Console(stderr=True)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Show the health of every sync, gate, outbox and open exception (exit 1 if not healthy)."""
    import psycopg

    from dagster_project.hub.settings import HubNotConfigured, hub_urls, redact
    from dagster_project.operations.status import collect, render

    try:
        url = hub_urls().hub
    except HubNotConfigured as exc:
        err.print(f"[red]{exc}[/]")
        sys.exit(2)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            result = collect(conn)
    except psycopg.errors.UndefinedTable as exc:
        err.print(
            f"[red]The hub at {redact(url)} lacks its ops tables[/] ({str(exc).strip()}): apply "
            "the migrations (`distrohub hub start`, or materialize hub_schema in Dagster)."
        )
        sys.exit(2)
    except psycopg.OperationalError as exc:
        err.print(
            f"[red]The hub at {redact(url)} is not reachable[/]: {str(exc).strip()}. "
            "Start it (`distrohub hub start`) or correct DISTROHUB_DATABASE_URL."
        )
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        render(result, console)
    sys.exit(0 if result.healthy else 1)
