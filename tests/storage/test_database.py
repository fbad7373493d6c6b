"""The database file: migrations, pragmas, private file modes, backups, and refusing what it can't open."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from app.paths import AppPaths
from app.storage.database import (
    DatabaseCorrupt,
    SchemaTooNew,
    _alembic_config,
    head_revision,
    open_database,
)
from tests.conftest import posix_only


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "data").ensure()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_migrates_an_empty_data_dir_to_head(paths: AppPaths) -> None:
    db = open_database(paths.database, paths.backups)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {"app_settings", "paper_account", "orders", "fills", "paper_positions", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
    finally:
        db.dispose()
    assert list(paths.backups.iterdir()) == [], "a new database needs no backup"


def test_every_connection_uses_wal_full_sync_and_foreign_keys(paths: AppPaths) -> None:
    db = open_database(paths.database, paths.backups)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        db.dispose()


def test_reopening_at_head_changes_nothing_and_takes_no_backup(paths: AppPaths) -> None:
    open_database(paths.database, paths.backups).dispose()
    db = open_database(paths.database, paths.backups)
    db.dispose()
    assert list(paths.backups.iterdir()) == []


def test_pending_migration_takes_an_online_backup_first(paths: AppPaths) -> None:
    db = open_database(paths.database, paths.backups)
    with db.engine.begin() as conn:
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
        previous = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.dispose()

    open_database(paths.database, paths.backups).dispose()

    backups = list(paths.backups.iterdir())
    assert len(backups) == 1
    with closing(sqlite3.connect(backups[0])) as conn, conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert (row[0] if row else None) == previous


def test_newer_schema_is_refused_and_left_untouched(paths: AppPaths) -> None:
    open_database(paths.database, paths.backups).dispose()
    with closing(sqlite3.connect(paths.database)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    before = _digest(paths.database)

    with pytest.raises(SchemaTooNew, match="newer version of TradeBridge"):
        open_database(paths.database, paths.backups)

    assert _digest(paths.database) == before
    assert list(paths.backups.iterdir()) == []


def test_corrupt_file_is_refused_and_left_untouched(paths: AppPaths) -> None:
    paths.database.write_bytes(b"this is not a database" * 100)
    before = _digest(paths.database)

    with pytest.raises(DatabaseCorrupt, match="left untouched"):
        open_database(paths.database, paths.backups)

    assert _digest(paths.database) == before


def test_foreign_database_is_refused(paths: AppPaths) -> None:
    with closing(sqlite3.connect(paths.database)) as conn, conn:
        conn.execute("CREATE TABLE something_else (x)")
    with pytest.raises(DatabaseCorrupt, match="not a TradeBridge database"):
        open_database(paths.database, paths.backups)


@posix_only
def test_database_sidecars_and_backups_are_private(paths: AppPaths) -> None:
    db = open_database(paths.database, paths.backups)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO app_settings (key, value) VALUES ('k', '1')"))
        assert _mode(paths.database) == 0o600
        for suffix in ("-wal", "-shm"):
            sidecar = Path(f"{paths.database}{suffix}")
            assert sidecar.exists()
            assert _mode(sidecar) == 0o600
    with db.engine.begin() as conn:
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    db.dispose()
    open_database(paths.database, paths.backups).dispose()
    backups = list(paths.backups.iterdir())
    assert backups and all(_mode(b) == 0o600 for b in backups)
    assert _mode(paths.data_dir) == 0o700
