"""The hub database itself, as an asset: its schema version and layers."""

import dagster as dg

from dagster_project.hub.migrate import apply_migrations, available
from dagster_project.hub.resource import HubDatabase

LAYERS = ("raw", "staging", "core", "marts", "publish", "ops")


@dg.asset(
    group_name="hub",
    kinds={"postgres"},
    description=(
        "The hub database's schemas (raw, staging, core, marts, publish, ops), brought to the "
        "latest migration. Materializing applies any pending migration (idempotent, one "
        "transaction, under an advisory lock), which is how a deployed hub is upgraded."
    ),
)
def hub_schema(context: dg.AssetExecutionContext, hub: HubDatabase) -> dg.MaterializeResult:
    applied = apply_migrations(hub.url)
    with hub.connect() as conn:
        version = conn.execute("select max(version) from ops.schema_migrations").fetchone()[0]
        rows = conn.execute(
            """select n.nspname, count(c.oid)
                 from pg_namespace n
                 left join pg_class c on c.relnamespace = n.oid
                  and c.relkind in ('r', 'v', 'm', 'p')
                where n.nspname = any(%s)
                group by n.nspname""",
            (list(LAYERS),),
        ).fetchall()
    relations = dict(rows)
    missing = [layer for layer in LAYERS if layer not in relations]
    if missing:
        raise dg.Failure(f"Hub at {hub.display_url} lacks schemas {missing} after migrating.")
    context.log.info(f"hub schema at version {version}; applied now: {applied or 'nothing'}")
    return dg.MaterializeResult(
        metadata={
            "schema_version": version,
            "migrations_applied_now": ", ".join(applied) or "none",
            "migrations_known": len(available()),
            **{f"relations_in_{layer}": relations[layer] for layer in LAYERS},
            "server": hub.display_url,
        }
    )


# The hub's bookkeeping tables that dbt reads: written by ingest and delivery, not by an asset
# of their own, so they are declared (not materialized) here for the lineage to start from.
def _ops_table(name: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=["ops", name],
        group_name="hub",
        kinds={"postgres"},
        deps=[hub_schema],
        description=f"ops.{name}: {description}",
    )


ops_ingest_batches = _ops_table(
    "ingest_batches",
    "one row per stream load (written by every ingest asset); dbt reads it for the age of "
    "each feed.",
)
ops_published_state = _ops_table(
    "published_state",
    "what each publish target was last told, per record (written by delivery); "
    "reconciliation compares the live targets with it.",
)
ops_outbox = _ops_table(
    "outbox",
    "every message to a target system with its idempotency key, status and the target's "
    "answer (written by delivery); routing reads it so an order released once is not routed "
    "again.",
)
ops_quarantine = _ops_table(
    "quarantine",
    "input that could not be loaded, with its reason and business error code (written by "
    "every ingest asset); marts.ops_sync_health and marts.ops_exceptions show what is open.",
)
ops_dead_letter = _ops_table(
    "dead_letter",
    "messages a target refused or that failed every attempt (written by delivery; resolved by "
    "`distrohub dlq retry|discard`); marts.ops_exceptions lists the open ones.",
)
ops_gate_results = _ops_table(
    "gate_results",
    "every gate evaluation of a publish model and its verdict (written by the gate checks); "
    "marts.ops_exceptions shows the targets whose latest verdict holds them.",
)
