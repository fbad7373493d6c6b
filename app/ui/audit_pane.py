"""The Audit log pane: every safety-relevant event, newest first, filtered by text and exported to CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.audit import AuditEvent, matches
from app.ui.formatting import fmt_time
from app.ui.table_model import Column

Index = QModelIndex | QPersistentModelIndex

AUDIT_COLUMNS: tuple[Column[AuditEvent], ...] = (
    Column("time", "Time", lambda e: e.at, fmt_time),
    Column("event", "Event", lambda e: e.kind.label),
    Column("mode", "Mode", lambda e: e.mode.upper()),
    Column("broker", "Broker", lambda e: e.broker),
    Column("account", "Account", lambda e: f"…{e.account_last4}" if e.account_last4 else ""),
    Column("details", "Details", lambda e: e.summary),
)


class AuditTableModel(QAbstractTableModel):
    """Events newest first; a new event is one row inserted at the top, never a reset."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[AuditEvent] = []

    def set_rows(self, rows: Sequence[AuditEvent]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def prepend(self, event: AuditEvent) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, event)
        self.endInsertRows()

    def rows(self) -> list[AuditEvent]:
        return list(self._rows)

    def text(self, row: int, key: str) -> str:
        column = next(c for c in AUDIT_COLUMNS if c.key == key)
        return column.fmt(column.value(self._rows[row]))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(AUDIT_COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        column = AUDIT_COLUMNS[index.column()]
        return column.fmt(column.value(self._rows[index.row()]))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return AUDIT_COLUMNS[section].title
        return None


class AuditPane(QWidget):
    #: The filter text changed: load the matching events.
    filter_changed = Signal(str)
    #: Export the events matching the filter (second argument) to the file (first argument).
    export_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit_pane")
        #: Replaced in tests; asks where to save the CSV file ('' when the trader cancels).
        self.choose_export_path: Callable[[], str] = lambda: QFileDialog.getSaveFileName(
            self, "Export the audit log", "tradebridge-audit.csv", "CSV files (*.csv)"
        )[0]
        self.filter = QLineEdit(objectName="audit.filter", placeholderText="Filter: e.g. kill switch, 1234, risk denial")
        self.filter.setClearButtonEnabled(True)
        self.export_button = QPushButton("Export CSV…", objectName="audit.export")
        self.model = AuditTableModel(self)
        self.table = QTableView(objectName="audit.table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel(objectName="audit.message")
        self.message.setWordWrap(True)
        note = QLabel("Rows are only ever added: nothing here can be edited or deleted. Account numbers show as last 4.")
        note.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(self.message)

        self.filter.textChanged.connect(self.filter_changed)
        self.export_button.clicked.connect(self._export)

    @Slot(list)
    def show_events(self, events: list[AuditEvent]) -> None:
        self.model.set_rows(events)

    @Slot(object)
    def add_event(self, event: AuditEvent) -> None:
        if matches(event, self.filter.text()):
            self.model.prepend(event)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def _export(self) -> None:
        path = self.choose_export_path()
        if path:
            self.export_requested.emit(path, self.filter.text())
