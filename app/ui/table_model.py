"""One declarative table model: a tuple of Columns over a list of immutable records, changed row by row.

A change of one record costs one ``dataChanged`` (or one row insert/remove), never a model reset:
``upsert`` and ``remove`` apply events, ``sync`` brings a small table (positions) to a new list by
diffing it. With a ``sort_key`` the rows are kept in that order, and a record is found and placed by
bisection, so an event costs O(log n) lookups whatever the number of rows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.domain.symbol_display import describe_symbol, symbol_sort_key, symbol_tooltip

R = TypeVar("R")
#: Text of a value that must not be read as current (a stale price).
MUTED = QColor("#8a8a8a")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column: its value (sorted by), how the value reads, and optionally a tooltip, a sort key and a muted look.

    ``tip`` gives the cell's tooltip (the shown text when it gives nothing), ``sort`` a sort key other than the
    value (a symbol sorts by root, expiry, right and strike, not by its readable text), ``muted`` greys the cell
    (a stale price).
    """

    key: str
    title: str
    value: Callable[[R], Any]
    fmt: Callable[[Any], str] = str
    align_right: bool = False
    tip: Callable[[R], str] | None = None
    sort: Callable[[R], Any] | None = None
    muted: Callable[[R], bool] | None = None


def symbol_column(symbol_of: Callable[[R], str], key: str = "symbol", title: str = "Symbol") -> Column[R]:
    """A symbol as a trader reads it ("AAPL 15 Jan 27 200 C"), the OCC code in its tooltip, sorted by its parts."""
    return Column(
        key,
        title,
        symbol_of,
        describe_symbol,
        tip=lambda record: symbol_tooltip(symbol_of(record)),
        sort=lambda record: symbol_sort_key(symbol_of(record)),
    )


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """Rows are records; ``key_of`` gives each a stable identity so selections survive updates."""

    def __init__(
        self,
        columns: Sequence[Column[R]],
        key_of: Callable[[R], str],
        parent: Any = None,
        *,
        sort_key: Callable[[R], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._key_of = key_of
        self._sort_key = sort_key
        self._rows: list[R] = []
        self._by_key: dict[str, R] = {}

    # ---- loading -----------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[R]) -> None:
        """Replace every row: for a load or a new query, never for a single change."""
        self.beginResetModel()
        self._rows = sorted(rows, key=self._sort_key) if self._sort_key else list(rows)
        self._by_key = {self._key_of(r): r for r in self._rows}
        self.endResetModel()

    def set_sort_key(self, sort_key: Callable[[R], Any] | None) -> None:
        self._sort_key = sort_key

    def append_rows(self, rows: Iterable[R]) -> None:
        """Add rows that are not shown yet (a further page); rows already shown are left as they are."""
        fresh = [r for r in rows if self._key_of(r) not in self._by_key]
        if not fresh:
            return
        if self._sort_key is not None:
            for record in fresh:
                self._insert(record)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self._by_key.update((self._key_of(r), r) for r in fresh)
        self.endInsertRows()

    # ---- events ------------------------------------------------------------------------------

    def upsert(self, records: Iterable[R]) -> None:
        """Show each record: its row changes in place, or it is inserted where it belongs."""
        for record in records:
            key = self._key_of(record)
            old = self._by_key.get(key)
            if old is None:
                self._insert(record)
                continue
            row = self._find(key, old)
            if self._sort_key is not None and self._sort_key(old) != self._sort_key(record):
                self._remove_row(row, key)
                self._insert(record)
                continue
            self._rows[row] = record
            self._by_key[key] = record
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._columns) - 1))

    def remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            old = self._by_key.get(key)
            if old is not None:
                self._remove_row(self._find(key, old), key)

    def sync(self, rows: Sequence[R]) -> None:
        """Bring the table to ``rows`` (a small, bounded list) with row-level changes only."""
        wanted = {self._key_of(r): r for r in rows}
        self.remove([k for k in self._by_key if k not in wanted])
        self.upsert(r for k, r in wanted.items() if self._by_key.get(k) != r)

    def _find(self, key: str, record: R) -> int:
        if self._sort_key is not None:
            row = bisect_left(self._rows, self._sort_key(record), key=self._sort_key)
            if row < len(self._rows) and self._key_of(self._rows[row]) == key:
                return row
        for number, candidate in enumerate(self._rows):
            if self._key_of(candidate) == key:
                return number
        raise KeyError(key)

    def _insert(self, record: R) -> None:
        if self._sort_key is None:
            row = len(self._rows)
        else:
            row = bisect_left(self._rows, self._sort_key(record), key=self._sort_key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, record)
        self._by_key[self._key_of(record)] = record
        self.endInsertRows()

    def _remove_row(self, row: int, key: str) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        del self._by_key[key]
        self.endRemoveRows()

    # ---- reading -----------------------------------------------------------------------------

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def key_at(self, row: int) -> str:
        return self._key_of(self._rows[row])

    def record(self, key: str) -> R | None:
        return self._by_key.get(key)

    def contains(self, key: str) -> bool:
        return key in self._by_key

    def last(self) -> R | None:
        return self._rows[-1] if self._rows else None

    def row_of_key(self, key: str) -> int | None:
        record = self._by_key.get(key)
        return None if record is None else self._find(key, record)

    def column_keys(self) -> list[str]:
        return [c.key for c in self._columns]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._columns)

    def column_key(self, section: int) -> str:
        return self._columns[section].key

    def value(self, row: int, section: int) -> Any:
        """The record's value in a column, unformatted (for sorting by value)."""
        return self._columns[section].value(self._rows[row])

    def sort_value(self, row: int, section: int) -> Any | None:
        """The column's own sort key for the record, or None when it sorts by its value."""
        column = self._columns[section]
        return None if column.sort is None else column.sort(self._rows[row])

    def text(self, row: int, key: str) -> str:
        column = next(c for c in self._columns if c.key == key)
        return column.fmt(column.value(self._rows[row]))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self._columns[index.column()]
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.fmt(column.value(record))
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = column.tip(record) if column.tip is not None else ""
            return tip or column.fmt(column.value(record))
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.muted is not None and column.muted(record):
            return MUTED
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section].title
        return None
