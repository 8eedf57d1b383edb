"""Freshness SLAs, declared in ``defs.yaml``: how old a stream's last successful load may be.

The rules, with no import of the product: the ingest, transform, quality and publish layers
all use them (:func:`dagster_project.ingest.slas.declared_slas` applies them to the declared
systems). One number per stream, read in this order:

1. the stream's ``freshness_minutes``;
2. its system's ``freshness_minutes`` (an attribute of the SystemComponent block);
3. the default of the system's kind (:data:`KIND_SLA_MINUTES`).

The same number drives the Dagster freshness policy of ``raw/<system>__<stream>``, its
``freshness`` asset check, dbt's source freshness (``error_after``; ``warn_after`` is half
of it), ``marts.ops_sync_health`` and the freshness part of every publish gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

#: the SLA of a stream whose system and stream declare none, by the system's kind (minutes)
KIND_SLA_MINUTES: dict[str, int] = {
    "tryton": 24 * 60,
    "shopify": 6 * 60,
    "wms_rest": 4 * 60,
    "file_drop_3pl": 48 * 60,
    "file_drop_csv": 72 * 60,
    "x12_supplier": 168 * 60,
    "carrier_webhook": 72 * 60,
}
DEFAULT_SLA_MINUTES = 72 * 60


def sla_minutes(kind: str, system_minutes: int | None, stream_minutes: int | None) -> int:
    """The freshness SLA of one stream (see the module's docstring for the order)."""
    return stream_minutes or system_minutes or KIND_SLA_MINUTES.get(kind, DEFAULT_SLA_MINUTES)


def model_sla_minutes(props: Mapping[str, Any]) -> int | None:
    """A dbt model's freshness SLA, if any: ``meta.freshness_sla_minutes`` (the model's
    config(), else its folder's in dbt_project.yml)."""
    if props.get("resource_type") != "model":
        return None
    meta = (props.get("config") or {}).get("meta") or props.get("meta") or {}
    minutes = meta.get("freshness_sla_minutes")
    return int(minutes) if minutes else None


def freshness_policy(minutes: int) -> dg.FreshnessPolicy:
    """Dagster's freshness policy for an SLA: failing past it, warning at half of it."""
    import dagster as dg

    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(minutes=minutes), warn_window=timedelta(minutes=minutes / 2)
    )


def describe_minutes(minutes: float) -> str:
    """60 → '1 h', 90 → '1.5 h', 1560 → '26 h', 4320 → '3 d', 45 → '45 min'."""
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f}".rstrip("0").rstrip(".") + " h"
    return f"{hours / 24:.1f}".rstrip("0").rstrip(".") + " d"


def first_few(lines: list[str], limit: int = 5) -> str:
    """The first ``limit`` lines joined with '; ', and how many more there are."""
    more = len(lines) - limit
    return "; ".join(lines[:limit]) + (f"; and {more} more" if more > 0 else "")
