"""Migrations that can't brick the database: killed or failed at any step, the next start finds it as before."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from app.paths import AppPaths
from app.storage import backups
from app.storage.database import (
    DatabaseCorrupt,
    DatabaseError,
    HalfMigrated,
    _alembic_config,
    head_revision,
    open_database,
    restore_backup,
)
from app.storage.migration import building_path, expected_tables

ROOT = Path(__file__).resolve().parents[2]
FIRST = "0001_initial"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "data").ensure()


def _dump(db_path: Path) -> list[str]:
    """Schema and rows, as committed (what a later reader would see)."""
    with closing(sqlite3.connect(db_path)) as conn:
        return list(conn.iterdump())


def _healthy(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables - {"sqlite_sequence"} == expected_tables(head_revision())


def _at_first_revision_with_trades(paths: AppPaths) -> list[str]:
    """A database at the first schema holding settings, an order and its fill; returns its dump."""
    db = open_database(paths.database, paths.backups)
    with db.engine.begin() as conn:
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, FIRST)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO app_settings (key, value) VALUES ('paper.settings', '{\"slippage_bps\": \"7\"}')"))
        columns = [r[1] for r in conn.execute(text("PRAGMA table_info(orders)"))]
        assert "client_order_id" in columns
    db.dispose()
    return _dump(paths.database)


def test_a_new_database_is_built_aside_and_renamed_into_place(paths: AppPaths) -> None:
    open_database(paths.database, paths.backups).dispose()
    _healthy(paths.database)
    assert not building_path(paths.database).exists()


def test_a_failed_first_start_leaves_no_database_and_the_next_start_succeeds(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The new database is written by plain sqlite3 from the head schema: its 12th table or index fails.
    created = {"n": 0}
    connect = sqlite3.connect

    def refuse_the_twelfth(action: int, *_args: object) -> int:
        if action in (sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX):
            created["n"] += 1
            if created["n"] == 12:
                return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def connect_failing(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        connection = connect(database, *args, **kwargs)  # type: ignore[arg-type]
        if str(database) == str(building_path(paths.database)):
            connection.set_authorizer(refuse_the_twelfth)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_failing)
    with pytest.raises(DatabaseError, match="Nothing was changed"):
        open_database(paths.database, paths.backups)
    monkeypatch.undo()
    assert created["n"] == 12, "the build stopped after some of its tables were created"
    assert not paths.database.exists()
    assert not building_path(paths.database).exists()
    open_database(paths.database, paths.backups).dispose()
    _healthy(paths.database)


def test_a_failed_upgrade_leaves_the_database_exactly_as_before(paths: AppPaths) -> None:
    before = _at_first_revision_with_trades(paths)
    calls = {"n": 0}

    def fail_late(conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("CREATE"):
            calls["n"] += 1
            if calls["n"] == 3:
                raise sqlite3.OperationalError("disk I/O error")

    event.listen(Engine, "before_cursor_execute", fail_late)
    try:
        with pytest.raises(DatabaseError, match="could not be updated"):
            open_database(paths.database, paths.backups)
    finally:
        event.remove(Engine, "before_cursor_execute", fail_late)
    assert calls["n"] == 3, "the migration stopped after some of its tables were created"
    assert _dump(paths.database) == before
    open_database(paths.database, paths.backups).dispose()
    _healthy(paths.database)


def _crash_at_every_step(template: Path, work: Path) -> int:
    env = {**os.environ}
    env.pop("TRADEBRIDGE_DATA_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.storage.migration_crash_child", str(template), str(work)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


@pytest.mark.subprocess
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash driver forks")
def test_sigkill_at_every_step_of_a_first_start(tmp_path: Path) -> None:
    template = AppPaths(tmp_path / "template").ensure()
    total = _crash_at_every_step(template.data_dir, tmp_path / "runs")
    assert total > 20, "every statement of the migration is a kill point"
    for n in range(1, total + 1):
        folder = AppPaths(tmp_path / "runs" / str(n))
        if folder.database.exists():
            # Killed after the rename: the database is complete.
            _healthy(folder.database)
        open_database(folder.database, folder.backups).dispose()
        _healthy(folder.database)
        assert not building_path(folder.database).exists()


@pytest.mark.subprocess
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash driver forks")
def test_sigkill_at_every_step_of_an_upgrade(tmp_path: Path) -> None:
    template = AppPaths(tmp_path / "template").ensure()
    before = _at_first_revision_with_trades(template)
    open_database(template.database, template.backups).dispose()
    after = _dump(template.database)
    (template.database).unlink()
    for stale in template.backups.iterdir():
        stale.unlink()
    for sidecar in ("-wal", "-shm"):
        Path(f"{template.database}{sidecar}").unlink(missing_ok=True)
    assert _at_first_revision_with_trades(template) == before

    total = _crash_at_every_step(template.data_dir, tmp_path / "runs")
    assert total > 10
    outcomes = set()
    for n in range(1, total + 1):
        folder = AppPaths(tmp_path / "runs" / str(n))
        state = _dump(folder.database)
        assert state in (before, after), f"killed at step {n}, the database is neither as before nor migrated"
        outcomes.add("before" if state == before else "after")
        open_database(folder.database, folder.backups).dispose()
        _healthy(folder.database)
        assert _dump(folder.database) == after
        assert not list(folder.backups.glob("*.partial"))
    assert outcomes == {"before", "after"}


def test_an_empty_database_file_is_reported_as_damaged_not_replaced(paths: AppPaths) -> None:
    paths.database.touch()
    with pytest.raises(DatabaseCorrupt, match="empty"):
        open_database(paths.database, paths.backups)
    assert paths.database.stat().st_size == 0


def _half_migrate(db_path: Path) -> None:
    """What an earlier build left when killed midway: one table of the next revision, old revision number."""
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("CREATE TABLE vault_meta (id INTEGER PRIMARY KEY)")


def test_a_half_migrated_database_offers_the_backup_from_before_the_migration(paths: AppPaths) -> None:
    before = _at_first_revision_with_trades(paths)
    backup = backups.backup_database(paths.database, paths.backups, f"before-{head_revision()}")
    _half_migrate(paths.database)
    half = _dump(paths.database)

    with pytest.raises(HalfMigrated, match="half-migrated") as refused:
        open_database(paths.database, paths.backups)
    assert refused.value.restorable == backup
    assert _dump(paths.database) == half

    restore_backup(paths.database, backup, paths.backups)
    assert _dump(paths.database) == before
    set_aside = list(paths.backups.glob("*-set-aside.sqlite3"))
    assert len(set_aside) == 1 and _dump(set_aside[0]) == half
    open_database(paths.database, paths.backups).dispose()
    _healthy(paths.database)


def test_a_half_migrated_first_start_without_a_backup_gets_a_plain_message(paths: AppPaths) -> None:
    with closing(sqlite3.connect(paths.database)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("CREATE TABLE app_settings (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL)")
    with pytest.raises(HalfMigrated, match="No backup from before it exists") as refused:
        open_database(paths.database, paths.backups)
    assert refused.value.restorable is None


def test_backups_are_pruned_to_the_number_to_keep(paths: AppPaths) -> None:
    _at_first_revision_with_trades(paths)
    with closing(sqlite3.connect(paths.database)) as conn, conn:
        conn.execute("INSERT INTO app_settings (key, value) VALUES (?, ?)", (backups.KEEP_SETTING, "2"))
    old = [backups.backup_database(paths.database, paths.backups, f"before-{FIRST}") for _ in range(3)]
    (paths.backups / "tradebridge-20200101T000000000000Z-before-x.sqlite3.partial").write_bytes(b"cut short")

    open_database(paths.database, paths.backups).dispose()

    kept = backups.before_migration(paths.backups)
    assert len(kept) == 2
    assert old[-1] in kept and old[0] not in kept and old[1] not in kept
    assert not list(paths.backups.glob("*.partial"))


def test_secure_delete_is_on_for_every_connection(paths: AppPaths) -> None:
    db = open_database(paths.database, paths.backups)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA secure_delete")).scalar_one() == 1
    finally:
        db.dispose()
