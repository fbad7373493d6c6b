"""A half-migrated database at start: the backup from before the migration is restored only on the trader's yes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from app import launch as main
from app.paths import AppPaths
from app.storage import backups
from app.storage.database import head_revision
from tests.storage.test_migration_safety import _at_first_revision_with_trades, _dump, _half_migrate


def _half_migrated_with_backup(paths: AppPaths) -> Path:
    _at_first_revision_with_trades(paths)
    backup = backups.backup_database(paths.database, paths.backups, f"before-{head_revision()}")
    _half_migrate(paths.database)
    return backup


def test_yes_restores_the_backup_and_the_app_starts_on_it(qtbot, qt_loop, app_paths: AppPaths) -> None:
    backup = _half_migrated_with_backup(app_paths)
    asked: list[tuple[str, Path]] = []
    args = main.parse_args(["--data-dir", str(app_paths.data_dir)])

    services = qt_loop.run(main.open_app(args, app_paths, ask=lambda text, found: asked.append((text, found)) or True))

    assert not isinstance(services, int)
    qtbot.addWidget(services.window)
    try:
        ((text, offered),) = asked
        assert offered == backup and "half-migrated" in text
        with closing(sqlite3.connect(app_paths.database)) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
            assert conn.execute("SELECT value FROM app_settings WHERE key = 'paper.settings'").fetchone()
        assert len(list(app_paths.backups.glob("*-set-aside.sqlite3"))) == 1
    finally:
        services.window.close()
        qt_loop.run(services.shutdown())


def test_no_leaves_the_database_untouched_and_says_why(
    qt_loop, app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _half_migrated_with_backup(app_paths)
    before = _dump(app_paths.database)
    told: list[str] = []
    monkeypatch.setattr(main, "_show_fatal", lambda message, interactive: told.append(message))
    args = main.parse_args(["--data-dir", str(app_paths.data_dir)])

    result = qt_loop.run(main.open_app(args, app_paths, ask=lambda _text, _found: False))

    assert result == main.EXIT_DATABASE
    assert told and "half-migrated" in told[0]
    assert _dump(app_paths.database) == before
