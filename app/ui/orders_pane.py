"""The Orders pane: the ticket and account box beside the orders and positions tables, and cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.controller.views import PositionView
from app.domain.models import AccountSummary, Order, TradingMode
from app.ui.account_box import AccountSummaryBox
from app.ui.formatting import fmt_enum, fmt_price, fmt_qty, fmt_signed_money, fmt_time, fmt_money
from app.ui.order_ticket import OrderTicket
from app.ui.table_model import Column, RecordTableModel

ORDER_COLUMNS: tuple[Column[Order], ...] = (
    Column("created", "Time", lambda o: o.created_at, fmt_time),
    Column("mode", "Mode", lambda o: o.mode, fmt_enum),
    Column("symbol", "Symbol", lambda o: o.symbol),
    Column("side", "Side", lambda o: o.request.side, fmt_enum),
    Column("qty", "Qty", lambda o: o.request.quantity, fmt_qty, align_right=True),
    Column("type", "Type", lambda o: o.request.order_type, fmt_enum),
    Column("limit", "Limit", lambda o: o.request.limit_price, fmt_price, align_right=True),
    Column("stop", "Stop", lambda o: o.request.stop_price, fmt_price, align_right=True),
    Column("tif", "TIF", lambda o: o.request.time_in_force, fmt_enum),
    Column("status", "Status", lambda o: o.status, fmt_enum),
    Column("filled", "Filled", lambda o: o.filled_quantity, fmt_qty, align_right=True),
    Column("avg_price", "Avg price", lambda o: o.average_fill_price, fmt_price, align_right=True),
    Column("reason", "Details", lambda o: o.status_reason),
    Column("id", "Order id", lambda o: o.client_order_id),
)

POSITION_COLUMNS: tuple[Column[PositionView], ...] = (
    Column("symbol", "Symbol", lambda p: p.symbol),
    Column("qty", "Qty", lambda p: p.position.quantity, fmt_qty, align_right=True),
    Column("avg_cost", "Avg cost", lambda p: p.position.average_cost, fmt_price, align_right=True),
    Column("mark", "Mark", lambda p: p.mark, fmt_price, align_right=True),
    Column("market_value", "Market value", lambda p: p.market_value, fmt_money, align_right=True),
    Column("unrealized", "Unrealized P&L", lambda p: p.unrealized_pnl, fmt_signed_money, align_right=True),
    Column("realized", "Realized P&L", lambda p: p.position.realized_pnl, fmt_signed_money, align_right=True),
)

def _table(name: str, model: RecordTableModel) -> QTableView:  # type: ignore[type-arg]
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class OrdersPane(QWidget):
    order_submitted = Signal(dict)
    cancel_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orders_pane")
        self.ticket = OrderTicket()
        self.account = AccountSummaryBox()
        self.orders_model: RecordTableModel[Order] = RecordTableModel(ORDER_COLUMNS, lambda o: o.client_order_id)
        self.positions_model: RecordTableModel[PositionView] = RecordTableModel(POSITION_COLUMNS, lambda p: p.symbol)
        self.orders_table = _table("orders.table", self.orders_model)
        self.positions_table = _table("positions.table", self.positions_model)
        self.cancel_button = QPushButton("Cancel selected order", objectName="orders.cancel")
        self.cancel_button.setEnabled(False)
        self.message = QLabel(objectName="orders.message")
        self.message.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self.ticket)
        left.addWidget(self.account)
        left.addStretch(1)
        left_widget = QWidget()
        left_widget.setLayout(left)

        orders_box = QGroupBox("Orders")
        orders_layout = QVBoxLayout(orders_box)
        orders_layout.addWidget(self.orders_table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.cancel_button)
        orders_layout.addLayout(buttons)
        positions_box = QGroupBox("Positions")
        QVBoxLayout(positions_box).addWidget(self.positions_table)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(orders_box)
        right.addWidget(positions_box)

        layout = QHBoxLayout(self)
        layout.addWidget(left_widget, 0)
        layout.addWidget(right, 1)

        self.ticket.submitted.connect(self.order_submitted)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.orders_table.selectionModel().selectionChanged.connect(self._sync_cancel)

    @Slot(list)
    def show_orders(self, orders: list[Order]) -> None:
        selected = self.selected_order_id()
        self.orders_model.set_rows(orders)
        if selected is not None:
            row = self.orders_model.row_of_key(selected)
            if row is not None:
                self.orders_table.selectRow(row)
        self._sync_cancel()

    @Slot(list)
    def show_positions(self, positions: list[PositionView]) -> None:
        self.positions_model.set_rows(positions)

    @Slot(object)
    def show_account(self, summary: AccountSummary) -> None:
        self.account.show_summary(summary)

    @Slot(dict)
    def show_ticket_errors(self, errors: dict[str, str]) -> None:
        self.ticket.show_errors(errors)

    @Slot(str)
    def order_accepted(self, client_order_id: str) -> None:
        self.ticket.clear()
        self.show_message(f"Order {client_order_id} placed.")

    @Slot()
    def submission_finished(self) -> None:
        self.ticket.set_busy(False)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)

    @Slot(object)
    def set_mode(self, mode: TradingMode) -> None:
        self.ticket.set_mode(mode)

    def selected_order_id(self) -> str | None:
        rows = self.orders_table.selectionModel().selectedRows()
        return self.orders_model.key_at(rows[0].row()) if rows else None

    def _sync_cancel(self) -> None:
        selected = self.selected_order_id()
        order = None
        if selected is not None:
            row = self.orders_model.row_of_key(selected)
            order = self.orders_model.row_at(row) if row is not None else None
        self.cancel_button.setEnabled(order is not None and order.status.is_cancelable)

    def _cancel_selected(self) -> None:
        selected = self.selected_order_id()
        if selected is not None:
            self.cancel_requested.emit(selected)
