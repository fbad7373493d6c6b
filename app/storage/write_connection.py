"""The database's own sqlite3 connection for prepared writes: one explicit transaction per call, no session.

An engine step writes a handful of rows and commits. A SQLAlchemy session per step (its begin, commit and
close, the pool checkout) cost more CPU than the step's SQL itself, so the journal's per-step writes run on
one long-lived connection of their own, in a transaction this module drives: ``BEGIN IMMEDIATE``, the
work, ``COMMIT``; ``ROLLBACK`` when anything in between raises. The connection comes from the engine once
(so it gets the same pragmas as every other: WAL, ``synchronous=FULL``, foreign keys, secure_delete) and
is then detached from the pool. It is used only from the thread that runs the database's work (the
`DatabaseWorker`), one call at a time.

Errors come out as the rest of storage reports them: SQLite's errors wrapped in SQLAlchemy's
``DBAPIError`` family (``IntegrityError``, ``OperationalError``, ...), with the statement that failed where
it is known (a `PreparedWrite` attaches its own), never as raw ``sqlite3`` exceptions.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")

BEGIN = "BEGIN IMMEDIATE"


def storage_error(
    exc: sqlite3.Error, statement: str | None, parameters: Sequence[Any] | None = None, *, many: bool = False
) -> DBAPIError:
    """``exc`` as SQLAlchemy would have raised it for ``statement`` (same class, message and origin)."""
    return cast(DBAPIError, DBAPIError.instance(statement, parameters, exc, sqlite3.Error, ismulti=many))


def execute(connection: sqlite3.Connection, statement: str) -> None:
    """Run one statement without parameters; a failure as a storage error."""
    try:
        connection.execute(statement)
    except sqlite3.Error as exc:
        raise storage_error(exc, statement) from exc


class WriteConnection:
    """One sqlite3 connection that runs prepared writes, each call one transaction, all or nothing."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: sqlite3.Connection | None = None
        #: The thread that first opened the connection (the database's worker); no other may use it.
        self._owner: int | None = None

    def connection(self) -> sqlite3.Connection:
        """The connection, opened through the engine on first use (or after `close`)."""
        if self._connection is None:
            proxied = self._engine.raw_connection()
            connection = cast(sqlite3.Connection, proxied.driver_connection)
            proxied.detach()
            # Transactions are begun and ended here, explicitly: the driver must not begin one on its own.
            connection.isolation_level = None
            self._connection = connection
        return self._connection

    def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` in one transaction: committed if it returns, rolled back if it raises."""
        caller = threading.get_ident()
        if self._owner is None:
            self._owner = caller
        elif caller != self._owner:
            raise RuntimeError("the write connection is used only by the thread that runs the database's work")
        connection = self.connection()
        if connection.in_transaction:
            raise RuntimeError("a write transaction is already open on this connection")
        execute(connection, BEGIN)
        try:
            result = work(connection)
            execute(connection, "COMMIT")
        except sqlite3.Error as exc:
            self._roll_back(connection)
            raise storage_error(exc, None) from exc
        except BaseException:
            self._roll_back(connection)
            raise
        return result

    def _roll_back(self, connection: sqlite3.Connection) -> None:
        # SQLite may have rolled the transaction back itself (a full disk, an I/O error): then there is
        # nothing left to undo, and a ROLLBACK would fail.
        if not connection.in_transaction:
            return
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            # Closing a connection rolls its open transaction back; the next call opens a new one.
            log.warning("Rolling back a failed write did not succeed; its connection is closed", exc_info=True)
            self.close()

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back); the next call opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
