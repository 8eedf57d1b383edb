"""The selling and stocking policy declared beside each system in ``defs.yaml``.

A storefront block's ``settings.channel`` says what the store sells and how; a
warehouse-like block's ``settings`` (beside ``location``) say where the location
ships and how fresh its stock feed must be. They are validated here (a typo is an
error naming the system and the field) and rendered by
:mod:`dagster_project.transform.sources` into the dbt macros ``distrohub_channels()``
and ``distrohub_locations()``, which ``core.channel`` and ``core.location`` read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Allocation(BaseModel):
    """How a location's sellable quantity is split between channels.

    Channels take their ``reserved`` quantity first, in ``priority`` order (1 first);
    each then sees ``share`` (0..1) of what is left. The default, ``reserved`` 0 and
    ``share`` 1, is one shared pool.
    """

    model_config = ConfigDict(extra="forbid")
    priority: int = Field(default=1, ge=1)
    reserved: int = Field(default=0, ge=0)
    share: float = Field(default=1.0, ge=0.0, le=1.0)


class ChannelPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_-]*$")
    selling_unit: Literal["EA", "CS"] = "EA"
    price_list: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    service_levels: list[str] = Field(min_length=1)
    sell_incoming: bool = False
    allocation: Allocation = Allocation()
    #: a short pick's rest: ``allow`` keeps the ERP's backorder open, ``cancel`` cancels it
    #: (publish.erp_shipment_postings carries it to the ERP)
    backorder: Literal["allow", "cancel"] = "allow"


class LocationPolicy(BaseModel):
    model_config = ConfigDict(extra="allow")  # the block's other settings (outbox_env, ...)
    location: str
    shipping_zone: str
    service_levels: list[str] = Field(min_length=1)
    stock_feed_sla_minutes: int = Field(gt=0)
    stale_stock: Literal["hold", "zero"] = "hold"


class PolicyError(ValueError):
    """A system's declared policy is invalid; the message names the system and the field."""


def _explain(system: str, what: str, exc: ValidationError) -> PolicyError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in exc.errors()
    )
    where = "settings.channel" if what == "channel" else "settings"
    return PolicyError(f"{system}: {where} in defs.yaml: {problems}")


def channel_policy(system: str, settings: dict[str, Any]) -> ChannelPolicy | None:
    """The store's channel policy, or None when the block declares none."""
    raw = settings.get("channel")
    if raw is None:
        return None
    try:
        return ChannelPolicy.model_validate(raw)
    except ValidationError as exc:
        raise _explain(system, "channel", exc) from None


def location_policy(system: str, settings: dict[str, Any]) -> LocationPolicy | None:
    """The location policy of a warehouse-like system (one with ``settings.location``)."""
    if not settings.get("location"):
        return None
    try:
        return LocationPolicy.model_validate(settings)
    except ValidationError as exc:
        raise _explain(system, "location", exc) from None
