import dagster as dg

from dagster_project.hub.resource import hub_database_from_env


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"hub": hub_database_from_env()})
