"""The Orders pane: order ticket, orders table, positions, account summary and cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.controller.views import PositionView
from app.domain.models import AccountSummary, Order, OrderType, Side, TimeInForce, TradingMode
from app.domain.validation import TicketError, build_order_request
from app.ui.formatting import fmt_enum, fmt_money, fmt_price, fmt_qty, fmt_signed_money, fmt_time
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

TICKET_FIELDS = ("symbol", "side", "quantity", "order_type", "limit_price", "stop_price", "time_in_force", "extended_hours")
_TYPE_LABELS = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop", OrderType.STOP_LIMIT: "Stop limit"}


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


class OrderTicket(QGroupBox):
    """Symbol, side, quantity, type, prices and time in force, validated as the trader types."""

    submitted = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Order ticket", parent)
        self.setObjectName("ticket")
        self.symbol = QLineEdit(objectName="ticket.symbol", placeholderText="AAPL or AAPL250117C00150000")
        self.side = QComboBox(objectName="ticket.side")
        for side in Side:
            self.side.addItem(side.value.capitalize(), side.value)
        self.quantity = QLineEdit(objectName="ticket.quantity", placeholderText="Shares or contracts")
        self.order_type = QComboBox(objectName="ticket.order_type")
        for order_type, label in _TYPE_LABELS.items():
            self.order_type.addItem(label, order_type.value)
        self.limit_price = QLineEdit(objectName="ticket.limit_price", placeholderText="Limit price")
        self.stop_price = QLineEdit(objectName="ticket.stop_price", placeholderText="Stop price")
        self.time_in_force = QComboBox(objectName="ticket.tif")
        self.time_in_force.addItem("Day", TimeInForce.DAY.value)
        self.time_in_force.addItem("Good till cancelled", TimeInForce.GTC.value)
        self.extended_hours = QCheckBox("Extended hours", objectName="ticket.extended_hours")
        self.mode_label = QLabel(objectName="ticket.mode")
        self.submit_button = QPushButton("Place order", objectName="ticket.submit")
        self.errors: dict[str, QLabel] = {}

        form = QFormLayout()
        for label, widget, key in (
            ("Symbol", self.symbol, "symbol"),
            ("Side", self.side, "side"),
            ("Quantity", self.quantity, "quantity"),
            ("Type", self.order_type, "order_type"),
            ("Limit price", self.limit_price, "limit_price"),
            ("Stop price", self.stop_price, "stop_price"),
            ("Time in force", self.time_in_force, "time_in_force"),
            ("", self.extended_hours, "extended_hours"),
        ):
            error = QLabel(objectName=f"ticket.error.{key}")
            error.setStyleSheet("color: #b3261e;")
            error.setWordWrap(True)
            error.hide()
            self.errors[key] = error
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(error)
            form.addRow(label, column)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.mode_label)
        layout.addWidget(self.submit_button)

        self.order_type.currentIndexChanged.connect(self._sync_price_fields)
        for line in (self.symbol, self.quantity, self.limit_price, self.stop_price):
            line.textEdited.connect(self._validate_inline)
        for combo in (self.side, self.order_type, self.time_in_force):
            combo.currentIndexChanged.connect(self._validate_inline)
        self.extended_hours.toggled.connect(self._validate_inline)
        self.submit_button.clicked.connect(self._submit)
        self.symbol.returnPressed.connect(self._submit)
        self.quantity.returnPressed.connect(self._submit)
        self.set_mode(TradingMode.PAPER)
        self._sync_price_fields()

    def values(self) -> dict[str, object]:
        return {
            "symbol": self.symbol.text(),
            "side": self.side.currentData(),
            "quantity": self.quantity.text(),
            "order_type": self.order_type.currentData(),
            "limit_price": self.limit_price.text() if self.limit_price.isEnabled() else "",
            "stop_price": self.stop_price.text() if self.stop_price.isEnabled() else "",
            "time_in_force": self.time_in_force.currentData(),
            "extended_hours": self.extended_hours.isChecked(),
        }

    def set_mode(self, mode: TradingMode) -> None:
        if mode is TradingMode.LIVE:
            self.mode_label.setText("LIVE order: real money, sent to your broker.")
            self.mode_label.setStyleSheet("color: #b3261e; font-weight: bold;")
        else:
            self.mode_label.setText("Paper order: simulated, no money at risk.")
            self.mode_label.setStyleSheet("color: #2e6b3f;")

    @Slot(dict)
    def show_errors(self, errors: dict[str, str]) -> None:
        for key, label in self.errors.items():
            message = errors.get(key, "")
            label.setText(message)
            label.setVisible(bool(message))

    def clear(self) -> None:
        for line in (self.symbol, self.quantity, self.limit_price, self.stop_price):
            line.clear()
        self.show_errors({})

    def _errors_for(self, values: dict[str, object]) -> dict[str, str]:
        try:
            build_order_request(**values)  # type: ignore[arg-type]
        except TicketError as exc:
            return dict(exc.errors)
        return {}

    def _validate_inline(self) -> None:
        """Show errors only for fields the trader has filled in, so an empty form is not all red."""
        values = self.values()
        errors = self._errors_for(values)
        filled = {k for k, v in values.items() if v not in ("", None, False)}
        self.show_errors({k: v for k, v in errors.items() if k in filled or k in ("order_type", "time_in_force")})

    def _sync_price_fields(self) -> None:
        order_type = OrderType(self.order_type.currentData())
        self.limit_price.setEnabled(order_type.needs_limit)
        self.stop_price.setEnabled(order_type.needs_stop)
        if not order_type.needs_limit:
            self.limit_price.clear()
        if not order_type.needs_stop:
            self.stop_price.clear()

    def set_busy(self, busy: bool) -> None:
        """While an order is on its way the ticket can't send another (no double clicks)."""
        self.submit_button.setEnabled(not busy)
        self.submit_button.setText("Placing…" if busy else "Place order")

    def _submit(self) -> None:
        if not self.submit_button.isEnabled():
            return
        values = self.values()
        errors = self._errors_for(values)
        self.show_errors(errors)
        if not errors:
            self.set_busy(True)
            self.submitted.emit(values)


class AccountSummaryBox(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Account", parent)
        self.setObjectName("account")
        self.labels: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        for number, (key, title) in enumerate(
            (
                ("cash", "Cash"),
                ("equity", "Equity"),
                ("buying_power", "Buying power"),
                ("unrealized_pnl", "Unrealized P&L"),
                ("realized_pnl", "Realized P&L"),
            )
        ):
            value = QLabel("—", objectName=f"account.{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = value
            grid.addWidget(QLabel(title), number, 0)
            grid.addWidget(value, number, 1)

    @Slot(object)
    def show_summary(self, summary: AccountSummary) -> None:
        self.labels["cash"].setText(fmt_money(summary.cash))
        self.labels["equity"].setText(fmt_money(summary.equity))
        self.labels["buying_power"].setText(fmt_money(summary.buying_power))
        self.labels["unrealized_pnl"].setText(fmt_signed_money(summary.unrealized_pnl))
        self.labels["realized_pnl"].setText(fmt_signed_money(summary.realized_pnl))


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
