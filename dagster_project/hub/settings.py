"""Where the hub lives and how to reach it, resolved from the environment.

Two modes:

* **embedded** (the default): a PostgreSQL 15 cluster under
  ``$DISTROHUB_STATE_DIR/pg`` that ``distrohub hub start`` runs on 127.0.0.1.
  Its generated credentials are kept in ``$DISTROHUB_STATE_DIR/credentials.env``
  (mode 0600, git-ignored) and loaded into the environment by the CLI.
* **external**: ``DISTROHUB_DATABASE_URL`` names the hub database on an existing
  server (``postgresql://user:password@host:port/hub``); nothing is started and
  nothing is stopped. ``DISTROHUB_DAGSTER_DATABASE_URL`` names Dagster's storage
  database (default: the same server, database ``dagster``).

Secrets only ever come from environment variables (or the generated file for
the embedded cluster); they are never logged and never written to
``dagster.yaml``, which refers to the variables by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]

HUB_DB = "hub"
DAGSTER_DB = "dagster"
OWNER_ROLE = "distrohub"
ANALYST_ROLE = "analyst"
ADMIN_ROLE = "distrohub_admin"

ENV_DATABASE_URL = "DISTROHUB_DATABASE_URL"
ENV_DAGSTER_DATABASE_URL = "DISTROHUB_DAGSTER_DATABASE_URL"
ENV_ADMIN_DATABASE_URL = "DISTROHUB_ADMIN_DATABASE_URL"
ENV_ANALYST_PASSWORD = "DISTROHUB_ANALYST_PASSWORD"
ENV_STATE_DIR = "DISTROHUB_STATE_DIR"


def state_dir() -> Path:
    """The folder for everything the demo generates (git-ignored)."""
    return Path(os.environ.get(ENV_STATE_DIR) or REPO_ROOT / ".distrohub").resolve()


def dagster_home() -> Path:
    return state_dir() / "dagster"


def credentials_file() -> Path:
    return state_dir() / "credentials.env"


def read_env_file(path: Path) -> dict[str, str]:
    """Read ``KEY=value`` lines (``#`` comments allowed); missing file -> ``{}``."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: dict[str, str], header: str) -> None:
    """Write ``KEY=value`` lines readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f"# {header}\n" + "".join(f"{k}={v}\n" for k, v in sorted(values.items()))
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body)
    os.replace(tmp, path)


# Generated for the local demo, each by the command that starts the part: the hub's
# credentials, the embedded ERP's, and the sandbox systems' URLs and tokens.
GENERATED_ENV_FILES = ("credentials.env", "erp/erp.env", "sandbox/systems.env")


#: what load_generated_environment put into os.environ (so a reload can refresh exactly those)
_GENERATED: dict[str, str] = {}


def load_generated_environment() -> None:
    """Put the local deployment's generated settings into ``os.environ``.

    Variables already set win: an operator's environment always overrides the
    generated defaults, which is how each system is pointed at a real instance.
    Calling it again refreshes what an earlier call loaded (the files may have
    been rewritten since, e.g. by `distrohub erp up` on a new port).
    """
    for name in GENERATED_ENV_FILES:
        for key, value in read_env_file(state_dir() / name).items():
            # a value this process loaded from a generated file before (a restarted trytond
            # or sandbox may have moved to another port) gives way to the file's new one
            if key not in os.environ or os.environ[key] == _GENERATED.get(key):
                os.environ[key] = value
                _GENERATED[key] = value


def operator_environment() -> dict[str, str]:
    """``os.environ`` without what :func:`load_generated_environment` put there: the
    environment to start another ``distrohub`` command with, so it reads the generated
    files itself (they may change under it) while an operator's settings still win."""
    return {k: v for k, v in os.environ.items() if _GENERATED.get(k) != v}


def is_external() -> bool:
    return bool(os.environ.get(ENV_DATABASE_URL)) and not _url_is_generated()


def _url_is_generated() -> bool:
    generated = read_env_file(credentials_file()).get(ENV_DATABASE_URL)
    return generated is not None and generated == os.environ.get(ENV_DATABASE_URL)


def with_database(url: str, dbname: str) -> str:
    """The same server and role as ``url``, another database."""
    return make_url(url).set(database=dbname).render_as_string(hide_password=False)


def build_url(user: str, password: str, host: str, port: int, dbname: str) -> str:
    """A ``postgresql://`` URL (libpq, psycopg and SQLAlchemy all read this form)."""
    return (
        make_url("postgresql://")
        .set(username=user, password=password, host=host, port=port, database=dbname)
        .render_as_string(hide_password=False)
    )


@dataclass(frozen=True)
class HubUrls:
    """Connection strings for the hub database and Dagster's storage database."""

    hub: str
    dagster: str

    @property
    def server(self) -> str:
        """host:port, for messages (never the password)."""
        url = make_url(self.hub)
        return f"{url.host or 'localhost'}:{url.port or 5432}"


class HubNotConfigured(RuntimeError):
    pass


def hub_urls() -> HubUrls:
    """The URLs the pipeline connects with, from the environment.

    Raises HubNotConfigured with the fix when neither an external URL nor a
    started embedded cluster is known.
    """
    load_generated_environment()
    hub = os.environ.get(ENV_DATABASE_URL)
    if not hub:
        raise HubNotConfigured(
            f"No hub database: set {ENV_DATABASE_URL}=postgresql://USER:PASSWORD@HOST:PORT/hub "
            "for an existing server, or run `distrohub hub start` (or `make demo`) "
            "to start the embedded one."
        )
    dagster = os.environ.get(ENV_DAGSTER_DATABASE_URL) or with_database(hub, DAGSTER_DB)
    return HubUrls(hub=hub, dagster=dagster)


def redact(url: str) -> str:
    """A connection string fit for a log line: the password replaced."""
    return make_url(url).render_as_string(hide_password=True)
