"""dbt's connection, from the hub URL: ``DISTROHUB_DATABASE_URL`` → ``DISTROHUB_DBT_*``.

``dbt_project/profiles.yml`` reads host, port, user, password and database from
these variables; nothing secret is written to a file. Each dbt process gets them in
its own environment (``env=`` of the subprocess, or :func:`main` for the one Dagster's
``DbtCliResource`` starts); no process changes its own ``os.environ`` for dbt, so two dbt
steps in one process cannot see each other's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url

from dagster_project.hub.settings import ENV_DATABASE_URL

DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
#: the venv's dbt with the connection from the hub URL (``[project.scripts]``, :func:`main`)
DBT_ON_HUB_EXECUTABLE = Path(sys.executable).parent / "distrohub-dbt"


def dbt_env_from_url(url: str) -> dict[str, str]:
    """The ``DISTROHUB_DBT_*`` variables for a ``postgresql://USER:PASSWORD@HOST:PORT/DB`` URL."""
    parsed = make_url(url)
    return {
        "DISTROHUB_DBT_HOST": parsed.host or "127.0.0.1",
        "DISTROHUB_DBT_PORT": str(parsed.port or 5432),
        "DISTROHUB_DBT_USER": parsed.username or "",
        "DISTROHUB_DBT_PASSWORD": parsed.password or "",
        "DISTROHUB_DBT_DBNAME": parsed.database or "hub",
    }


def dbt_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment to run dbt with: ``environ`` plus the connection from the hub URL.

    Without ``DISTROHUB_DATABASE_URL`` the profile's defaults apply (enough for ``dbt parse``).
    """
    env = dict(os.environ if environ is None else environ)
    url = env.get(ENV_DATABASE_URL)
    if url:
        env.update(dbt_env_from_url(url))
    return env


def main() -> None:
    """``distrohub-dbt ARGS...``: the venv's dbt with :func:`dbt_env` of the environment it was
    started with. Dagster's ``DbtCliResource`` runs it (``dbt_executable``), since dagster-dbt
    0.29 passes a dbt process ``os.environ`` and takes no ``env`` of its own."""
    os.execve(DBT_EXECUTABLE, [str(DBT_EXECUTABLE), *sys.argv[1:]], dbt_env())
