"""Transports: one module per kind; :func:`open_transport` builds one for a declared system.

The system's declaration (``defs.yaml``, read by
:func:`dagster_project.ingest.registry.declared_systems`) names the variables
holding its URL, folder and credentials; they are read here, when the
transport is opened, so a missing one is a :class:`TransportConfigError`
naming it before anything is sent.
"""

from __future__ import annotations

from dagster_project.ingest.readers import ConfigurationError, SystemConfig
from dagster_project.ingest.registry import declared_systems
from dagster_project.publish.transports.base import (
    Message,
    Outcome,
    Status,
    Transport,
    TransportConfigError,
)

KINDS = (
    "shopify_inventory_levels",
    "shopify_variant_prices",
    "shopify_fulfillments",
    "tryton_sales_orders",
    "wms_releases",
    "x12_940",
    "x12_850",
    "tryton_returns",
    "smtp_notices",
    "tryton_sale_cancels",
    "wms_release_cancels",
    "x12_940_cancel",
    "tryton_shipment_postings",
)

__all__ = [
    "KINDS",
    "Message",
    "Outcome",
    "Status",
    "Transport",
    "TransportConfigError",
    "open_transport",
    "system_config",
]


def system_config(system: str) -> SystemConfig:
    """The declared configuration of ``system``, or a config error naming it."""
    systems = declared_systems()
    if system not in systems:
        raise TransportConfigError(
            f"{system}: no such system is declared in dagster_project/defs (declared: "
            f"{', '.join(sorted(systems))}); fix the message's system or declare it"
        )
    return systems[system][0]


def open_transport(kind: str, system: str, *, hub_url: str | None = None) -> Transport:
    """A transport of ``kind`` to ``system``. ``hub_url`` (X12 kinds only) is the hub
    database for control numbers; default ``DISTROHUB_DATABASE_URL``."""
    config = system_config(system)
    try:
        if kind in ("shopify_inventory_levels", "shopify_variant_prices", "shopify_fulfillments"):
            from dagster_project.publish.transports import shopify

            return shopify.open_shopify(kind, config)
        if kind == "tryton_sales_orders":
            from dagster_project.publish.transports.tryton import TrytonSalesOrders

            return TrytonSalesOrders.from_config(config)
        if kind == "tryton_returns":
            from dagster_project.publish.transports.tryton_returns import TrytonReturns

            return TrytonReturns.from_config(config)
        if kind == "tryton_shipment_postings":
            from dagster_project.publish.transports.tryton_shipments import (
                TrytonShipmentPostings,
            )

            return TrytonShipmentPostings.from_config(config)
        if kind == "wms_releases":
            from dagster_project.publish.transports.wms import WmsReleases

            return WmsReleases.from_config(config)
        if kind == "tryton_sale_cancels":
            from dagster_project.publish.transports.tryton_cancel import TrytonSaleCancels

            return TrytonSaleCancels.from_config(config)
        if kind == "wms_release_cancels":
            from dagster_project.publish.transports.wms_cancel import WmsReleaseCancels

            return WmsReleaseCancels.from_config(config)
        if kind in ("x12_940", "x12_850", "x12_940_cancel"):
            from dagster_project.publish.transports.x12_files import X12FileTransport

            return X12FileTransport.from_config(kind, config, hub_url=hub_url)
        if kind == "smtp_notices":
            from dagster_project.publish.transports.smtp import SmtpNotices

            return SmtpNotices.from_config(config)
    except ConfigurationError as exc:
        raise TransportConfigError(str(exc)) from None
    raise TransportConfigError(
        f"{system}: unknown transport kind {kind!r}; use one of {', '.join(KINDS)}"
    )
