"""The Fills pane: every execution (time, symbol, side, quantity, price, commission, order), newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from app.domain.symbol_display import describe_symbol, symbol_with_code
from app.ui.formatting import fmt_enum, fmt_money, fmt_price, fmt_qty, fmt_time
from app.ui.table_menus import attach_row_menu, copy_text, menu_action, new_menu
from app.ui.table_model import Column, RecordTableModel, symbol_column
from app.ui.table_sort import RecordSortProxy, sortable_table

if TYPE_CHECKING:
    from app.controller.views import FillView

#: The table keeps this many executions; older ones stay in the journal (and each order's details).
MAX_ROWS = 1000

FILL_COLUMNS: tuple[Column[FillView], ...] = (
    Column("time", "Time", lambda f: f.fill.filled_at, fmt_time),
    Column("mode", "Mode", lambda f: f.mode, fmt_enum),
    symbol_column(lambda f: f.fill.symbol),
    Column("side", "Side", lambda f: f.fill.side, fmt_enum),
    Column("qty", "Qty", lambda f: f.fill.quantity, fmt_qty, align_right=True),
    Column("price", "Price", lambda f: f.fill.price, fmt_price, align_right=True),
    Column("commission", "Commission", lambda f: f.fill.commission, fmt_money, align_right=True),
    Column("order", "Order", lambda f: f.fill.client_order_id),
)


def fill_details(view: FillView) -> str:
    fill = view.fill
    return (
        f"{fmt_enum(fill.side)} {fmt_qty(fill.quantity)} {symbol_with_code(fill.symbol)} @ {fmt_price(fill.price)}, "
        f"commission {fmt_money(fill.commission)}, {fmt_time(fill.filled_at)} ({view.mode.value}), "
        f"order {fill.client_order_id}"
    )


class FillsPane(QWidget):
    export_requested = Signal()
    #: The client order id whose details (and full history) the trader wants to see.
    details_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fills")
        self.model: RecordTableModel[FillView] = RecordTableModel(
            FILL_COLUMNS, lambda f: f.key, sort_key=lambda f: (-f.fill.filled_at.timestamp(), f.key)
        )
        self.proxy = RecordSortProxy(self.model, self)
        self.table = sortable_table("fills.table", self.proxy)
        # Room for a time with its zone and a full option name ("SPXW 15 Dec 27 6125.5 C"), whatever the first rows.
        metrics, header = self.table.fontMetrics(), self.table.horizontalHeader()
        for key, sample in (("time", fmt_time(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))), ("symbol", describe_symbol("SPXW271215C06125500"))):
            header.resizeSection(self.model.column_keys().index(key), metrics.horizontalAdvance(sample) + 24)
        self.count = QLabel(objectName="fills.count")
        self.export_button = QPushButton("Export…", objectName="fills.export")
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.export_button.clicked.connect(self.export_requested)
        self.table.doubleClicked.connect(lambda index: self._details(index.row()))
        attach_row_menu(self.table, self.row_menu)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._show_count)
        self._show_count()

    @Slot(list)
    def show_fills(self, fills: list[FillView]) -> None:
        self.model.set_rows(fills[:MAX_ROWS])

    @Slot(list)
    def add_fills(self, fills: list[FillView]) -> None:
        """New executions are inserted in place; the oldest drop off past MAX_ROWS."""
        self.model.upsert(fills)
        extra = self.model.rowCount() - MAX_ROWS
        if extra > 0:
            self.model.remove([self.model.key_at(row) for row in range(MAX_ROWS, MAX_ROWS + extra)])

    def row_menu(self, row: int) -> QMenu | None:
        menu = new_menu(self, "fills.menu")
        has_row = row >= 0
        menu_action(menu, "fills.menu.details", "Order details…", lambda: self._details(row), enabled=has_row)
        menu_action(menu, "fills.menu.copy_details", "Copy details", lambda: self._copy(row), enabled=has_row)
        menu.addSeparator()
        menu_action(menu, "fills.menu.export", "Export to CSV…", self.export_requested.emit)
        return menu

    def _details(self, row: int) -> None:
        if row >= 0:
            self.details_requested.emit(self.proxy.record_at(row).fill.client_order_id)

    def _copy(self, row: int) -> None:
        if row >= 0:
            copy_text(fill_details(self.proxy.record_at(row)))

    def _show_count(self) -> None:
        shown = self.model.rowCount()
        self.count.setText(f"{shown:,} fill{'s' if shown != 1 else ''}" + (" (the newest)" if shown >= MAX_ROWS else ""))
