import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.hub.resource import hub_database_from_env
from dagster_project.transform.project import DBT_EXECUTABLE, dbt_project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "hub": hub_database_from_env(),
            # dbt's connection comes from DISTROHUB_DATABASE_URL at each run (defs/models/dbt.py).
            "dbt": DbtCliResource(
                project_dir=dbt_project(),
                profiles_dir=str(dbt_project().profiles_dir),
                dbt_executable=str(DBT_EXECUTABLE),
            ),
        }
    )
