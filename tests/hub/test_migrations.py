from __future__ import annotations

import psycopg
import pytest

from dagster_project.hub import migrate
from dagster_project.hub.migrate import MigrationError, apply_migrations, available


def catalog_snapshot(url: str) -> list[tuple]:
    """Every schema, relation, column, privilege and default privilege in the hub."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            select 'schema', n.nspname, coalesce(n.nspacl::text, ''), ''
              from pg_namespace n where n.nspname not like 'pg\\_%%'
            union all
            select 'relation', c.relnamespace::regnamespace::text, c.relname,
                   coalesce(c.relacl::text, '')
              from pg_class c
             where c.relnamespace::regnamespace::text in
                   ('raw', 'staging', 'core', 'marts', 'publish', 'ops')
            union all
            select 'default_acl', d.defaclnamespace::regnamespace::text, d.defaclobjtype::text,
                   d.defaclacl::text
              from pg_default_acl d
            union all
            select 'migration', version, name, checksum from ops.schema_migrations
            order by 1, 2, 3
            """
        ).fetchall()


def test_migrations_apply_twice_without_change(scratch_db: str) -> None:
    first = apply_migrations(scratch_db)
    assert first == [m.version for m in available()]
    before = catalog_snapshot(scratch_db)
    assert apply_migrations(scratch_db) == []
    assert catalog_snapshot(scratch_db) == before


def test_an_edited_migration_is_refused(scratch_db: str, tmp_path, monkeypatch) -> None:
    for m in available():
        (tmp_path / m.path.name).write_text(m.sql)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    apply_migrations(scratch_db)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(scratch_db)


def test_a_failing_migration_applies_nothing(scratch_db: str, tmp_path, monkeypatch) -> None:
    for m in available():
        (tmp_path / m.path.name).write_text(m.sql)
    (tmp_path / "9998_ok.sql").write_text("create table ops.should_not_exist (i int);")
    (tmp_path / "9999_broken.sql").write_text("select * from no_such_table;")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    with pytest.raises(MigrationError, match="9999_broken.sql"):
        apply_migrations(scratch_db)
    with psycopg.connect(scratch_db) as conn:
        assert conn.execute("select to_regclass('ops.schema_migrations')").fetchone() == (None,)
        assert conn.execute("select to_regclass('ops.should_not_exist')").fetchone() == (None,)


def test_a_comment_only_edit_listed_as_former_is_accepted(scratch_db: str) -> None:
    """A hub that applied a migration before its comments were edited keeps starting."""
    apply_migrations(scratch_db)
    version, former = next(iter(migrate.FORMER_CHECKSUMS.items()))
    current = next(m for m in available() if m.version == version).checksum
    with psycopg.connect(scratch_db) as conn:
        conn.execute(
            "update ops.schema_migrations set checksum = %s where version = %s",
            (next(iter(former)), version),
        )
    assert apply_migrations(scratch_db) == []
    with psycopg.connect(scratch_db) as conn:
        recorded = conn.execute(
            "select checksum from ops.schema_migrations where version = %s", (version,)
        ).fetchone()
    assert recorded == (current,)
