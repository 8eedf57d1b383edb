"""The long-lived worker that keeps the event path out of Dagster's and dbt's start-up.

See :mod:`dagster_project.worker.service`.
"""
