"""Schema migrations that can't brick the database: one transaction, a new file built aside, half-migrations found.

Python's ``sqlite3`` driver opens a transaction only before INSERT/UPDATE/DELETE, so by default every
``CREATE TABLE`` commits on its own and a crash mid-migration leaves some tables and no revision.
Here the driver's own transaction handling is switched off and SQLAlchemy emits ``BEGIN IMMEDIATE``
itself (SQLAlchemy's documented set-up for transactional DDL on pysqlite), so a migration, the
foreign-key check after it and the new revision number commit together or not at all.

A new database is built under a temporary name and renamed into place once committed, so the
database path holds either nothing or a complete database — never an empty or half-built file.
"""

from __future__ import annotations

import ast
import functools
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import NullPool, StaticPool

from app.storage import head_schema

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Suffix of a database still being built; never opened as the app's database.
BUILDING_SUFFIX = ".building"


class MigrationFailed(Exception):
    """The migration did not complete; nothing it did was kept."""


def alembic_config() -> Config:
    # Alembic is imported only when a migration runs: a start on an up-to-date database never loads it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def _revision_graph() -> dict[str, str | None]:
    """Each revision and the one it revises, read from the scripts' own assignments (no Alembic import)."""
    graph: dict[str, str | None] = {}
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found: dict[str, object] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value is not None:
                found[target.id] = ast.literal_eval(node.value)
        revision, down = found.get("revision"), found.get("down_revision")
        if isinstance(revision, str) and (down is None or isinstance(down, str)):
            graph[revision] = down
    return graph


def head_revision() -> str:
    graph = _revision_graph()
    heads = set(graph) - {down for down in graph.values() if down is not None}
    if len(heads) != 1:
        raise MigrationFailed(f"the migration scripts have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


def known_revisions() -> set[str]:
    return set(_revision_graph())


def _driver_autocommit_off(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # The driver must not manage transactions (it would leave DDL outside them); SQLAlchemy's
    # "begin" event below emits the BEGIN instead. Foreign keys are checked once at the end, as
    # SQLite's documented procedure for schema changes asks, since a table rebuild breaks them midway.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def transactional_engine(url: str, **kwargs: object) -> Engine:
    """An engine whose transactions include DDL: BEGIN IMMEDIATE ... COMMIT around all of it."""
    engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
    event.listen(engine, "connect", _driver_autocommit_off)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, target: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        raise MigrationFailed(f"the migrated rows break {len(violations)} foreign key(s), first: {violations[0]}")


def migrate_in_place(db_path: Path, target: str) -> None:
    """Upgrade an existing database in one transaction: on any failure the file is as it was."""
    engine = transactional_engine(f"sqlite:///{db_path}", poolclass=NullPool)
    try:
        with engine.begin() as connection:
            _upgrade(connection, target)
    finally:
        engine.dispose()


def building_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + BUILDING_SUFFIX)


def discard_unfinished_build(db_path: Path) -> None:
    """Remove what a start killed while building a new database left behind."""
    building = building_path(db_path)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)


def create_new(db_path: Path, target: str, file_mode: int) -> None:
    """Build a new database aside, migrated and committed, then rename it into place.

    At the head it is built in one step from the head schema the migrations produce (``head_schema``, proven
    identical by a test), without importing Alembic; at any other revision the migrations run.
    """
    discard_unfinished_build(db_path)
    building = building_path(db_path)
    fd = os.open(building, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode)
    os.close(fd)
    try:
        if target == head_revision() and head_schema.file_revision() == target:
            try:
                head_schema.build(building)
            except sqlite3.Error as exc:
                raise MigrationFailed(f"the new database could not be written ({exc})") from exc
        else:
            migrate_in_place(building, target)
        _fsync(building)
        os.replace(building, db_path)
        _fsync_folder(db_path.parent)
    except BaseException:
        discard_unfinished_build(db_path)
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    if os.name == "posix":
        _fsync(folder)


@functools.cache
def expected_tables(revision: str | None) -> frozenset[str]:
    """The tables a database at ``revision`` has.

    For the head they are the tables the app's models declare (a test proves the migrations build exactly
    those), so opening an up-to-date database imports no Alembic; an older revision is found by migrating
    an in-memory database to it, which happens only when a migration is due anyway.
    """
    if revision is None:
        return frozenset()
    if revision == head_revision():
        return head_tables()
    return migrated_tables(revision)


def head_tables() -> frozenset[str]:
    """The tables of the current schema: those of the models, plus Alembic's revision record."""
    # Every model shares one metadata; these modules declare the tables outside schema.py.
    from app.storage import audit_repository, vault_schema  # noqa: F401
    from app.storage.schema import Base

    return frozenset({*Base.metadata.tables, "alembic_version"})


@functools.cache
def migrated_tables(revision: str) -> frozenset[str]:
    """The tables a database at ``revision`` has, found by migrating an in-memory database to it."""
    engine = transactional_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.begin() as connection:
            _upgrade(connection, revision)
        with engine.connect() as connection:
            return _tables(connection)
    finally:
        engine.dispose()


def _tables(connection: Connection) -> frozenset[str]:
    rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"))
    return frozenset(row[0] for row in rows)


def tables_in(db_path: Path) -> frozenset[str]:
    with closing(sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        return frozenset(row[0] for row in rows)


def schema_matches(db_path: Path, revision: str | None) -> bool:
    """Whether the file holds exactly the tables its recorded revision promises (besides SQLite's own)."""
    present = tables_in(db_path) - {"alembic_version"}
    return present == expected_tables(revision) - {"alembic_version"}


@contextmanager
def read_only(db_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)) as conn:
        yield conn
