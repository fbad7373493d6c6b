"""Prepared SQL run on the sqlite3 connection under a session's transaction: the journal's per-step writes.

An engine step writes a handful of rows and commits; at that size SQLAlchemy's per-statement work (compiled
cache lookup, parameter processing, result objects) cost more than SQLite itself. These statements go to the
DB-API connection of the session's own connection, so they are part of the same transaction (committed or
rolled back with it), and their values pass through the very bind processors of the tables' column types,
so a row is stored exactly as a Core or ORM write of it would store it (Decimal as its exact text, times
as ISO-8601 UTC, booleans as 0/1).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.orm import Session

_DIALECT = SQLiteDialect_pysqlite()
_quote = _DIALECT.identifier_preparer.quote


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """One statement: its SQL, the columns its ``?`` bind in order, and how each column's value is stored."""

    sql: str
    columns: tuple[str, ...]
    converters: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None else convert(value)
            for convert, value in zip(self.converters, [values[name] for name in self.columns], strict=True)
        )

    def run(self, connection: sqlite3.Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Execute for every row (one ``executemany``); the number of rows it changed."""
        return connection.executemany(self.sql, [self.parameters(row) for row in rows]).rowcount


def prepared(table: Table, sql: str, columns: tuple[str, ...]) -> PreparedWrite:
    converters = tuple(table.c[name].type.bind_processor(_DIALECT) for name in columns)
    return PreparedWrite(sql, columns, converters)


@lru_cache(maxsize=16)
def insert(table: Table, columns: tuple[str, ...], conflict: str | None = None) -> PreparedWrite:
    """INSERT of ``columns``; with ``conflict``, an upsert that sets every other column on that key's conflict."""
    names = ", ".join(_quote(name) for name in columns)
    sql = f"INSERT INTO {_quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
    if conflict is not None:
        assignments = ", ".join(f"{_quote(n)} = excluded.{_quote(n)}" for n in columns if n != conflict)
        sql += f" ON CONFLICT ({_quote(conflict)}) DO UPDATE SET {assignments}"
    return prepared(table, sql, columns)


def driver_connection(session: Session) -> sqlite3.Connection:
    """The sqlite3 connection that carries ``session``'s transaction (begun here if it was not yet)."""
    return cast(sqlite3.Connection, session.connection().connection.driver_connection)
