"""The order details window: the order as it is now, every change it went through, and its fills."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import Fill
from app.domain.order_history import OrderEvent, OrderHistory, describe_event
from app.domain.symbol_display import describe_symbol, symbol_tooltip
from app.ui.formatting import fmt_enum, fmt_money, fmt_price, fmt_qty, fmt_time
from app.ui.orders_menus import order_details
from app.ui.orders_model import fmt_account
from app.ui.table_menus import copy_text
from app.ui.table_model import Column, RecordTableModel
from app.ui.table_sort import RecordSortProxy, sortable_table

Step = tuple[int, OrderEvent, str]

HISTORY_COLUMNS: tuple[Column[Step], ...] = (
    Column("time", "Time", lambda s: s[1].at, fmt_time),
    Column("change", "Change", lambda s: s[2]),
    Column("status", "Status", lambda s: s[1].status, fmt_enum),
    Column("qty", "Qty", lambda s: s[1].quantity, fmt_qty, align_right=True),
    Column("limit", "Limit", lambda s: s[1].limit_price, fmt_price, align_right=True),
    Column("stop", "Stop", lambda s: s[1].stop_price, fmt_price, align_right=True),
    Column("filled", "Filled", lambda s: s[1].filled_quantity, fmt_qty, align_right=True),
    Column("avg_price", "Avg price", lambda s: s[1].average_fill_price, fmt_price, align_right=True),
    Column("broker_id", "Broker id", lambda s: s[1].broker_order_id or "—"),
    Column("reason", "Details", lambda s: s[1].reason),
)
FILL_COLUMNS: tuple[Column[Fill], ...] = (
    Column("time", "Time", lambda f: f.filled_at, fmt_time),
    Column("qty", "Qty", lambda f: f.quantity, fmt_qty, align_right=True),
    Column("price", "Price", lambda f: f.price, fmt_price, align_right=True),
    Column("commission", "Commission", lambda f: f.commission, fmt_money, align_right=True),
    Column("fill_id", "Execution id", lambda f: f.fill_id),
)


class OrderDetailsDialog(QDialog):
    """Not modal: the trader keeps trading while it is open; opening another order's details reuses it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("order_details")
        self.setWindowTitle("Order details")
        self.resize(760, 460)
        self.summary = QLabel(objectName="order_details.summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, title in (
            ("status", "Status"),
            ("account", "Account"),
            ("filled", "Filled"),
            ("created", "Placed"),
            ("updated", "Last change"),
            ("broker_id", "Broker order id"),
            ("order_id", "Order id"),
            ("reason", "Details"),
        ):
            label = QLabel(objectName=f"order_details.{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(title, label)
        self.history_model: RecordTableModel[Step] = RecordTableModel(HISTORY_COLUMNS, lambda s: str(s[0]))
        self.fills_model: RecordTableModel[Fill] = RecordTableModel(FILL_COLUMNS, lambda f: f.fill_id)
        self.history = sortable_table("order_details.history", RecordSortProxy(self.history_model, self))
        self.fills = sortable_table("order_details.fills", RecordSortProxy(self.fills_model, self))
        tabs = QTabWidget(objectName="order_details.tabs")
        tabs.addTab(self.history, "History")
        tabs.addTab(self.fills, "Fills")
        self.copy_button = QPushButton("Copy details", objectName="order_details.copy")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(tabs, 1)
        layout.addWidget(buttons)
        self._text = ""
        self.copy_button.clicked.connect(lambda: copy_text(self._text))

    @Slot(object)
    def show_history(self, history: OrderHistory) -> None:
        order = history.order
        self._text = order_details(order)
        self.setWindowTitle(f"Order details — {describe_symbol(order.symbol)}")
        self.summary.setText(f"<b>{html.escape(self._text.split(' — ')[0])}</b>")
        self.summary.setToolTip(symbol_tooltip(order.symbol))
        filled = "—"
        if order.filled_quantity:
            filled = f"{fmt_qty(order.filled_quantity)} of {fmt_qty(order.request.quantity)} @ {fmt_price(order.average_fill_price)}"
        values = {
            "status": fmt_enum(order.status),
            "account": f"{fmt_account(order)} ({order.mode.value})",
            "filled": filled,
            "created": fmt_time(order.created_at),
            "updated": fmt_time(order.updated_at),
            "broker_id": order.broker_order_id or "—",
            "order_id": order.client_order_id,
            "reason": order.status_reason or "—",
        }
        for key, text in values.items():
            self.fields[key].setText(text)
        steps: list[Step] = []
        previous: OrderEvent | None = None
        for number, event in enumerate(history.events):
            steps.append((number, event, describe_event(event, previous)))
            previous = event
        self.history_model.set_rows(steps)
        self.fills_model.set_rows(list(history.fills))
        self.history.resizeColumnsToContents()
        self.fills.resizeColumnsToContents()
