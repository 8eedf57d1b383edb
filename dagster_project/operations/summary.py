"""What a run of the whole pipeline achieved, read back from the hub: the demo's closing
summary (orders that reached the ERP, availability and prices per channel, reconciliation
findings, gates passed and held)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from rich.console import Group
from rich.table import Table
from rich.text import Text

#: the messages a target holds: sent and acknowledged, found there already, or its own value
IN_TARGET = ("delivered", "existed", "suppressed")


@dataclass
class RunSummary:
    orders_in_erp: int = 0
    orders_held: dict[str, int] = field(default_factory=dict)
    #: system (channel) → (inventory levels, prices) the store holds as we told it
    channels: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: reconciliation mart → (findings, of which past their SLA)
    findings: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: target → (passed, summary) of its latest gate verdict
    gates: dict[str, tuple[bool, str]] = field(default_factory=dict)
    dead_letters: int = 0
    #: storefront orders cancelled after intake, by state (marts.order_cancellations_status)
    cancellations: dict[str, int] = field(default_factory=dict)


def collect_summary(conn: psycopg.Connection) -> RunSummary:
    """Read the summary from the hub."""
    from dagster_project.operations.status import gate_verdicts, relation_exists

    gated = [g for g in gate_verdicts(conn) if g.passed is not None]  # None: never gated
    out = RunSummary(gates={g.target: (bool(g.passed), g.summary) for g in gated})
    out.orders_in_erp = conn.execute(
        """select count(distinct record_key) from ops.outbox
            where target = 'erp_sales_orders' and status = any(%s)""",
        (list(IN_TARGET),),
    ).fetchone()[0]
    if relation_exists(conn, "publish", "erp_sales_orders"):
        out.orders_held = dict(
            conn.execute(
                """select hold_reason, count(distinct order_key)::int
                     from publish.erp_sales_orders where hold_reason is not null
                    group by hold_reason order by hold_reason"""
            ).fetchall()
        )
    for system, levels, prices in conn.execute(
        """select system,
                  count(distinct record_key) filter (where target = 'storefront_inventory'),
                  count(distinct record_key) filter (where target = 'storefront_prices')
             from ops.outbox
            where target in ('storefront_inventory', 'storefront_prices')
              and status = any(%s)
            group by system order by system""",
        (list(IN_TARGET),),
    ):
        out.channels[system] = (levels, prices)
    recon = [
        r[0]
        for r in conn.execute(
            """select table_name from information_schema.tables
                where table_schema = 'marts' and table_name like 'recon\\_%%'
                order by table_name"""
        )
    ]
    for name in recon:
        total, breached = conn.execute(
            sql.SQL(
                "select count(*), count(*) filter (where sla_status = 'breached') from {}"
            ).format(sql.Identifier("marts", name))
        ).fetchone()
        out.findings[name] = (total, breached)
    if relation_exists(conn, "marts", "order_cancellations_status"):
        out.cancellations = dict(
            conn.execute(
                """select state, count(*)::int from marts.order_cancellations_status
                    group by state order by state"""
            ).fetchall()
        )
    out.dead_letters = conn.execute(
        "select count(*) from ops.dead_letter where resolved_at is null"
    ).fetchone()[0]
    return out


def render_summary(summary: RunSummary, ui_url: str) -> Group:
    """The closing summary as rich renderables."""
    lines = Text()
    held = sum(summary.orders_held.values())
    lines.append("orders that reached the ERP: ", style="bold")
    lines.append(f"{summary.orders_in_erp}")
    if held:
        reasons = ", ".join(f"{n} {reason}" for reason, n in summary.orders_held.items())
        lines.append(f"; {held} held before the ERP ({reasons})", style="yellow")
    lines.append("\n")
    passed = sorted(t for t, (ok, _) in summary.gates.items() if ok)
    failed = sorted(t for t, (ok, _) in summary.gates.items() if not ok)
    lines.append("gates: ", style="bold")
    lines.append(f"{len(passed)} passed")
    if failed:
        lines.append(f", {len(failed)} held: {', '.join(failed)}", style="red")
    lines.append("\n")
    if summary.cancellations:
        states = ", ".join(f"{n} {state}" for state, n in summary.cancellations.items())
        lines.append("orders cancelled after intake: ", style="bold")
        lines.append(f"{sum(summary.cancellations.values())} ({states})\n")
    if summary.dead_letters:
        lines.append(f"dead letters: {summary.dead_letters} (distrohub dlq list)\n", style="yellow")
    channels = Table(title="published per channel (what each store holds as we told it)")
    channels.add_column("storefront", no_wrap=True)
    channels.add_column("availability levels", justify="right")
    channels.add_column("prices", justify="right")
    for system, (levels, prices) in sorted(summary.channels.items()):
        channels.add_row(system, str(levels), str(prices))
    findings = Table(title="reconciliation findings (marts.recon_*)")
    findings.add_column("view", no_wrap=True)
    findings.add_column("findings", justify="right")
    findings.add_column("past SLA", justify="right")
    for name, (total, breached) in sorted(summary.findings.items()):
        findings.add_row(name, str(total), str(breached), style="yellow" if breached else None)
    held_gates = [f"[red]held[/] {t}: {summary.gates[t][1]}" for t in failed]
    footer = Text.from_markup(
        f"The Dagster UI: [bold]make ui[/] → {ui_url} (lineage under Assets, "
        "checks on each asset, schedules and sensors under Automation); "
        "[bold]distrohub status[/] for the health of every system."
    )
    return Group(
        channels,
        findings,
        lines,
        *(Text.from_markup(line) for line in held_gates),
        footer,
    )
