"""Run the venv's dbt on the hub: ``python -m dagster_project.transform.dbt_run ARGS...``.

The connection comes from ``DISTROHUB_DATABASE_URL`` (or, for the embedded hub,
from the generated ``$DISTROHUB_STATE_DIR/credentials.env``) through
:mod:`~dagster_project.transform.dbt_env`; ``make docs`` runs ``docs generate``
with it (the site lands in ``dbt_project/target/``; ``dbt docs serve
--profiles-dir dbt_project --project-dir dbt_project`` shows it).
"""

from __future__ import annotations

import subprocess
import sys

from dagster_project.hub import settings
from dagster_project.transform.dbt_env import dbt_env
from dagster_project.transform.project import DBT_EXECUTABLE, DBT_PROJECT_DIR


def run_dbt(args: list[str]) -> int:
    settings.load_generated_environment()
    if not dbt_env().get(settings.ENV_DATABASE_URL):
        print(
            f"no hub: set {settings.ENV_DATABASE_URL} or start the embedded one (`make demo`)",
            file=sys.stderr,
        )
        return 2
    command = [
        str(DBT_EXECUTABLE),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    return subprocess.run(command, env=dbt_env(), cwd=DBT_PROJECT_DIR, check=False).returncode


if __name__ == "__main__":
    sys.exit(run_dbt(sys.argv[1:]))
