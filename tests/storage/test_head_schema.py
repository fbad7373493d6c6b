"""A new database built from the head schema file is identical to one every migration builds, and Alembic stays for upgrades."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from app.storage import head_schema, migration

REGENERATE = "the head schema file is stale: run `python -m app.storage.head_schema` and commit the file"


def _portrait(db_path: Path) -> dict[str, Any]:
    """Everything a schema is: each sqlite_master entry in order, each table's columns, indexes, keys and rows."""
    with closing(sqlite3.connect(db_path)) as conn:
        master = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        tables = [name for kind, name, _tbl, _sql in master if kind == "table"]
        portrait: dict[str, Any] = {
            "master": master,
            "pragmas": {name: conn.execute(f"PRAGMA {name}").fetchall() for name in head_schema.SCHEMA_PRAGMAS},
            "integrity": conn.execute("PRAGMA integrity_check").fetchall(),
        }
        for table in tables:
            portrait[table] = {
                "columns": conn.execute(f'PRAGMA table_xinfo("{table}")').fetchall(),
                "indexes": conn.execute(f'PRAGMA index_list("{table}")').fetchall(),
                "foreign_keys": conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall(),
                "rows": conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall(),
            }
        for (index,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"):
            portrait[f"index {index}"] = conn.execute(f'PRAGMA index_xinfo("{index}")').fetchall()
    return portrait


def _migrated(folder: Path, revision: str) -> Path:
    path = folder / "migrated.sqlite3"
    path.touch()
    migration.migrate_in_place(path, revision)
    return path


def test_the_head_schema_file_is_the_dump_of_every_migration_run_to_the_head() -> None:
    head = migration.head_revision()
    assert head_schema.file_revision() == head, REGENERATE
    assert head_schema.SCHEMA_FILE.read_text(encoding="utf-8") == head_schema.migrated_dump(head), REGENERATE


def test_a_new_database_is_identical_to_one_built_by_running_every_migration(tmp_path: Path) -> None:
    built = tmp_path / "new.sqlite3"
    migration.create_new(built, migration.head_revision(), 0o600)
    migrated = _migrated(tmp_path, migration.head_revision())
    ours, theirs = _portrait(built), _portrait(migrated)
    assert ours == theirs
    # Not vacuous: the schema's tables, indexes, triggers and the revision row are all there.
    kinds = {kind for kind, *_rest in ours["master"]}
    assert kinds == {"table", "index", "trigger"}
    assert ours["alembic_version"]["rows"] == [(migration.head_revision(),)]
    assert len(ours["orders"]["columns"]) > 20


def test_the_new_database_keeps_the_rules_the_migrations_made(tmp_path: Path) -> None:
    built = tmp_path / "new.sqlite3"
    migration.create_new(built, migration.head_revision(), 0o600)
    with closing(sqlite3.connect(built)) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("INSERT INTO audit_log (at, kind) VALUES ('2026-01-02T00:00:00+00:00', 'mode')")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit_log")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute(
                "INSERT INTO fills (fill_id, client_order_id, symbol, side, quantity, price, commission, filled_at) "
                "VALUES ('f1', 'nowhere', 'AAPL', 'buy', '1', '1', '0', 'x')"
            )


def test_a_schema_file_behind_the_head_is_not_used_and_the_migrations_build_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = tmp_path / "older.sql"
    older.write_text(head_schema.migrated_dump("0001_initial"), encoding="utf-8")
    monkeypatch.setattr(head_schema, "SCHEMA_FILE", older)
    assert head_schema.file_revision() == "0001_initial"
    built = tmp_path / "new.sqlite3"
    migration.create_new(built, migration.head_revision(), 0o600)
    assert _portrait(built) == _portrait(_migrated(tmp_path, migration.head_revision()))


def test_a_database_below_the_head_is_still_built_by_the_migrations(tmp_path: Path) -> None:
    built = tmp_path / "new.sqlite3"
    migration.create_new(built, "0001_initial", 0o600)
    assert _portrait(built) == _portrait(_migrated(tmp_path, "0001_initial"))
