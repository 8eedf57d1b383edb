"""What a run of the whole pipeline achieved, read back from the hub: the demo's closing
summary (orders that reached the ERP, availability and prices per channel, the order-to-cash
steps, reconciliation findings, gates passed and held)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

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
    #: order to cash: step → (count, amount or None), e.g. "invoices posted" → (40, 1234.50)
    order_to_cash: dict[str, tuple[int, Decimal | None]] = field(default_factory=dict)


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
    out.order_to_cash = _order_to_cash(conn)
    out.dead_letters = conn.execute(
        "select count(*) from ops.dead_letter where resolved_at is null"
    ).fetchone()[0]
    return out


def _order_to_cash(conn: psycopg.Connection) -> dict[str, tuple[int, Decimal | None]]:
    """What the ERP and the customers were told after intake, read from the targets' answers
    in the outbox (a document made in this very run is in the ERP's streams only after the
    next load): shipments posted, invoices and credit notes posted with their totals (each
    document once), order lines backordered, notices sent."""
    from dagster_project.operations.status import relation_exists

    posted = ["posted", "paid"]
    shipments, invoices, invoiced, notes, credited = conn.execute(
        """with answers as (
               select distinct on (target, record_key) target, status, response
                 from ops.outbox
                where target in ('erp_shipment_postings', 'erp_returns')
                  and status <> 'superseded'
                order by target, record_key, id desc
           ),
           held as (select * from answers where status in ('delivered', 'existed')),
           invoices as (
               select distinct response->'invoice'->>'id' as id,
                      (response->'invoice'->>'total')::numeric as total
                 from held
                where target = 'erp_shipment_postings'
                  and response->'invoice'->>'state' = any(%(posted)s)
           ),
           notes as (
               select distinct response->>'credit_note_id' as id,
                      (response->>'credit_note_total')::numeric as total
                 from held
                where target = 'erp_returns'
                  and response->>'credit_note_state' = any(%(posted)s)
           )
           select (select count(*) from held where target = 'erp_shipment_postings'),
                  (select count(*) from invoices),
                  (select coalesce(sum(total), 0) from invoices),
                  (select count(*) from notes),
                  (select coalesce(sum(total), 0) from notes)""",
        {"posted": posted},
    ).fetchone()
    steps: dict[str, tuple[int, Decimal | None]] = {
        "shipments posted in the ERP": (shipments, None),
        "invoices posted": (invoices, invoiced),
        "credit notes posted": (notes, credited),
    }
    if relation_exists(conn, "core", "order_line"):
        (backordered,) = conn.execute(
            "select count(*) from core.order_line where backordered_quantity > 0"
        ).fetchone()
        steps["order lines backordered"] = (backordered, None)
    if relation_exists(conn, "marts", "order_notices"):
        (sent,) = conn.execute(
            "select count(*) from marts.order_notices where status = 'sent'"
        ).fetchone()
        steps["customer notices sent"] = (sent, None)
    return steps


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
    cash = Table(title="order to cash (what the ERP and the customers were told)")
    cash.add_column("step", no_wrap=True)
    cash.add_column("count", justify="right")
    cash.add_column("amount", justify="right")
    for step, (count, amount) in summary.order_to_cash.items():
        cash.add_row(step, str(count), "" if amount is None else f"{amount:,.2f}")
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
        cash,
        findings,
        lines,
        *(Text.from_markup(line) for line in held_gates),
        footer,
    )
