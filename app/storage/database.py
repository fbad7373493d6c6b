"""Opening the local SQLite database: checks, backup, Alembic migrations, pragmas and file modes.

Order of work on start-up, each step before anything is written:
1. an existing file must be a readable SQLite database whose schema revision this app knows;
   a corrupt file or a newer schema is refused and left untouched;
2. when migrations are pending on an existing database, an online backup is taken first;
3. migrations run to head; the engine then opens every connection with WAL, synchronous=FULL
   and foreign keys on. On POSIX the database, its -wal/-shm files and backups are 0600.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
PRIVATE_FILE_MODE = 0o600
T = TypeVar("T")


class DatabaseError(Exception):
    """The database can't be used; the message says why and what to do. The file was not changed."""


class SchemaTooNew(DatabaseError):
    pass


class DatabaseCorrupt(DatabaseError):
    pass


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def make_private(path: Path) -> None:
    """0600 on POSIX; Windows files in the user profile are already private to the user."""
    if os.name == "posix" and path.exists():
        os.chmod(path, PRIVATE_FILE_MODE)


def _private_sidecars(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        make_private(Path(f"{db_path}{suffix}"))


def _read_revision(db_path: Path) -> str | None:
    """The schema revision of an existing file, read through a read-only connection."""
    uri = f"{db_path.as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise DatabaseCorrupt(
                    f"The database {db_path} is damaged ({check[0] if check else 'no answer'}). "
                    "It was left untouched; restore a backup from the backups folder or move it away."
                )
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            if not has_version:
                tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
                if tables:
                    raise DatabaseCorrupt(
                        f"{db_path} is not a TradeBridge database. It was left untouched; choose another data folder."
                    )
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorrupt(
            f"The database {db_path} can't be read ({exc}). It was left untouched; "
            "restore a backup from the backups folder or move it away."
        ) from exc


def backup_database(db_path: Path, backup_dir: Path, label: str) -> Path:
    """An online, consistent copy through SQLite's backup API (safe while the app has it open)."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = backup_dir / f"tradebridge-{stamp}-{label}.sqlite3"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(fd)
    # closing(): sqlite3's own context manager ends a transaction but leaves the connection open.
    with closing(sqlite3.connect(db_path)) as source, closing(sqlite3.connect(target)) as dest:
        source.backup(dest)
    make_private(target)
    log.info("Backed up the database to %s", target)
    return target


def _set_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@dataclass
class Database:
    path: Path
    engine: Engine
    sessions: sessionmaker[Session]

    def transaction(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises."""
        with self.sessions.begin() as session:
            return work(session)

    def dispose(self) -> None:
        self.engine.dispose()
        _private_sidecars(self.path)


def open_database(db_path: Path, backup_dir: Path) -> Database:
    """Validate, back up, migrate and open the database. Blocking: call it off the Qt thread."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    known = known_revisions()
    head = head_revision()
    existing = db_path.exists() and db_path.stat().st_size > 0
    current = _read_revision(db_path) if existing else None
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"This database was written by a newer version of TradeBridge (schema {current}). "
            "It was left untouched; install the newer version to open it."
        )
    if not db_path.exists():
        fd = os.open(db_path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
        os.close(fd)
    if existing and current != head:
        backup_database(db_path, backup_dir, f"before-{head}")

    engine = create_engine(f"sqlite:///{db_path}", future=True)
    event.listen(engine, "connect", _set_pragmas)
    with engine.begin() as connection:
        config = _alembic_config()
        config.attributes["connection"] = connection
        if MigrationContext.configure(connection).get_current_revision() != head:
            log.info("Migrating the database from %s to %s", current or "empty", head)
            command.upgrade(config, "head")
    _private_sidecars(db_path)
    return Database(path=db_path, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
