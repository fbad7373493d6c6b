"""The watchlist pane: named lists of symbols with last, change, bid, ask, volume and quote time."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.controller.quote_views import QuoteView, WatchlistsView
from app.ui.confirm import ask_confirmation
from app.ui.watchlist_model import WatchlistModel


def ask_list_name(parent: QWidget | None) -> str | None:
    name, ok = QInputDialog.getText(parent, "New watchlist", "Name of the new watchlist:")
    return name if ok else None


class _WatchTable(QTableView):
    """Enter on a row chooses its symbol, as a double-click does."""

    activated_row = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated_row.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class WatchlistPane(QWidget):
    """Signals carry the list name and symbol; the controller checks, saves and answers with ``show_lists``."""

    add_requested = Signal(str, str)
    remove_requested = Signal(str, str)
    move_requested = Signal(str, str, int)
    list_selected = Signal(str)
    list_created = Signal(str)
    list_deleted = Signal(str)
    symbol_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchlist")
        #: Replaceable questions (tests answer them without a modal dialog).
        self.ask_name: Callable[[QWidget | None], str | None] = ask_list_name
        self.confirm: Callable[[QWidget | None, str, str], bool] = ask_confirmation
        self.lists = QComboBox(objectName="watchlist.lists")
        self.new_list = QPushButton("New list…", objectName="watchlist.new_list")
        self.delete_list = QPushButton("Delete list", objectName="watchlist.delete_list")
        self.symbol_input = QLineEdit(objectName="watchlist.symbol_input", placeholderText="Add AAPL or an OCC option")
        self.add = QPushButton("Add", objectName="watchlist.add")
        self.model = WatchlistModel(self)
        self.table = _WatchTable(objectName="watchlist.table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.remove = QPushButton("Remove", objectName="watchlist.remove")
        self.up = QPushButton("Move up", objectName="watchlist.up")
        self.down = QPushButton("Move down", objectName="watchlist.down")
        self.message = QLabel(objectName="watchlist.message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")

        top = QHBoxLayout()
        top.addWidget(self.lists, 1)
        top.addWidget(self.new_list)
        top.addWidget(self.delete_list)
        entry = QHBoxLayout()
        entry.addWidget(self.symbol_input, 1)
        entry.addWidget(self.add)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove)
        buttons.addWidget(self.up)
        buttons.addWidget(self.down)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(entry)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.message.hide()

        self.add.clicked.connect(self._add)
        self.symbol_input.returnPressed.connect(self._add)
        self.remove.clicked.connect(self._remove)
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(+1))
        self.lists.activated.connect(lambda _i: self.list_selected.emit(self.lists.currentText()))
        self.new_list.clicked.connect(self._create)
        self.delete_list.clicked.connect(self._delete)
        self.table.doubleClicked.connect(lambda index: self._choose(index.row()))
        self.table.activated_row.connect(self._choose)
        self._views: dict[str, QuoteView] = {}

    @property
    def current_list(self) -> str:
        return self.lists.currentText()

    @Slot(object)
    def show_lists(self, lists: WatchlistsView) -> None:
        selected = self.selected_symbol()
        self.lists.blockSignals(True)
        self.lists.clear()
        self.lists.addItems(list(lists.names))
        self.lists.setCurrentText(lists.active)
        self.lists.blockSignals(False)
        self.delete_list.setEnabled(len(lists.names) > 1)
        if list(lists.symbols) != self.model.symbols():
            if set(lists.symbols) - set(self.model.symbols()) and lists.active == self.lists.currentText():
                self.symbol_input.clear()
            self.model.set_symbols(lists.symbols, self._views)
        if selected in lists.symbols:
            self.table.selectRow(lists.symbols.index(selected))

    @Slot(object)
    def show_quote(self, view: QuoteView) -> None:
        self._views[view.symbol] = view
        self.model.update(view)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def selected_symbol(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.symbol_at(rows[0].row()) if rows else None

    def _add(self) -> None:
        text = self.symbol_input.text().strip()
        if text:
            self.add_requested.emit(self.current_list, text)

    def _remove(self) -> None:
        symbol = self.selected_symbol()
        if symbol is not None:
            self.remove_requested.emit(self.current_list, symbol)

    def _move(self, step: int) -> None:
        symbol = self.selected_symbol()
        if symbol is not None:
            row = self.model.symbols().index(symbol) + step
            if 0 <= row < self.model.rowCount():
                self.move_requested.emit(self.current_list, symbol, row)

    def _create(self) -> None:
        name = self.ask_name(self)
        if name:
            self.list_created.emit(name)

    def _delete(self) -> None:
        name = self.current_list
        if name and self.confirm(self, "Delete watchlist", f"Delete the watchlist '{name}' and its symbols?"):
            self.list_deleted.emit(name)

    def _choose(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.symbol_chosen.emit(self.model.symbol_at(row))
