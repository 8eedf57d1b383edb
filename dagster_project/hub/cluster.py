"""The embedded PostgreSQL 15 cluster: the hub's default home on one machine.

``EmbeddedCluster(state_dir).start()`` initialises (once) and starts a cluster
under ``state_dir/pg`` on a free port of 127.0.0.1, creates the roles and
databases, and returns how to reach it. It uses Debian's PostgreSQL binaries.
``initdb`` and ``postgres`` refuse to run as root, so when we are root the
server runs as the unprivileged ``postgres`` user through ``runuser``.

Starting twice is harmless (the running server is found through ``pg_ctl
status`` on our own data directory); stopping stops only that server. Nothing
here ever touches a server it did not start.

Layout::

    state_dir/pg/data         the cluster (owned by the server's user)
    state_dir/pg/server.log   the server's log
    state_dir/pg/cluster.json port, server user, binaries (no secrets)
    state_dir/credentials.env generated passwords and URLs (mode 0600)
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from dagster_project.hub import settings
from dagster_project.hub.settings import (
    ADMIN_ROLE,
    ANALYST_ROLE,
    DAGSTER_DB,
    HUB_DB,
    OWNER_ROLE,
    build_url,
)

HOST = "127.0.0.1"
SERVER_USER_WHEN_ROOT = "postgres"
PREFERRED_MAJOR = "15"

Progress = Callable[[str], None]


class ClusterError(RuntimeError):
    """A failure of the embedded cluster, with what to do about it."""


@dataclass(frozen=True)
class ClusterInfo:
    """How to reach a started embedded cluster."""

    host: str
    port: int
    admin_url: str  # superuser, database "postgres"
    hub_url: str  # pipeline owner, database "hub"
    dagster_url: str  # pipeline owner, database "dagster"
    analyst_url: str  # read-only analyst, database "hub"
    data_dir: Path
    pid: int | None
    started_now: bool

    def environment(self) -> dict[str, str]:
        """The variables every other part reads (see settings)."""
        return {
            settings.ENV_DATABASE_URL: self.hub_url,
            settings.ENV_DAGSTER_DATABASE_URL: self.dagster_url,
            settings.ENV_ADMIN_DATABASE_URL: self.admin_url,
        }


@dataclass
class _Meta:
    port: int
    server_user: str | None
    bindir: str
    pg_dir: str


def find_bindir() -> Path:
    """Debian's PostgreSQL server binaries (15 preferred), or the fix."""
    candidates = [Path(f"/usr/lib/postgresql/{PREFERRED_MAJOR}/bin")]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise ClusterError(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH). "
        "Install Debian's server: `apt-get update && apt-get install -y postgresql-15` "
        "(as root; `make demo` does this itself when run as root), or point distrohub at an "
        f"existing server with {settings.ENV_DATABASE_URL}."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


class EmbeddedCluster:
    """A PostgreSQL cluster owned by one distrohub state folder."""

    def __init__(self, state_dir: Path, *, durable: bool = True) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.durable = durable  # False for throwaway test clusters: fsync off
        self.link = self.state_dir / "pg"
        self.credentials_path = self.state_dir / "credentials.env"

    # ----------------------------------------------------------------- paths
    @property
    def pg_dir(self) -> Path:
        return self.link.resolve() if self.link.exists() else self.link

    @property
    def data_dir(self) -> Path:
        return self.pg_dir / "data"

    @property
    def meta_path(self) -> Path:
        return self.pg_dir / "cluster.json"

    @property
    def log_path(self) -> Path:
        return self.pg_dir / "server.log"

    def _meta(self) -> _Meta | None:
        if not self.meta_path.exists():
            return None
        return _Meta(**json.loads(self.meta_path.read_text()))

    def _save_meta(self, meta: _Meta) -> None:
        self.meta_path.write_text(json.dumps(asdict(meta), indent=2) + "\n")

    # ---------------------------------------------------------- running as
    @staticmethod
    def _server_user() -> str | None:
        return SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else None

    def _run(self, args: list[str], user: str | None, **kw) -> subprocess.CompletedProcess:
        cmd = ["runuser", "-u", user, "--", *args] if user else args
        return subprocess.run(cmd, capture_output=True, text=True, **kw)

    def _prepare_pg_dir(self, user: str | None) -> None:
        """Create state_dir/pg so that the server's user can own and reach it.

        When the state folder is not reachable by the unprivileged server user
        (e.g. a checkout under a 0700 home), the cluster lives in a folder under
        /var/tmp named after the state folder and state_dir/pg links to it.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.link.exists():
            return
        if user is None:
            self.link.mkdir()
            return
        try:
            pw = pwd.getpwnam(user)
        except KeyError as exc:
            raise ClusterError(
                f"Running as root, but there is no `{user}` user to run PostgreSQL as "
                "(initdb refuses root). Install Debian's postgresql-15 package, which creates it."
            ) from exc
        self.link.mkdir()
        os.chown(self.link, pw.pw_uid, pw.pw_gid)
        if self._run(["test", "-w", str(self.link)], user).returncode == 0:
            return
        self.link.rmdir()
        digest = hashlib.sha1(str(self.state_dir).encode()).hexdigest()[:12]
        target = Path("/var/tmp") / f"distrohub-pg-{digest}"
        target.mkdir(mode=0o700, exist_ok=True)
        os.chown(target, pw.pw_uid, pw.pw_gid)
        self.link.symlink_to(target)

    # ------------------------------------------------------------- status
    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running_pid(self) -> int | None:
        """The server's pid if our data directory's server runs, else None."""
        meta = self._meta()
        if meta is None or not self.is_initialised():
            return None
        res = self._run(
            [f"{meta.bindir}/pg_ctl", "status", "-D", str(self.data_dir)], meta.server_user
        )
        if res.returncode != 0:
            return None
        pid_file = self.data_dir / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def status(self) -> dict:
        meta = self._meta()
        pid = self.running_pid()
        return {
            "mode": "embedded",
            "running": pid is not None,
            "pid": pid,
            "host": HOST,
            "port": meta.port if meta else None,
            "data_dir": str(self.data_dir),
            "log": str(self.log_path),
            "initialised": self.is_initialised(),
        }

    # -------------------------------------------------------------- start
    def start(self, progress: Progress | None = None) -> ClusterInfo:
        """Initialise if needed, start if not running, ensure roles and databases."""
        say = progress or (lambda _msg: None)
        user = self._server_user()
        bindir = find_bindir()
        self._prepare_pg_dir(user)
        creds = settings.read_env_file(self.credentials_path)

        if not self.is_initialised():
            say(f"initialising a PostgreSQL cluster in {self.data_dir}")
            creds = self._initdb(bindir, user)
        elif "DISTROHUB_ADMIN_PASSWORD" not in creds:
            raise ClusterError(
                f"The cluster in {self.data_dir} exists but its generated credentials "
                f"({self.credentials_path}) are gone. Remove {self.link} (its data is lost) "
                "and start again, or restore the file."
            )

        pid = self.running_pid()
        started_now = False
        meta = self._meta()
        assert meta is not None
        if pid is None:
            if not port_is_free(meta.port):
                meta.port = free_port()
            meta.bindir = str(bindir)
            self._save_meta(meta)
            self._write_conf(meta.port)
            say(f"starting PostgreSQL on {HOST}:{meta.port}")
            res = self._run(
                [
                    f"{bindir}/pg_ctl",
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_path),
                ],
                user,
            )
            if res.returncode != 0:
                tail = self._log_tail()
                raise ClusterError(
                    f"PostgreSQL did not start on {HOST}:{meta.port} "
                    f"({res.stderr.strip() or res.stdout.strip()}). Server log {self.log_path}:\n"
                    f"{tail}"
                )
            pid = self.running_pid()
            started_now = True

        info = self._info(meta.port, creds, pid, started_now)
        self._wait_ready(info.admin_url)
        self._bootstrap(info, creds)
        self._save_credentials(info, creds)
        return info

    def _initdb(self, bindir: Path, user: str | None) -> dict[str, str]:
        creds = {
            "DISTROHUB_ADMIN_PASSWORD": secrets.token_urlsafe(24),
            "DISTROHUB_OWNER_PASSWORD": secrets.token_urlsafe(24),
            settings.ENV_ANALYST_PASSWORD: secrets.token_urlsafe(18),
        }
        with tempfile.NamedTemporaryFile("w", delete=False, prefix="pw", dir=self.pg_dir) as fh:
            fh.write(creds["DISTROHUB_ADMIN_PASSWORD"] + "\n")
            pwfile = Path(fh.name)
        try:
            if user:
                pw = pwd.getpwnam(user)
                os.chown(pwfile, pw.pw_uid, pw.pw_gid)
            res = self._run(
                [
                    f"{bindir}/initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    ADMIN_ROLE,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
                user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if res.returncode != 0:
            raise ClusterError(f"initdb failed in {self.data_dir}: {res.stderr.strip()}")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\ninclude_if_exists = 'distrohub.conf'\n")
        self._save_meta(
            _Meta(port=free_port(), server_user=user, bindir=str(bindir), pg_dir=str(self.pg_dir))
        )
        self._save_credentials(None, creds)
        return creds

    def _write_conf(self, port: int) -> None:
        lines = [
            "# written by distrohub at every start; edit distrohub/hub/cluster.py instead",
            f"listen_addresses = '{HOST}'",
            f"port = {port}",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = '256MB'",
            "work_mem = '32MB'",
            "maintenance_work_mem = '256MB'",
            "logging_collector = off",
        ]
        if not self.durable:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        target = self.data_dir / "distrohub.conf"
        target.write_text("\n".join(lines) + "\n")
        meta = self._meta()
        if meta and meta.server_user:
            pw = pwd.getpwnam(meta.server_user)
            os.chown(target, pw.pw_uid, pw.pw_gid)

    def _info(
        self, port: int, creds: dict[str, str], pid: int | None, started_now: bool
    ) -> ClusterInfo:
        owner_pw = creds["DISTROHUB_OWNER_PASSWORD"]
        return ClusterInfo(
            host=HOST,
            port=port,
            admin_url=build_url(
                ADMIN_ROLE, creds["DISTROHUB_ADMIN_PASSWORD"], HOST, port, "postgres"
            ),
            hub_url=build_url(OWNER_ROLE, owner_pw, HOST, port, HUB_DB),
            dagster_url=build_url(OWNER_ROLE, owner_pw, HOST, port, DAGSTER_DB),
            analyst_url=build_url(
                ANALYST_ROLE, creds[settings.ENV_ANALYST_PASSWORD], HOST, port, HUB_DB
            ),
            data_dir=self.data_dir,
            pid=pid,
            started_now=started_now,
        )

    def _wait_ready(self, admin_url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(admin_url, connect_timeout=3):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"PostgreSQL on {HOST} does not accept connections after {timeout:.0f} s: "
                        f"{exc}. Server log {self.log_path}:\n{self._log_tail()}"
                    ) from exc
                time.sleep(0.2)

    def _bootstrap(self, info: ClusterInfo, creds: dict[str, str]) -> None:
        """Roles and databases (idempotent); the schemas come from migrations."""
        with psycopg.connect(info.admin_url, autocommit=True) as conn:
            for role, password in (
                (OWNER_ROLE, creds["DISTROHUB_OWNER_PASSWORD"]),
                (ANALYST_ROLE, creds[settings.ENV_ANALYST_PASSWORD]),
            ):
                exists = conn.execute(
                    "select 1 from pg_roles where rolname = %s", (role,)
                ).fetchone()
                verb = "alter" if exists else "create"
                options = "login createdb" if role == OWNER_ROLE else "login"
                conn.execute(
                    sql.SQL("{} role {} with {} password {}").format(
                        sql.SQL(verb),
                        sql.Identifier(role),
                        sql.SQL(options),
                        sql.Literal(password),
                    )
                )
            for db in (HUB_DB, DAGSTER_DB):
                exists = conn.execute(
                    "select 1 from pg_database where datname = %s", (db,)
                ).fetchone()
                if not exists:
                    conn.execute(
                        sql.SQL("create database {} owner {}").format(
                            sql.Identifier(db), sql.Identifier(OWNER_ROLE)
                        )
                    )
            # Only the pipeline reaches Dagster's storage; analysts reach the hub.
            conn.execute(
                sql.SQL("revoke connect on database {} from public").format(
                    sql.Identifier(DAGSTER_DB)
                )
            )
            conn.execute(
                sql.SQL("revoke connect on database {} from public").format(sql.Identifier(HUB_DB))
            )
            conn.execute(
                sql.SQL("grant connect on database {} to {}").format(
                    sql.Identifier(HUB_DB), sql.Identifier(ANALYST_ROLE)
                )
            )

    def _save_credentials(self, info: ClusterInfo | None, creds: dict[str, str]) -> None:
        values = dict(creds)
        if info is not None:
            values.update(info.environment())
        settings.write_env_file(
            self.credentials_path,
            values,
            "generated by `distrohub hub start` for the embedded cluster; keep private",
        )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --------------------------------------------------------------- stop
    def stop(self) -> bool:
        """Stop our server if it runs; True when it was running."""
        meta = self._meta()
        if meta is None or self.running_pid() is None:
            return False
        res = self._run(
            [
                f"{meta.bindir}/pg_ctl",
                "stop",
                "-w",
                "-t",
                "60",
                "-m",
                "fast",
                "-D",
                str(self.data_dir),
            ],
            meta.server_user,
        )
        if res.returncode != 0:
            raise ClusterError(f"pg_ctl stop failed for {self.data_dir}: {res.stderr.strip()}")
        return True

    def destroy(self) -> None:
        """Stop and delete the cluster (throwaway test clusters)."""
        self.stop()
        target = self.pg_dir
        if self.link.is_symlink():
            self.link.unlink()
        shutil.rmtree(target, ignore_errors=True)
        self.credentials_path.unlink(missing_ok=True)
