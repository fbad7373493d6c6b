"""Database backups: taken whole or not at all before a migration, pruned to the last N, restored on request.

Backups hold the wrapped vault keys of their day, so they are pruned: only the newest ``keep_count``
backups taken before a migration are kept (``backups.keep`` in the settings, 5 unless changed).
A database put aside by a restore is kept under its own name and never pruned.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from app.storage.migration import building_path, known_revisions, read_only, schema_matches

log = logging.getLogger(__name__)

PRIVATE_FILE_MODE = 0o600
KEEP_SETTING = "backups.keep"
DEFAULT_KEEP = 5
MIN_KEEP = 1
MAX_KEEP = 100
#: Backups taken before a migration: ``tradebridge-<UTC stamp>-before-<revision>.sqlite3``.
BEFORE_MIGRATION = "tradebridge-*-before-*.sqlite3"
PARTIAL_SUFFIX = ".partial"


def make_private(path: Path) -> None:
    """0600 on POSIX; Windows files in the user profile are already private to the user."""
    if os.name == "posix" and path.exists():
        os.chmod(path, PRIVATE_FILE_MODE)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def backup_database(db_path: Path, backup_dir: Path, label: str) -> Path:
    """An online, consistent copy through SQLite's backup API, renamed into place only when complete."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / f"tradebridge-{_stamp()}-{label}.sqlite3"
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(fd)
    try:
        # closing(): sqlite3's own context manager ends a transaction but leaves the connection open.
        with closing(sqlite3.connect(db_path)) as source, closing(sqlite3.connect(partial)) as dest:
            source.backup(dest)
        make_private(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("Backed up the database to %s", target)
    return target


def before_migration(backup_dir: Path) -> list[Path]:
    """Backups taken before a migration, oldest first (the UTC stamp in the name sorts by time)."""
    if not backup_dir.is_dir():
        return []
    return sorted(backup_dir.glob(BEFORE_MIGRATION))


def prune(backup_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups taken before a migration, and any unfinished copy."""
    for partial in backup_dir.glob(f"*{PARTIAL_SUFFIX}"):
        partial.unlink(missing_ok=True)
    doomed = before_migration(backup_dir)[: -max(keep, MIN_KEEP)]
    for path in doomed:
        path.unlink(missing_ok=True)
        log.info("Deleted the old backup %s", path.name)
    return doomed


def keep_count(db_path: Path) -> int:
    """How many backups to keep, from the settings of the database about to be backed up."""
    try:
        with read_only(db_path) as conn:
            row = conn.execute("SELECT value FROM app_settings WHERE key = ?", (KEEP_SETTING,)).fetchone()
    except sqlite3.DatabaseError:
        return DEFAULT_KEEP
    if row is None:
        return DEFAULT_KEEP
    try:
        value = int(json.loads(row[0]))
    except (TypeError, ValueError):
        return DEFAULT_KEEP
    return min(max(value, MIN_KEEP), MAX_KEEP)


def _revision(path: Path) -> tuple[bool, str | None]:
    """(usable, revision) of a backup: readable, undamaged, at a known revision with its tables."""
    try:
        with read_only(path) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                return False, None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return False, None
    revision = row[0] if row else None
    if revision not in known_revisions() or not schema_matches(path, revision):
        return False, revision
    return True, revision


_ANY = object()


def newest_usable(backup_dir: Path, revision: object = _ANY) -> Path | None:
    """The newest backup that opens cleanly (at ``revision``, when given)."""
    for path in reversed(before_migration(backup_dir)):
        usable, found = _revision(path)
        if usable and (revision is _ANY or found == revision):
            return path
    return None


def restore(db_path: Path, backup: Path, backup_dir: Path) -> Path:
    """Put a copy of ``backup`` in place of the database. The replaced database is kept, set aside.

    Each step leaves a database the next start can handle: the copy is complete before it is
    renamed into place, and the replaced file is copied aside before its journal is removed.
    """
    building = building_path(db_path)
    building.unlink(missing_ok=True)
    shutil.copyfile(backup, building)
    make_private(building)
    with open(building, "rb+") as handle:
        os.fsync(handle.fileno())
    aside = None
    if db_path.exists() and db_path.stat().st_size > 0:
        aside = backup_database(db_path, backup_dir, "set-aside")
    elif db_path.exists():
        aside = backup_dir / f"tradebridge-{_stamp()}-set-aside-empty.sqlite3"
        os.replace(db_path, aside)
        journal = Path(f"{db_path}-wal")
        if journal.exists():
            os.replace(journal, Path(f"{aside}-wal"))
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(building, db_path)
    log.info("Restored the database from %s; the replaced one is kept as %s", backup.name, aside)
    return db_path
