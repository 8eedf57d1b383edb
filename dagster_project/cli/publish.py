"""`distrohub publish`, `distrohub dlq`, `distrohub replay`: delivery by hand.

* ``publish TARGET [--dry-run]``: the same step as the Dagster asset ``deliver/<target>``
  (gate re-verified for the exact rows, diff, outbox, delivery); ``--dry-run`` prints the diff
  it would send and sends nothing (no outbox row, no call, no published state).
* ``dlq list|retry|discard``: the dead letters in ``ops.dead_letter``.
* ``replay TARGET --since T``: send again what the target was told since ``T`` (after the
  target lost data, e.g. restored from a backup); every transport makes a resend harmless.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def _hub_url() -> str:
    from dagster_project.hub.settings import HubNotConfigured, hub_urls

    try:
        return hub_urls().hub
    except HubNotConfigured as exc:
        err.print(f"[red]{exc}[/]")
        sys.exit(2)


def _target(name: str):
    from dagster_project.publish.targets import UnknownTarget, target

    try:
        return target(name)
    except UnknownTarget as exc:
        err.print(f"[red]{exc}[/]")
        sys.exit(2)


def _short(payload: object, limit: int = 90) -> str:
    text = "" if payload is None else str(payload)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _changed_fields(before: dict | None, after: dict | None) -> str:
    if before is None:
        return _short(after)
    if after is None:
        return "(removed)"
    if "lines" in after and "lines" in before:
        return f"{len(before['lines'])} → {len(after['lines'])} lines, contents changed"
    parts = [
        f"{k}: {before.get(k)} → {after.get(k)}"
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    ]
    return _short("; ".join(parts))


@click.command()
@click.argument("target_name", metavar="TARGET")
@click.option("--dry-run", is_flag=True, help="Print the diff it would send; send nothing.")
@click.option(
    "--accept-blast-radius",
    is_flag=True,
    help="Publish although more changes than the blast-radius limit (recorded in the gate).",
)
@click.option("--show", default=20, show_default=True, help="Diff rows to print (dry run).")
def publish(target_name: str, dry_run: bool, accept_blast_radius: bool, show: int) -> None:
    """Gate, diff and deliver one publish target (e.g. storefront_inventory)."""
    from dagster_project.publish.run import PublishRefused
    from dagster_project.publish.run import publish as run_publish

    url = _hub_url()
    cfg = _target(target_name)
    try:
        result = run_publish(
            url,
            cfg,
            dry_run=dry_run,
            accept_blast_radius=accept_blast_radius,
            sample_size=show,
            log=lambda line: err.print(f"[dim]{line}[/]"),
        )
    except PublishRefused as exc:
        err.print(f"[red]{exc}[/]")
        sys.exit(3)
    c = result.counts
    console.print(
        f"{cfg.target} (publish.{cfg.model}, version {result.data_version}): "
        f"{c.adds} to add, {c.changes} to change, {c.unchanged} unchanged, {c.held} held, "
        f"{c.removals} left the model (kept by the target); {c.published} published before"
    )
    if cfg.drift is not None:
        console.print(
            f"drift: {c.drift} records where the target's own feed differs from what we told it"
            + (
                f" ({c.drift_corrected} to correct)"
                if cfg.drift.mode == "correct"
                else " (drift mode report: recorded, not sent)"
            )
        )
    if dry_run:
        table = Table(title=f"dry run: what {cfg.target} would send (nothing was sent)")
        for col in ("change", "system", "record", "what"):
            table.add_column(col)
        for row in result.sample:
            after = row.after
            if row.change == "drift" and row.before is not None and after is not None:
                # before is the target's own values: the compared columns only
                after = {k: after.get(k) for k in row.before}
            what = _changed_fields(row.before, after)
            if row.in_target:
                what = "(target already holds it: not sent) " + what
            elif row.change == "drift" and cfg.drift is not None and cfg.drift.mode == "report":
                what = "(drift, mode report: not sent) " + what
            table.add_row(row.change, row.system or "", row.record_key, what)
        console.print(table)
        return
    d = result.delivery
    if d is not None:
        meta = d.metadata()
        console.print(
            f"delivered {meta['delivered']}, already there {meta['already_there']}, "
            f"retry scheduled {meta['retry_scheduled']}, dead letters {meta['dead_letters']}, "
            f"waiting {meta['waiting_for_retry']} ({meta['delivery_seconds']} s)"
        )
        for line in d.dead[:10]:
            console.print(f"  [red]dead[/] {line}")
        if d.dead:
            sys.exit(4)


@click.group()
def dlq() -> None:
    """Dead letters: messages a target refused or that failed every attempt."""


@dlq.command("list")
@click.option("--target", "target_name", default=None)
@click.option("--all", "show_all", is_flag=True, help="Resolved ones too.")
def dlq_list(target_name: str | None, show_all: bool) -> None:
    import psycopg

    with psycopg.connect(_hub_url()) as conn:
        rows = conn.execute(
            """select id, target, system, record_key, error_code, error, attempts, failed_at,
                      coalesce(resolution, '')
                 from ops.dead_letter
                where (%(t)s::text is null or target = %(t)s)
                  and (%(all)s or resolved_at is null)
                order by id""",
            {"t": target_name, "all": show_all},
        ).fetchall()
    if not rows:
        console.print("no dead letters" + ("" if show_all else " open"))
        return
    console.print(f"{len(rows)} dead letters" + ("" if show_all else " open"))
    for r in rows:
        resolved = f" ({r[8]})" if r[8] else ""
        console.print(
            f"[bold]#{r[0]}[/] {r[1]} → {r[2]}  {r[3]}  [red]{r[4]}[/]  "
            f"{r[6]} attempts, {r[7]:%Y-%m-%d %H:%M}{resolved}",
            soft_wrap=True,
        )
        console.print(f"    {r[5]}", soft_wrap=True, highlight=False)


def _print_delivery(target: str, result) -> None:
    meta = result.metadata()
    console.print(
        f"{target}: delivered {meta['delivered']}, already there {meta['already_there']}, "
        f"dead letters {meta['dead_letters']}, retry scheduled {meta['retry_scheduled']}"
    )


def _deliver(url: str, target: str) -> None:
    from dagster_project.publish.deliver import deliver

    result = deliver(url, _target(target), log=lambda line: err.print(f"[dim]{line}[/]"))
    _print_delivery(target, result)


def _chosen(ids: tuple[int, ...], target_name: str | None) -> None:
    if not ids and not target_name:
        err.print("[red]name dead letter ids, or --target TARGET for all of a target's[/]")
        sys.exit(2)


@dlq.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--target", "target_name", default=None)
@click.option("--no-deliver", is_flag=True, help="Put them back in the outbox only.")
def dlq_retry(ids: tuple[int, ...], target_name: str | None, no_deliver: bool) -> None:
    """Put dead letters back in the outbox (same idempotency key) and deliver them."""
    import psycopg

    from dagster_project.publish.outbox import retry_dead_letters

    _chosen(ids, target_name)
    url = _hub_url()
    with psycopg.connect(url, autocommit=True) as conn:
        done = retry_dead_letters(conn, ids, target_name)
    for r in done:
        console.print(f"dead letter {r.dead_letter_id} ({r.target} {r.record_key}): {r.note}")
    if not no_deliver:
        for target in sorted({r.target for r in done if r.requeued}):
            _deliver(url, target)


@dlq.command("discard")
@click.argument("ids", nargs=-1, type=int)
@click.option("--target", "target_name", default=None)
@click.option("--reason", required=True, help="Why (kept with the dead letter).")
def dlq_discard(ids: tuple[int, ...], target_name: str | None, reason: str) -> None:
    """Close dead letters without sending them (the reason is kept)."""
    import psycopg

    from dagster_project.publish.outbox import discard_dead_letters

    _chosen(ids, target_name)
    with psycopg.connect(_hub_url(), autocommit=True) as conn:
        done = discard_dead_letters(conn, reason, ids, target_name)
    for r in done:
        console.print(
            f"dead letter {r.dead_letter_id} ({r.target} {r.record_key}) discarded: {reason}"
        )


@click.command()
@click.argument("target_name", metavar="TARGET")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Replay what was sent since then (UTC).",
)
@click.option("--no-deliver", is_flag=True, help="Enqueue only.")
def replay(target_name: str, since: datetime, no_deliver: bool) -> None:
    """Send TARGET again what it was told since --since (its latest state per record)."""
    import psycopg

    from dagster_project.publish.outbox import replay as enqueue_again

    url = _hub_url()
    cfg = _target(target_name)
    with psycopg.connect(url, autocommit=True) as conn:
        n = enqueue_again(conn, cfg.target, since)
    console.print(f"{cfg.target}: {n} records since {since:%Y-%m-%d %H:%M} UTC enqueued again")
    if no_deliver or not n:
        return
    _deliver(url, cfg.target)
