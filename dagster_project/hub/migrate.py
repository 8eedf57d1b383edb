"""Versioned SQL migrations for the hub database.

Migrations are the numbered ``NNNN_name.sql`` files beside this module, applied
in order, each once, recorded in ``ops.schema_migrations`` with a checksum. The
whole run holds a transaction-scoped advisory lock, so two starts at once apply
nothing twice, and it is one transaction, so a failing migration leaves the
hub as it was. An applied migration whose file changed is an error: write a new
migration instead of editing an old one. The one exception is an edit of comments
only: list the file's former checksum in :data:`FORMER_CHECKSUMS`, and a hub that
applied the former file has its record moved to the current checksum (nothing is run).

We write this runner by hand (40 lines) rather than use Alembic: our
migrations are plain SQL with no ORM models, so Alembic's revision graph and
autogenerate would buy nothing and add an env.py to maintain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
LOCK_KEY = 0x64697374  # "dist"

# Checksums of applied migrations whose files were later edited in their comments only
# (no SQL changed), by version. A hub that recorded one of these is up to date.
FORMER_CHECKSUMS: dict[str, frozenset[str]] = {
    # comments pointed at design notes outside the repository; now at docs/architecture.md
    "0001": frozenset({"62ca436ab1caa2bb5a1a4897e6847b3bcc6346742af18972e96fb8c91340ae7f"}),
    "0003": frozenset({"fac89db64d16a63da7aba6644c5c60f7ebb247a08e3a0272950a7a6fd03fa3b3"}),
    "0005": frozenset({"36e2e25dd36d5ff7597da351b9c64240a7d7acc0ff60caff11c9a0039dd7107c"}),
    "0006": frozenset({"4ede7b7713ca83e367435d2cb2e8294dd1f5b3dd6b4a08b9b41593621af00b89"}),
    "0007": frozenset({"7cea092d35fa2c8925d83d156e793a18f72ee53fa6533658f44c7417a59bc8e4"}),
}


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        version, _, name = path.stem.partition("_")
        found.append(Migration(version, name, path))
    return found


def apply_migrations(url: str) -> list[str]:
    """Apply pending migrations to the hub at ``url``; return the versions applied."""
    applied_now: list[str] = []
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("create schema if not exists ops")
        conn.execute(
            """create table if not exists ops.schema_migrations (
                   version text primary key,
                   name text not null,
                   checksum text not null,
                   applied_at timestamptz not null default now())"""
        )
        done = dict(conn.execute("select version, checksum from ops.schema_migrations"))
        for migration in available():
            if migration.version in done:
                recorded = done[migration.version]
                if recorded in FORMER_CHECKSUMS.get(migration.version, frozenset()):
                    conn.execute(
                        "update ops.schema_migrations set checksum = %s where version = %s",
                        (migration.checksum, migration.version),
                    )
                elif recorded != migration.checksum:
                    raise MigrationError(
                        f"Migration {migration.path.name} was changed after it was applied. "
                        "Put the change in a new migration file and restore the old one."
                    )
                continue
            try:
                conn.execute(migration.sql)
            except psycopg.Error as exc:
                raise MigrationError(
                    f"Migration {migration.path.name} failed: {exc}. Nothing was applied."
                ) from exc
            conn.execute(
                "insert into ops.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.version)
    return applied_now


def applied_versions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        exists = conn.execute("select to_regclass('ops.schema_migrations')").fetchone()[0]
        if exists is None:
            return []
        return [r[0] for r in conn.execute("select version from ops.schema_migrations order by 1")]
