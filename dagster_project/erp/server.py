"""The embedded Tryton ERP: a template database, clones of it, and a trytond process.

``ErpServer(admin_url).up()`` makes the ERP usable and says how to reach it:

1. a login role ``tryton`` (password generated, kept in ``erp.env``) on the
   hub's PostgreSQL cluster, created with the admin URL;
2. the template database ``tryton_template``, built once with ``trytond-admin``
   (modules :data:`MODULES`, about a minute) and the accounting set-up of
   :mod:`dagster_project.erp.template_setup` (company, chart, fiscal years,
   goods account category), stamped with :func:`template_stamp` (a database comment);
   rebuilt only when the stamp differs (module list, trytond version, our
   set-up version, calendar year);
3. the ERP database (default ``distrohub_erp``) cloned from the template with
   ``create database … template tryton_template`` (a fraction of a second),
   its ``admin`` user given the generated password;
4. trytond's WSGI application (``trytond.application:app``, Tryton's documented way to
   run it under a WSGI server) served by gunicorn with ``DISTROHUB_TRYTON_WORKERS``
   processes (default 2) on 127.0.0.1 and a free port, waited for (bounded) until a login
   succeeds. trytond's own ``trytond`` command runs Werkzeug's threaded development server:
   one process, so one core, whatever the number of requests in flight; a sale's
   confirmation is Python work in trytond (its invoice and shipment), and several
   processes are what lets the publish path confirm sales in parallel. With
   ``DISTROHUB_TRYTON_WORKERS=1`` the ``trytond`` command is run as before.

Running ``up`` twice is harmless: the template, the database and a running
server are found and kept. ``down`` stops only the trytond whose pid this
module recorded, after checking that pid still runs our command line.

Files under ``$DISTROHUB_STATE_DIR/erp/``: ``trytond.conf`` (no secrets: the
database URI reaches trytond through ``TRYTOND_DATABASE__URI`` in its
environment), ``gunicorn.conf.py`` (address, workers), ``server.json`` (pid, port,
database), ``trytond.log``,
``erp.env`` (mode 0600: ``DISTROHUB_TRYTON_URL``/``_USER``/``_PASSWORD`` and
the role's password). Passwords never reach a log line or an error message.

One cluster, one ERP state folder: the ``tryton`` role is shared by every
database of the cluster, and ``up`` sets its password to the one in this
folder's ``erp.env`` (or ``DISTROHUB_TRYTON_DB_PASSWORD``). Two state folders
on one cluster must share that variable.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from dagster_project.connectors.tryton import (
    ENV_PASSWORD,
    ENV_URL,
    ENV_USER,
    TrytonClient,
    TrytonCredentials,
    TrytonError,
)
from dagster_project.hub import settings

HOST = "127.0.0.1"
MODULES: tuple[str, ...] = (
    "sale",
    "purchase",
    "stock",
    "sale_price_list",
    "product_price_list",
)
TEMPLATE_DB = "tryton_template"
DEFAULT_DB = "distrohub_erp"
TRYTON_ROLE = "tryton"
TRYTON_LOGIN = "admin"
ADMIN_EMAIL = "admin@example.com"
# Bump when template_setup.py or the trytond-admin invocation changes.
SETUP_VERSION = 2
ENV_ROLE_PASSWORD = "DISTROHUB_TRYTON_DB_PASSWORD"
ENV_DATABASE = "DISTROHUB_TRYTON_DATABASE"
ENV_WORKERS = "DISTROHUB_TRYTON_WORKERS"
DEFAULT_WORKERS = 2
LOCK_KEY = 0x74727974  # "tryt": one template build at a time per cluster
INIT_TIMEOUT = 900.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

Progress = Callable[[str], None]

LOGGING_CONF = """\
[formatters]
keys=simple
[handlers]
keys=stderr
[loggers]
keys=root,trytond_wsgi,werkzeug
[formatter_simple]
format=%(asctime)s %(levelname)s %(name)s %(message)s
[handler_stderr]
class=StreamHandler
formatter=simple
args=(sys.stderr,)
[logger_root]
level=INFO
handlers=stderr
[logger_trytond_wsgi]
level=WARNING
handlers=stderr
propagate=0
qualname=trytond.wsgi
[logger_werkzeug]
level=WARNING
handlers=stderr
propagate=0
qualname=werkzeug
"""


class ErpError(RuntimeError):
    """The embedded ERP could not be set up, started or stopped; says what to do."""


@dataclass(frozen=True)
class ErpInfo:
    """How to reach a running embedded ERP."""

    url: str  # http://127.0.0.1:PORT/DB/
    database: str
    port: int
    pid: int
    user: str
    started_now: bool
    log_path: Path

    def environment(self, password: str) -> dict[str, str]:
        return {ENV_URL: self.url, ENV_USER: self.user, ENV_PASSWORD: password}


@dataclass
class _ServerState:
    pid: int
    port: int
    database: str
    conf: str
    started_at: float


def template_stamp() -> str:
    """What the template was built from; a different stamp means rebuild."""
    return json.dumps(
        {
            "distrohub_setup": SETUP_VERSION,
            "trytond": version("trytond"),
            "modules": sorted(MODULES),
            "year": time.gmtime().tm_year,
        },
        sort_keys=True,
    )


def erp_dir() -> Path:
    return settings.state_dir() / "erp"


def env_file() -> Path:
    return erp_dir() / "erp.env"


def load_erp_environment() -> None:
    """Put the generated ``DISTROHUB_TRYTON_*`` values into ``os.environ`` (set ones win)."""
    for key, value in settings.read_env_file(env_file()).items():
        os.environ.setdefault(key, value)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ErpServer:
    """The embedded ERP of one state folder, on the cluster reached by ``admin_url``."""

    def __init__(
        self, admin_url: str, *, database: str | None = None, state: Path | None = None
    ) -> None:
        self.admin_url = admin_url
        self.dir = Path(state) if state else erp_dir()
        self.env_path = self.dir / "erp.env"
        generated = settings.read_env_file(self.env_path)
        self.database = (
            database or os.environ.get(ENV_DATABASE) or generated.get(ENV_DATABASE) or DEFAULT_DB
        )
        self.conf_path = self.dir / "trytond.conf"
        self.state_path = self.dir / "server.json"
        self.log_path = self.dir / "trytond.log"
        # seconds spent by this object in each step it ran: template, clone, start
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------ secrets
    def _secrets(self) -> dict[str, str]:
        """Generated values (erp.env), created on first use; the environment wins."""
        values = settings.read_env_file(self.env_path)
        changed = False
        for key, make in (
            (ENV_ROLE_PASSWORD, lambda: secrets.token_urlsafe(24)),
            (ENV_PASSWORD, lambda: secrets.token_urlsafe(18)),
            (ENV_USER, lambda: TRYTON_LOGIN),
        ):
            wanted = os.environ.get(key) or values.get(key) or make()
            if values.get(key) != wanted:
                values[key] = wanted
                changed = True
        if changed:
            self._write_env(values)
        return values

    def _write_env(self, values: dict[str, str]) -> None:
        settings.write_env_file(
            self.env_path,
            values,
            "generated by `distrohub erp up` for the embedded Tryton; keep private",
        )

    def _role_uri(self, password: str) -> str:
        """trytond's ``[database] uri``: the tryton role on the hub's cluster, no database."""
        url = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        return (
            settings.build_url(
                TRYTON_ROLE,
                password,
                str(url.get("host") or HOST),
                int(url.get("port") or 5432),
                "",
            ).rstrip("/")
            + "/"
        )

    def _tryton_env(self, role_password: str) -> dict[str, str]:
        env = dict(os.environ)
        env["TRYTOND_DATABASE__URI"] = self._role_uri(role_password)
        env.pop("TRYTOND_CONFIG", None)
        return env

    # --------------------------------------------------------------- role
    def ensure_role(self, password: str) -> None:
        """Create or update the ``tryton`` login role (idempotent)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "select 1 from pg_roles where rolname = %s", (TRYTON_ROLE,)
            ).fetchone()
            verb = "alter" if exists else "create"
            conn.execute(
                sql.SQL("{} role {} with login password {}").format(
                    sql.SQL(verb), sql.Identifier(TRYTON_ROLE), sql.Literal(password)
                )
            )

    # ----------------------------------------------------------- template
    def template_status(self) -> str | None:
        """The stamp of the template database, '' when unstamped, None when absent."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute(
                "select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
                (TEMPLATE_DB,),
            ).fetchone()
        if row is None:
            return None
        return row[0] or ""

    def ensure_template(
        self, role_password: str, progress: Progress | None = None, *, rebuild: bool = False
    ) -> bool:
        """Build ``tryton_template`` unless one with the current stamp exists; True if built."""
        say = progress or (lambda _m: None)
        stamp = template_stamp()
        with self._template_lock():
            current = self.template_status()
            if current == stamp and not rebuild:
                return False
            if current is not None:
                say(f"template {TEMPLATE_DB} is out of date: rebuilding it")
                self._drop(TEMPLATE_DB)
            started = time.monotonic()
            self._create_empty(TEMPLATE_DB)
            try:
                say(
                    f"initialising Tryton in {TEMPLATE_DB} (modules: {', '.join(MODULES)}; "
                    "about a minute, once)"
                )
                self._trytond_admin(TEMPLATE_DB, role_password, init=True)
                say("setting up company, chart of accounts, fiscal years, payment terms")
                self._template_setup(role_password)
            except BaseException:
                self._drop(TEMPLATE_DB)
                raise
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("comment on database {} is {}").format(
                        sql.Identifier(TEMPLATE_DB), sql.Literal(stamp)
                    )
                )
                conn.execute(
                    sql.SQL("alter database {} with is_template true").format(
                        sql.Identifier(TEMPLATE_DB)
                    )
                )
            self.timings["template"] = time.monotonic() - started
            return True

    @contextmanager
    def _template_lock(self) -> Iterator[None]:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
            try:
                yield
            finally:
                conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))

    def _create_empty(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("create database {} owner {} encoding 'UTF8' template template0").format(
                    sql.Identifier(name), sql.Identifier(TRYTON_ROLE)
                )
            )

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if self._exists(conn, name):
                conn.execute(
                    sql.SQL("alter database {} with is_template false").format(sql.Identifier(name))
                )
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )

    @staticmethod
    def _exists(conn: psycopg.Connection, name: str) -> bool:
        return (
            conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
            is not None
        )

    def _trytond_admin(self, database: str, role_password: str, *, init: bool) -> None:
        """``trytond-admin`` on ``database``: activate the modules (init) or set the password."""
        self.write_conf()
        values = self._secrets()
        # The template's own admin password is thrown away: each clone gets its own.
        secret = secrets.token_urlsafe(18) if init else values[ENV_PASSWORD]
        args = [_bin("trytond-admin"), "-c", str(self.conf_path), "-d", database]
        if init:
            args += ["--all", "--email", ADMIN_EMAIL, "--activate-dependencies", "-u", *MODULES]
        else:
            # --administrator matters: without it `trytond-admin -p` clears the flag
            # and the user loses access to every business model.
            args += ["--login", values[ENV_USER], "--password", "--administrator"]
        with tempfile.NamedTemporaryFile(
            "w", dir=self.dir, prefix=".pass", delete=True
        ) as passfile:
            os.chmod(passfile.name, 0o600)
            passfile.write(secret + "\n")
            passfile.flush()
            env = self._tryton_env(role_password)
            env["TRYTONPASSFILE"] = passfile.name
            res = subprocess.run(
                args,
                env=env,
                capture_output=True,
                text=True,
                timeout=INIT_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        if res.returncode != 0:
            raise ErpError(
                f"trytond-admin failed on database {database!r} (exit {res.returncode}):\n"
                f"{_tail(res.stderr or res.stdout)}\nFix: read the message above; "
                f"`distrohub erp up --rebuild-template` starts the template from scratch."
            )

    def _template_setup(self, role_password: str) -> None:
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "dagster_project.erp.template_setup",
                "--config",
                str(self.conf_path),
                "--database",
                TEMPLATE_DB,
            ],
            env=self._tryton_env(role_password),
            capture_output=True,
            text=True,
            timeout=INIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        if res.returncode != 0:
            raise ErpError(
                f"the accounting set-up of {TEMPLATE_DB} failed (exit {res.returncode}):\n"
                f"{_tail(res.stderr)}\nFix: read the message above (module "
                "dagster_project/erp/template_setup.py); the half-built template was dropped."
            )

    # --------------------------------------------------------------- clone
    def database_exists(self, name: str | None = None) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            return self._exists(conn, name or self.database)

    def ensure_database(self, role_password: str, progress: Progress | None = None) -> bool:
        """Clone the template into the ERP database unless it exists; True if cloned."""
        say = progress or (lambda _m: None)
        if self.database_exists():
            return False
        started = time.monotonic()
        say(f"cloning {TEMPLATE_DB} into {self.database}")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("create database {} owner {} template {}").format(
                    sql.Identifier(self.database),
                    sql.Identifier(TRYTON_ROLE),
                    sql.Identifier(TEMPLATE_DB),
                )
            )
        self.timings["clone"] = time.monotonic() - started
        started = time.monotonic()
        try:
            say(f"setting the password of Tryton user {TRYTON_LOGIN!r}")
            self._trytond_admin(self.database, role_password, init=False)
        except BaseException:
            self._drop(self.database)
            raise
        self.timings["password"] = time.monotonic() - started
        return True

    def reset_password(self, progress: Progress | None = None) -> None:
        """Give the ERP user the password of ``erp.env`` again (the server must be down)."""
        if self.running() is not None:
            raise ErpError("trytond runs: run `distrohub erp down` before resetting the password")
        (progress or (lambda _m: None))(f"setting the password of Tryton user on {self.database}")
        self._trytond_admin(self.database, self._secrets()[ENV_ROLE_PASSWORD], init=False)

    def drop_database(self) -> None:
        """Drop the ERP database (the server must be down)."""
        if self.running() is not None:
            raise ErpError(f"trytond runs on {self.database}: run `distrohub erp down` first")
        self._drop(self.database)

    # --------------------------------------------------------------- server
    def write_conf(self, port: int | None = None) -> None:
        """The generated trytond.conf: listen address, no secrets."""
        self.dir.mkdir(parents=True, exist_ok=True)
        port = port or self._state_port() or _free_port()
        self.conf_path.write_text(
            "# generated by distrohub (dagster_project/erp/server.py); edit that instead.\n"
            "# The database URI comes from TRYTOND_DATABASE__URI in trytond's environment.\n"
            "[web]\n"
            f"listen = {HOST}:{port}\n"
            "[session]\n"
            "timeout = 3600\n"
        )

    def workers(self) -> int:
        """trytond processes to serve requests (``DISTROHUB_TRYTON_WORKERS``, default 2)."""
        raw = os.environ.get(ENV_WORKERS) or str(DEFAULT_WORKERS)
        try:
            workers = int(raw)
        except ValueError:
            workers = 0
        if not 1 <= workers <= 32:
            raise ErpError(
                f"{ENV_WORKERS}={raw!r} is not a number of trytond processes (1 to 32). Fix: "
                f"unset it (default {DEFAULT_WORKERS}) or set e.g. {ENV_WORKERS}=2."
            )
        return workers

    def _write_gunicorn_conf(self, port: int, workers: int) -> Path:
        """gunicorn's settings for trytond's WSGI application (no secrets)."""
        path = self.dir / "gunicorn.conf.py"
        path.write_text(
            "# generated by distrohub (dagster_project/erp/server.py); edit that instead.\n"
            "# trytond.application:app reads TRYTOND_CONFIG, TRYTOND_DATABASE_NAMES (the\n"
            "# database each worker loads at start) and TRYTOND_DATABASE__URI from the\n"
            "# environment.\n"
            f"bind = {f'{HOST}:{port}'!r}\n"
            f"workers = {workers}\n"
            "# a thread pool per worker: a quick read is not queued behind a long confirmation\n"
            'worker_class = "gthread"\n'
            "threads = 4\n"
            "# no request time limit: confirming a large batch of sales is work, not a hang\n"
            "timeout = 0\n"
            "graceful_timeout = 10\n"
            'proc_name = "distrohub-trytond"\n'
        )
        return path

    def _write_logconf(self) -> Path:
        """trytond's logging: INFO and up, but not one line per HTTP request."""
        path = self.dir / "logging.conf"
        path.write_text(LOGGING_CONF)
        return path

    def _state(self) -> _ServerState | None:
        try:
            return _ServerState(**json.loads(self.state_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _state_port(self) -> int | None:
        state = self._state()
        return state.port if state else None

    def running(self) -> _ServerState | None:
        """Our recorded trytond if its pid still runs our command line, else None."""
        state = self._state()
        if state is None or not _is_our_trytond(state.pid, state.conf):
            return None
        return state

    def start(self, role_password: str, progress: Progress | None = None) -> ErpInfo:
        """Start trytond on the ERP database unless ours already runs; wait until it answers."""
        say = progress or (lambda _m: None)
        values = self._secrets()
        state = self.running()
        if state is not None and state.database == self.database:
            info = self._info(state, started_now=False, user=values[ENV_USER])
            self._wait_ready(info, values[ENV_PASSWORD], state.pid)
            return info
        if state is not None:
            raise ErpError(
                f"trytond already runs on database {state.database!r} (pid {state.pid}); "
                f"run `distrohub erp down` before starting it on {self.database!r}"
            )
        started = time.monotonic()
        port = _free_port()
        workers = self.workers()
        self.write_conf(port)
        env = self._tryton_env(role_password)
        logconf = self._write_logconf()
        if workers == 1:
            say(f"starting trytond on {HOST}:{port} (database {self.database})")
            args = [_bin("trytond"), "-c", str(self.conf_path), "-d", self.database]
            args += ["--logconf", str(logconf)]
            identity = self.conf_path
        else:
            say(
                f"starting trytond on {HOST}:{port} (database {self.database}, {workers} processes)"
            )
            identity = self._write_gunicorn_conf(port, workers)
            args = [_bin("gunicorn"), "--config", str(identity), "trytond.application:app"]
            env.update(
                TRYTOND_CONFIG=str(self.conf_path),
                TRYTOND_DATABASE_NAMES=self.database,
                TRYTOND_LOGGING_CONFIG=str(logconf),
            )
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(
                args,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.dir,
            )
        finally:
            log.close()
        state = _ServerState(
            pid=proc.pid,
            port=port,
            database=self.database,
            conf=str(identity),
            started_at=time.time(),
        )
        self.state_path.write_text(json.dumps(asdict(state), indent=2) + "\n")
        info = self._info(state, started_now=True, user=values[ENV_USER])
        try:
            self._wait_ready(info, values[ENV_PASSWORD], proc.pid, proc=proc)
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - started
        return info

    def _info(self, state: _ServerState, *, started_now: bool, user: str) -> ErpInfo:
        return ErpInfo(
            url=f"http://{HOST}:{state.port}/{state.database}/",
            database=state.database,
            port=state.port,
            pid=state.pid,
            user=user,
            started_now=started_now,
            log_path=self.log_path,
        )

    def _wait_ready(
        self, info: ErpInfo, password: str, pid: int, *, proc: subprocess.Popen | None = None
    ) -> None:
        """Poll until a login succeeds (bounded by START_TIMEOUT)."""
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise ErpError(
                    f"trytond exited with code {proc.returncode} right after starting. "
                    f"Its log {self.log_path}:\n{_tail(_read(self.log_path))}"
                )
            if proc is None and self.running() is None:
                raise ErpError(
                    f"trytond (pid {pid}) is gone. Log {self.log_path}:\n"
                    f"{_tail(_read(self.log_path))}"
                )
            try:
                r = httpx.post(
                    f"http://{HOST}:{info.port}/rpc/",
                    timeout=2.0,
                    json={"id": 0, "method": "common.server.version", "params": []},
                )
                if r.status_code == 200:
                    break
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        else:
            raise ErpError(
                f"trytond did not answer on {HOST}:{info.port} within {START_TIMEOUT:.0f} s "
                f"({last}). Log {self.log_path}:\n{_tail(_read(self.log_path))}"
            )
        creds = TrytonCredentials(info.url, info.user, password)
        try:
            with TrytonClient(creds) as client:
                client.login()
        except TrytonError as exc:
            raise ErpError(
                f"trytond answers on {HOST}:{info.port} but login as {info.user!r} on "
                f"{info.database!r} fails: {exc}. Fix: if {self.env_path} was replaced or "
                f"{ENV_PASSWORD} is set to another password, unset it and run `distrohub erp "
                "down && distrohub erp up --reset-password`."
            ) from exc

    def stop(self) -> bool:
        """Stop our trytond (SIGTERM, then SIGKILL after a bound); True if it was running."""
        state = self.running()
        if state is None:
            self.state_path.unlink(missing_ok=True)
            return False
        _signal(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and _alive(state.pid):
            time.sleep(0.1)
        if _alive(state.pid):
            _signal(state.pid, signal.SIGKILL, group=True)  # gunicorn's workers too
            time.sleep(0.2)
        self.state_path.unlink(missing_ok=True)
        return True

    # ------------------------------------------------------------- the whole
    def up(
        self,
        progress: Progress | None = None,
        *,
        rebuild_template: bool = False,
        reset_password: bool = False,
    ) -> ErpInfo:
        """Role, template, database, server: each only if missing. Writes erp.env."""
        self.dir.mkdir(parents=True, exist_ok=True)
        values = self._secrets()
        self.ensure_role(values[ENV_ROLE_PASSWORD])
        if rebuild_template or not self.database_exists():
            self.ensure_template(values[ENV_ROLE_PASSWORD], progress, rebuild=rebuild_template)
        if not self.ensure_database(values[ENV_ROLE_PASSWORD], progress) and reset_password:
            self.reset_password(progress)
        info = self.start(values[ENV_ROLE_PASSWORD], progress)
        values.update(info.environment(values[ENV_PASSWORD]))
        values[ENV_DATABASE] = self.database
        self._write_env(values)
        return info

    def status(self) -> dict[str, object]:
        """What runs and where (no secrets)."""
        state = self.running()
        values = settings.read_env_file(self.env_path)
        try:
            template = self.template_status()
            db_exists = self.database_exists()
            stamp_ok: bool | None = template == template_stamp()
        except psycopg.Error as exc:
            template, db_exists, stamp_ok = f"unknown ({type(exc).__name__})", None, None
        return {
            "running": state is not None,
            "pid": state.pid if state else None,
            "url": f"http://{HOST}:{state.port}/{state.database}/" if state else None,
            "database": self.database,
            "database_exists": db_exists,
            "template": TEMPLATE_DB if template else ("absent" if template is None else ""),
            "template_current": stamp_ok,
            "user": values.get(ENV_USER, TRYTON_LOGIN),
            "log": str(self.log_path),
            "env_file": str(self.env_path),
        }


# ----------------------------------------------------------------- helpers
def _bin(name: str) -> str:
    """A console script of this venv (trytond, trytond-admin)."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    raise ErpError(
        f"{name} not found beside {sys.executable}. Fix: `make install` "
        "(it installs trytond, the Tryton modules and gunicorn into the venv)."
    )


def _is_our_trytond(pid: int, conf: str) -> bool:
    """``pid`` runs trytond (or gunicorn serving it) with our configuration file."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in cmdline if a]
    return any(Path(a).name in ("trytond", "gunicorn") for a in args[:2]) and conf in args


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _signal(pid: int, sig: int, *, group: bool = False) -> None:
    """Signal ``pid`` (and, with ``group``, the process group it leads: it was started in a
    session of its own)."""
    try:
        if group and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return "(no log)"


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
