"""The dbt side of the hub: generated sources, dbt's environment, the manifest."""
