"""dbt's connection, from the hub URL: ``DISTROHUB_DATABASE_URL`` → ``DISTROHUB_DBT_*``.

``dbt_project/profiles.yml`` reads host, port, user, password and database from
these variables; nothing secret is written to a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import make_url

from dagster_project.hub.settings import ENV_DATABASE_URL


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
