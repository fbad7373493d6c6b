"""Header-click sorting for the small tables (positions, fills): by each column's value, not its text."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from app.ui.table_model import RecordTableModel

Index = QModelIndex | QPersistentModelIndex


def _sort_value(value: Any, text: str) -> tuple[int, Any]:
    """Missing values first, numbers and times by value, everything else by the text shown."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (2, text.casefold())
    if isinstance(value, (int, Decimal)):
        return (1, value)
    if isinstance(value, datetime):
        return (1, value.timestamp())
    return (2, text.casefold())


class RecordSortProxy(QSortFilterProxyModel):
    """Sorts a ``RecordTableModel`` by the records' values; the source keeps its row-level events."""

    def __init__(self, source: RecordTableModel[Any], parent: Any = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setDynamicSortFilter(True)
        self._source = source

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802 - Qt's name
        column = left.column()
        if column < 0:
            return left.row() < right.row()  # no sort chosen: the source's own order
        return self._key(left.row(), column) < self._key(right.row(), column)

    def _key(self, row: int, column: int) -> tuple[int, Any]:
        own = self._source.sort_value(row, column)
        if own is not None:
            return (3, own)
        value = self._source.value(row, column)
        return _sort_value(value, self._source.text(row, self._source.column_key(column)))

    def key_at(self, row: int) -> str:
        return self._source.key_at(self.mapToSource(self.index(row, 0)).row())

    def record_at(self, row: int) -> Any:
        return self._source.row_at(self.mapToSource(self.index(row, 0)).row())

    def text(self, row: int, key: str) -> str:
        return self._source.text(self.mapToSource(self.index(row, 0)).row(), key)


def sortable_table(name: str, model: QSortFilterProxyModel) -> QTableView:
    """A read-only, row-selecting table sorted by clicking a header; unsorted, rows keep the source order."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setSortIndicatorShown(True)
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    return view
