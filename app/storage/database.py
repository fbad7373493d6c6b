"""Opening the local SQLite database: checks, backup, migrations in one transaction, pragmas and file modes.

Order of work on start-up, each step before anything is written:
1. an existing file must be a readable, non-empty SQLite database whose schema revision this app
   knows and whose tables are those of that revision; a damaged, empty, half-migrated or newer
   database is refused and left untouched (with the backup that could replace it, if there is one);
2. when migrations are pending on an existing database, an online backup is taken first and old
   backups beyond the number to keep are deleted;
3. migrations run to head in one transaction (``migration``); a new database is built aside and
   renamed into place. The engine then opens every connection with WAL, synchronous=FULL,
   foreign keys and secure_delete on. On POSIX the database, its -wal/-shm files and backups are 0600.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.storage import backups
from app.storage.write_connection import WriteConnection
from app.storage.migration import (
    MigrationFailed,
    alembic_config,
    create_new,
    discard_unfinished_build,
    expected_tables,
    head_revision,
    known_revisions,
    migrate_in_place,
    read_only,
    schema_matches,
)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

PRIVATE_FILE_MODE = backups.PRIVATE_FILE_MODE
T = TypeVar("T")

__all__ = [
    "Database",
    "DatabaseCorrupt",
    "DatabaseError",
    "HalfMigrated",
    "SchemaTooNew",
    "head_revision",
    "known_revisions",
    "open_database",
]


class DatabaseError(Exception):
    """The database can't be used; the message says why and what to do. The file was not changed.

    ``restorable`` is a backup that could replace it, when one exists; restoring is the trader's call.
    """

    def __init__(self, message: str, restorable: Path | None = None) -> None:
        super().__init__(message)
        self.restorable = restorable


class SchemaTooNew(DatabaseError):
    pass


class DatabaseCorrupt(DatabaseError):
    pass


class HalfMigrated(DatabaseCorrupt):
    """A migration by an earlier build stopped midway: some tables of a revision are there, others not."""


def _alembic_config() -> Config:
    return alembic_config()


make_private = backups.make_private
backup_database = backups.backup_database


def _private_sidecars(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        make_private(Path(f"{db_path}{suffix}"))


def _damaged(db_path: Path, why: str, backup_dir: Path) -> DatabaseCorrupt:
    backup = backups.newest_usable(backup_dir)
    advice = "restore a backup from the backups folder or move it away."
    return DatabaseCorrupt(f"The database {db_path} {why}. It was left untouched; {advice}", backup)


def _read_revision(db_path: Path, backup_dir: Path) -> str | None:
    """The schema revision of an existing file, read through a read-only connection."""
    try:
        with read_only(db_path) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise _damaged(db_path, f"is damaged ({check[0] if check else 'no answer'})", backup_dir)
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            if not has_version:
                tables = {
                    row[0]
                    for row in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                    )
                }
                if tables and not tables <= expected_tables(head_revision()):
                    raise DatabaseCorrupt(
                        f"{db_path} is not a TradeBridge database. It was left untouched; choose another data folder."
                    )
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise _damaged(db_path, f"can't be read ({exc})", backup_dir) from exc


def _check_existing(db_path: Path, backup_dir: Path) -> str | None:
    """The revision of a database that is safe to migrate or open; every other case is refused."""
    if db_path.stat().st_size == 0:
        raise _damaged(db_path, "is empty (0 bytes), so it is damaged", backup_dir)
    current = _read_revision(db_path, backup_dir)
    if current is not None and current not in known_revisions():
        raise SchemaTooNew(
            f"This database was written by a newer version of TradeBridge (schema {current}). "
            "It was left untouched; install the newer version to open it."
        )
    if not schema_matches(db_path, current):
        backup = backups.newest_usable(backup_dir, revision=current)
        where = (
            "A backup from before that migration can be restored."
            if backup
            else "No backup from before it exists: move the file away to start a new paper account, "
            "or restore a copy of your own."
        )
        raise HalfMigrated(
            f"The database {db_path} was left half-migrated by an interrupted update of an earlier "
            f"TradeBridge (schema {current or 'none'} with some later tables). It was left untouched. {where}",
            backup,
        )
    return current


def _set_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows (forgotten credentials, retired keys) are overwritten, whatever the SQLite build's default.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@dataclass
class Database:
    path: Path
    engine: Engine
    sessions: sessionmaker[Session]
    writes: WriteConnection = field(init=False, repr=False)
    #: Which kind of transaction this thread has open: a session's and a prepared write's are two connections,
    #: and one opened inside the other would wait for the outer one's lock until the busy timeout.
    _open: threading.local = field(default_factory=threading.local, init=False, repr=False)

    def __post_init__(self) -> None:
        self.writes = WriteConnection(self.engine)

    def transaction(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises."""
        outer = getattr(self._open, "kind", None)
        if outer == "write":
            raise RuntimeError("a session transaction can't be opened inside a prepared write")
        self._open.kind = "session"
        try:
            with self.sessions.begin() as session:
                return work(session)
        finally:
            self._open.kind = outer

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run prepared writes (`prepared_writes`) in one transaction on the write connection, without a
        session: committed if ``work`` returns, rolled back if it raises. For the journal's per-step writes."""
        outer = getattr(self._open, "kind", None)
        if outer == "session":
            raise RuntimeError("a prepared write can't run inside a session transaction")
        self._open.kind = "write"
        try:
            return self.writes.transaction(work)
        finally:
            self._open.kind = outer

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database and empty it (after deleting something sensitive)."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.writes.close()
        self.engine.dispose()
        _private_sidecars(self.path)


def _migration_failed(db_path: Path, exc: BaseException) -> DatabaseError:
    log.error("The database migration failed and was rolled back: %s", exc)
    return DatabaseError(
        f"The database {db_path} could not be updated ({exc}). Nothing was changed; "
        "free disk space if it is full and start again."
    )


def open_database(db_path: Path, backup_dir: Path) -> Database:
    """Validate, back up, migrate and open the database. Blocking: call it off the Qt thread."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    head = head_revision()
    discard_unfinished_build(db_path)
    try:
        if db_path.exists():
            current = _check_existing(db_path, backup_dir)
            if current != head:
                backup_database(db_path, backup_dir, f"before-{head}")
                log.info("Migrating the database from %s to %s", current or "empty", head)
                migrate_in_place(db_path, head)
        else:
            log.info("Creating a new database at schema %s", head)
            create_new(db_path, head, PRIVATE_FILE_MODE)
    except (MigrationFailed, SQLAlchemyError, OSError) as exc:
        raise _migration_failed(db_path, exc) from exc
    # A lowered number to keep takes effect at the next start, whether or not a migration ran.
    backups.prune(backup_dir, backups.keep_count(db_path))

    engine = create_engine(f"sqlite:///{db_path}", future=True)
    event.listen(engine, "connect", _set_pragmas)
    with engine.connect():
        pass
    _private_sidecars(db_path)
    return Database(path=db_path, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def restore_backup(db_path: Path, backup: Path, backup_dir: Path) -> Path:
    """Put ``backup`` in place of the database; the file it replaces is kept in the backups folder."""
    return backups.restore(db_path, backup, backup_dir)
