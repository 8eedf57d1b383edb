"""How a partner's shipment confirmations are linked to orders: ``settings.shipment_matching``.

Every confirmation (a WMS shipment, a 3PL 945, a drop-ship supplier's 856) carries the
sender's order reference. ``core.shipment`` links it to its order, first match wins:

1. the reference is an order key (``D2C#1015``);
2. the reference, or the WMS's release id, is a release the hub sent (``ops.outbox``) or one
   the WMS reports: its order;
3. the sender's rules, declared in its system block, tried in order::

       settings:
         shipment_matching:
           order_reference:          # PostgreSQL regular expressions, tried in order
             - '^HIST-(.+)$'         # the one capturing group is the order key

   A pattern that matches and whose group names an order links the confirmation; one that
   names no order passes to the next pattern.

A confirmation nothing links stays ``unmatched`` (``marts.recon_shipments``) and is a
``shipment_unmatched`` row of ``marts.ops_exceptions`` naming this key as the fix.

The patterns are checked when the YAML loads (:func:`shipment_matching`, called by
:class:`~dagster_project.ingest.declarations.SystemDeclaration`): each must compile, have
exactly one capturing group (non-capturing ``(?:...)`` are fine) and use no Python-only syntax
(named groups ``(?P<name>...)``), since PostgreSQL runs them (``substring(ref from
pattern)``). Python's ``re`` checks the syntax the two share; a construct only PostgreSQL has
(``\\m``, ``\\y``) is refused here rather than failing in dbt.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

SETTING = "shipment_matching"

#: Python-only group syntax PostgreSQL's regular expressions do not have
_PYTHON_ONLY = re.compile(r"\(\?P[<=>]|\(\?<[A-Za-z_]")


def check_pattern(pattern: str) -> str:
    """``pattern`` if PostgreSQL can run it as an order-key rule; else ValueError saying why."""
    if _PYTHON_ONLY.search(pattern):
        raise ValueError(
            f"pattern {pattern!r} uses a named group, which PostgreSQL regular expressions do "
            "not have: write one plain group, e.g. '^HIST-(.+)$'"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    if compiled.groups != 1:
        raise ValueError(
            f"pattern {pattern!r} has {compiled.groups} capturing groups: it needs exactly one, "
            "the order key (use (?:...) for the others)"
        )
    return pattern


class ShipmentMatching(BaseModel):
    """A partner's rules linking its confirmations' order references to order keys."""

    model_config = ConfigDict(extra="forbid")
    order_reference: list[Annotated[str, AfterValidator(check_pattern)]] = Field(
        default_factory=list,
        description="PostgreSQL regular expressions tried in order on the sender's order "
        "reference; the one capturing group is the order key.",
    )


def shipment_matching(settings: dict[str, Any]) -> ShipmentMatching:
    """The block's ``settings.shipment_matching`` validated (empty when it declares none);
    ValueError naming the setting and the bad pattern."""
    raw = settings.get(SETTING)
    if raw is None:
        return ShipmentMatching()
    try:
        return ShipmentMatching.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"settings.{SETTING}"
            + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            + ": "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise ValueError(problems) from None
