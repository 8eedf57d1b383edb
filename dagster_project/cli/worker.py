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


def _dagster_reporter():
    """Each narrow publish as an observation of ``deliver/<target>`` in Dagster's event log,
    so the UI shows it beside the runs (None, with a warning, when Dagster's storage is not
    reachable: the worker still works)."""
    try:
        import dagster as dg

        from dagster_project.hub.dagster_home import ensure_dagster_home

        ensure_dagster_home()
        instance = dg.DagsterInstance.get()
    except Exception as exc:
        console.print(
            f"[yellow]worker:[/] Dagster's storage is not reachable ({exc}); narrow "
            "publishes are recorded in ops.narrow_runs only"
        )
        return None

    def report(result) -> None:
        metadata = {
            "path": "narrow (distrohub worker)",
            "gate": "passed" if result.passed else "held",
            "summary": result.summary,
            "skus_changed": result.changed,
            "skus_in_scope": result.scope,
            "rows_rewritten": result.rows_written,
            "messages_enqueued": result.messages,
            "delivered": result.delivery.delivered if result.delivery else 0,
            "seconds": round(result.seconds.get("total", 0.0), 3),
            "data_version": result.full_version or result.version,
        }
        instance.report_runless_asset_event(
            dg.AssetObservation(asset_key=["deliver", result.target], metadata=metadata)
        )

    return report


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
    service = NarrowWorker(url, say=lambda m: console.log(m), report=_dagster_reporter())
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
