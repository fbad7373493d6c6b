"""The watchlist table's model: one row per symbol, updated a row at a time as its quote changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.controller.quote_views import QuoteView
from app.ui.formatting import fmt_price, fmt_qty

Index = QModelIndex | QPersistentModelIndex
STALE = QColor("#8a8a8a")
UP, DOWN = QColor("#2e6b3f"), QColor("#b3261e")


def _signed(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = fmt_price(value)
    return f"+{text}" if value > 0 else text


def _percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{'+' if value > 0 else ''}{value.quantize(Decimal('0.01'))}%"


def _time(view: QuoteView) -> str:
    if view.quote is None:
        return "no quote" if view.error else "…"
    stamp = view.quote.timestamp.astimezone().strftime("%H:%M:%S")
    return f"{stamp} ({view.age} old)" if view.stale else stamp


#: (key, title, text of a view, right-aligned)
COLUMNS: tuple[tuple[str, str, Callable[[QuoteView], str], bool], ...] = (
    ("symbol", "Symbol", lambda v: v.display, False),
    ("last", "Last", lambda v: fmt_price(v.last), True),
    ("change", "Change", lambda v: _signed(v.change), True),
    ("change_pct", "% Change", lambda v: _percent(v.change_percent), True),
    ("bid", "Bid", lambda v: fmt_price(v.bid), True),
    ("ask", "Ask", lambda v: fmt_price(v.ask), True),
    ("volume", "Volume", lambda v: fmt_qty(v.volume), True),
    ("time", "Quote time", _time, False),
)
_KEYS = [c[0] for c in COLUMNS]


class WatchlistModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._symbols: list[str] = []
        self._views: dict[str, QuoteView] = {}

    def set_symbols(self, symbols: Sequence[str], views: dict[str, QuoteView]) -> None:
        """A new list or a new order of symbols (the list's structure changed)."""
        self.beginResetModel()
        self._symbols = list(symbols)
        self._views = {s: views.get(s) or QuoteView(s, None) for s in self._symbols}
        self.endResetModel()

    def update(self, view: QuoteView) -> None:
        """One symbol's new quote: repaint that row only."""
        if view.symbol not in self._views:
            return
        self._views[view.symbol] = view
        row = self._symbols.index(view.symbol)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def symbol_at(self, row: int) -> str:
        return self._symbols[row]

    def view_at(self, row: int) -> QuoteView:
        return self._views[self._symbols[row]]

    def text(self, row: int, key: str) -> str:
        return COLUMNS[_KEYS.index(key)][2](self.view_at(row))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._symbols)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key, _title, text, right = COLUMNS[index.column()]
        view = self.view_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return text(view)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(view, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if view.stale or view.quote is None:
                return STALE
            if key in ("change", "change_pct") and view.change:
                return UP if view.change > 0 else DOWN
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None


def _tooltip(view: QuoteView, key: str) -> str:
    parts = [view.tooltip] if key == "symbol" and view.tooltip else []
    if view.quote is not None:
        parts.append(view.source)
        if view.stale:
            parts.append(f"Stale: {view.age} old")
    if view.error:
        parts.append(view.error)
    return "\n".join(p for p in parts if p)
