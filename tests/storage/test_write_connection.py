"""The write connection: one durable transaction per call, all or nothing, errors as storage errors, on the worker."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from app.paths import AppPaths
from app.storage.database import Database, open_database
from app.storage.paper_repository import load_paper_state, save_paper_update
from app.storage.worker import DatabaseWorker
from tests.storage.journal_crash_child import FILL, FILLED, OPENED, POSITION, SECOND, first_step


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    paths = AppPaths(tmp_path / "data").ensure()
    database = open_database(paths.database, paths.backups)
    first_step(database)
    yield database
    database.dispose()


def _saved_cash(db: Database) -> Decimal:
    return db.transaction(lambda s: load_paper_state(s, Decimal(5), OPENED).cash)


def _pay(connection: sqlite3.Connection, cash: str) -> None:
    save_paper_update(connection, cash=Decimal(cash), orders=[], fills=[], positions=[])


def _counted(db: Database) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("orders", "fills", "order_events")}


def test_the_write_connection_keeps_the_databases_durability_pragmas(db: Database) -> None:
    connection = db.writes.connection()
    pragmas = {name: connection.execute(f"PRAGMA {name}").fetchone()[0] for name in (
        "journal_mode", "synchronous", "foreign_keys", "secure_delete", "busy_timeout"
    )}
    # synchronous 2 is FULL: every commit is on disk before the write returns.
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1, "busy_timeout": 5000}


def test_work_that_raises_is_rolled_back_and_its_error_passes_through(db: Database) -> None:
    def pays_then_fails(connection: sqlite3.Connection) -> None:
        _pay(connection, "1.00")
        raise ValueError("the engine refused the step")

    with pytest.raises(ValueError, match="refused"):
        db.write(pays_then_fails)
    assert _saved_cash(db) == Decimal(100000)
    db.write(lambda c: _pay(c, "2.00"))
    assert _saved_cash(db) == Decimal("2.00")


def test_a_statement_the_database_refuses_comes_out_as_a_storage_error(db: Database) -> None:
    with pytest.raises(OperationalError, match="no such table") as failed:
        db.write(lambda c: c.execute("INSERT INTO no_such_table VALUES (1)"))
    assert isinstance(failed.value.orig, sqlite3.OperationalError)
    assert not isinstance(failed.value, sqlite3.Error)
    assert db.write(lambda c: c.in_transaction) is True


def test_a_commit_the_database_refuses_leaves_nothing_and_the_next_write_succeeds(db: Database) -> None:
    before = _counted(db)
    stray = replace(FILL, client_order_id="tb-never-placed", fill_id="f-stray")

    def checked_at_commit(connection: sqlite3.Connection) -> None:
        # Foreign keys checked at COMMIT instead of at each statement: the step fails on its COMMIT.
        connection.execute("PRAGMA defer_foreign_keys=ON")
        save_paper_update(connection, cash=Decimal("1.00"), orders=[FILLED, SECOND], fills=[stray], positions=[POSITION])

    with pytest.raises(IntegrityError, match="FOREIGN KEY") as failed:
        db.write(checked_at_commit)
    assert failed.value.statement == "COMMIT"
    assert _counted(db) == before
    assert _saved_cash(db) == Decimal(100000)
    db.write(lambda c: _pay(c, "3.00"))
    assert _saved_cash(db) == Decimal("3.00")


def test_a_database_held_by_another_writer_fails_the_step_as_a_storage_error_and_changes_nothing(
    db: Database,
) -> None:
    db.writes.connection().execute("PRAGMA busy_timeout=0")
    other = sqlite3.connect(db.path, isolation_level=None)
    with closing(other):
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked") as failed:
            db.write(lambda c: _pay(c, "4.00"))
        assert failed.value.statement == "BEGIN IMMEDIATE"
        other.execute("ROLLBACK")
    assert _saved_cash(db) == Decimal(100000)
    db.write(lambda c: _pay(c, "4.00"))
    assert _saved_cash(db) == Decimal("4.00")


class _RollbackFails:
    """A connection whose ROLLBACK fails, as it can on a failing disk; everything else is the real connection's."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "ROLLBACK":
            raise sqlite3.OperationalError("disk I/O error")
        return self.real.execute(sql, *args)


def test_a_rollback_that_fails_closes_the_connection_and_the_next_write_opens_a_new_one(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    real = db.writes.connection()
    db.writes._connection = _RollbackFails(real)  # type: ignore[assignment]
    stray = replace(FILL, client_order_id="tb-never-placed", fill_id="f-stray")
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        db.write(lambda c: save_paper_update(c, cash=Decimal("1.00"), orders=[SECOND], fills=[stray], positions=[]))
    assert "connection is closed" in caplog.text
    # Closing the connection rolled its transaction back: nothing of the step is on disk.
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        real.execute("SELECT 1")
    assert _saved_cash(db) == Decimal(100000)
    assert db.writes.connection() is not real
    db.write(lambda c: _pay(c, "5.00"))
    assert _saved_cash(db) == Decimal("5.00")


def test_a_write_inside_a_write_is_refused_and_the_outer_one_rolled_back(db: Database) -> None:
    def nested(connection: sqlite3.Connection) -> None:
        _pay(connection, "6.00")
        db.write(lambda c: _pay(c, "7.00"))

    with pytest.raises(RuntimeError, match="already open"):
        db.write(nested)
    assert _saved_cash(db) == Decimal(100000)


def test_a_write_and_a_session_transaction_inside_each_other_are_refused_at_once(db: Database) -> None:
    def write_in_session(session: Any) -> None:
        db.write(lambda c: _pay(c, "6.00"))

    def session_in_write(connection: sqlite3.Connection) -> None:
        _pay(connection, "7.00")
        db.transaction(lambda session: None)

    # Each would otherwise wait for the other's lock until the busy timeout, then fail as "locked".
    with pytest.raises(RuntimeError, match="inside a session transaction"):
        db.transaction(write_in_session)
    with pytest.raises(RuntimeError, match="inside a prepared write"):
        db.write(session_in_write)
    assert _saved_cash(db) == Decimal(100000)
    # Neither refusal leaves the database thinking a transaction is still open.
    db.write(lambda c: _pay(c, "8.00"))
    assert _saved_cash(db) == Decimal("8.00")


def test_the_write_connection_refuses_a_thread_other_than_the_one_that_opened_it(db: Database) -> None:
    db.write(lambda c: _pay(c, "6.00"))
    refused: list[BaseException] = []

    def other() -> None:
        try:
            db.write(lambda c: _pay(c, "7.00"))
        except RuntimeError as exc:
            refused.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert len(refused) == 1 and "only by the thread" in str(refused[0])
    assert _saved_cash(db) == Decimal("6.00")


async def test_the_workers_writes_run_on_its_own_thread(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data").ensure()
    worker = DatabaseWorker()
    database = await worker.open(lambda: open_database(paths.database, paths.backups))
    await worker.call(first_step, database)
    threads: list[str] = []

    def step(connection: sqlite3.Connection) -> bool:
        threads.append(threading.current_thread().name)
        _pay(connection, "8.00")
        return connection.in_transaction

    assert await worker.write(step) is True
    cash = await worker.run(lambda s: load_paper_state(s, Decimal(5), OPENED).cash)
    await worker.close()
    assert cash == Decimal("8.00")
    assert len(threads) == 1 and threads[0].startswith("tradebridge-db")
