"""Prepared SQL for the journal's per-step writes, run with ``executemany`` on the write connection.

An engine step writes a handful of rows and commits; at that size SQLAlchemy's per-statement work (compiled
cache lookup, parameter processing, result objects) cost more than SQLite itself. These statements run on
the database's write connection (`write_connection`), inside the transaction it drives, and their values
pass through the very bind processors of the tables' column types, so a row is stored exactly as a Core or
ORM write of it would store it (Decimal as its exact text, times as ISO-8601 UTC, booleans as 0/1).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from app.storage.write_connection import storage_error

_DIALECT = SQLiteDialect_pysqlite()
_quote = _DIALECT.identifier_preparer.quote


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """One statement: its SQL, the columns its ``?`` bind in order, and how each column's value is stored."""

    sql: str
    columns: tuple[str, ...]
    converters: tuple[Callable[[Any], Any] | None, ...]
    # Resolved once per statement: one C call picks a row's values in column order, and only the columns
    # whose type converts its values are touched after that.
    _pick: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False, compare=False)
    _converted: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.converters) != len(self.columns):
            raise ValueError("one converter (or None) per column")
        pick = itemgetter(*self.columns)
        single = len(self.columns) == 1
        object.__setattr__(self, "_pick", (lambda row: (pick(row),)) if single else pick)
        converted = tuple((n, convert) for n, convert in enumerate(self.converters) if convert is not None)
        object.__setattr__(self, "_converted", converted)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | list[Any]:
        picked = self._pick(values)
        if not self._converted:
            return picked  # type: ignore[no-any-return]
        parameters = list(picked)
        for index, convert in self._converted:
            parameters[index] = convert(parameters[index])
        return parameters

    def run(self, connection: sqlite3.Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Execute for every row (one ``executemany``); the number of rows it changed."""
        parameters = [self.parameters(row) for row in rows]
        try:
            return connection.executemany(self.sql, parameters).rowcount
        except sqlite3.Error as exc:
            raise storage_error(exc, self.sql, parameters, many=True) from exc


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
