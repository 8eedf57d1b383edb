"""Operating the hub: the status summary and the demo's closing summary (the SLA rules are in
:mod:`dagster_project.hub.slas`, the SLA checks in :mod:`dagster_project.components.sla_checks`)."""
