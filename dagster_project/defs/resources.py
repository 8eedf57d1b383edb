import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.hub.resource import hub_database_from_env
from dagster_project.transform.dbt_env import DBT_ON_HUB_EXECUTABLE
from dagster_project.transform.project import dbt_project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "hub": hub_database_from_env(),
            # dbt's connection comes from DISTROHUB_DATABASE_URL in the environment of each dbt
            # process it starts (distrohub-dbt: transform/dbt_env.py).
            "dbt": DbtCliResource(
                project_dir=dbt_project(),
                profiles_dir=str(dbt_project().profiles_dir),
                dbt_executable=str(DBT_ON_HUB_EXECUTABLE),
            ),
        }
    )
