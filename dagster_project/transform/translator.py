"""How Dagster names the dbt project's nodes: ``raw/<system>__<stream>`` for sources (from the
generated sources' ``meta.dagster.asset_key``), ``<layer>/<model>`` in group ``<layer>``
(staging, core, marts, publish) for models, and each model's freshness SLA as its policy.

Used by the dbt assets (``defs/models/dbt.py``) and by the SLA checks, which find a model's
asset key without loading the definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from dagster_project.hub.slas import freshness_policy, model_sla_minutes

LAYERS = ("staging", "core", "marts", "publish")


def _layer(props: Mapping[str, Any]) -> str:
    fqn = props.get("fqn") or []
    for part in fqn[1:-1]:
        if part in LAYERS:
            return part
    return props.get("schema") or "dbt"


class DistrohubDbtTranslator(DagsterDbtTranslator):
    """raw/<system>__<stream> for sources, <layer>/<model> (group = layer) for models."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta = dbt_resource_props.get("meta") or {}
            declared = (meta.get("dagster") or {}).get("asset_key")
            return dg.AssetKey(declared or ["raw", dbt_resource_props["name"]])
        return dg.AssetKey([_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        """The model's freshness SLA (``meta.freshness_sla_minutes``) as its
        Dagster freshness policy: failing past the SLA, warning at half of it."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        minutes = model_sla_minutes(self.get_resource_props(manifest, unique_id))
        if minutes is None:
            return spec
        return spec.replace_attributes(freshness_policy=freshness_policy(minutes))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return _layer(dbt_resource_props)
