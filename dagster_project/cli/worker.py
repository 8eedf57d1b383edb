"""`distrohub worker`: the long-lived worker of the narrow path (dagster_project/worker/)."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click
from rich.console import Console

from dagster_project.hub import settings

console = Console()


@click.command("worker")
@click.option("--once", is_flag=True, help="Process what is in the inbox now, then exit.")
@click.option(
    "--poll-seconds", default=5.0, show_default=True, help="Look at the inbox at least this often."
)
def worker(once: bool, poll_seconds: float) -> None:
    """Stock events to the storefronts in about a second: re-read the SKUs an event names,
    rebuild their rows through the same models, gate them, deliver (publish/narrow.py)."""
    from dagster_project.publish.narrow import NarrowError
    from dagster_project.worker.service import NarrowWorker

    settings.load_generated_environment()
    logging.basicConfig(level=logging.WARNING)
    try:
        url = settings.hub_urls().hub
    except settings.HubNotConfigured as exc:
        console.print(f"[red]worker:[/] {exc}")
        sys.exit(2)
    service = NarrowWorker(url, say=lambda m: console.log(m))
    try:
        if once:
            service.prepare()
            result = service.run_once()
            sys.exit(1 if result.errors else 0)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        console.log(f"worker on {settings.redact(url)}; Ctrl-C stops it")
        service.serve(stop, poll_seconds=poll_seconds)
    except NarrowError as exc:
        console.print(f"[red]worker:[/] {exc}")
        sys.exit(1)
