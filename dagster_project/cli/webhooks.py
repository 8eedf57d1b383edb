"""`distrohub webhooks serve`: the webhook receiver on 127.0.0.1."""

from __future__ import annotations

import click
import uvicorn
from rich.console import Console

from dagster_project.hub.settings import load_generated_environment

console = Console()


@click.group()
def webhooks() -> None:
    """Receive signed webhooks into ops.webhook_inbox."""


@webhooks.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve POST /webhooks/<system> (Ctrl-C stops it)."""
    from dagster_project.webhooks.app import create_app

    load_generated_environment()
    app = create_app()
    console.print(f"webhooks on http://{host}:{port}/webhooks/<system>")
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
