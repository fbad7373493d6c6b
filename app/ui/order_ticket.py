"""The order ticket: symbol, side, quantity, type, prices and time in force, validated as the trader types."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.controller.trading_views import ModeView
from app.domain.models import OrderType, Side, TimeInForce, TradingMode
from app.ui.quote_strip import QuoteStrip
from app.ui.ticket_estimate import EstimateLine

TICKET_FIELDS = ("symbol", "side", "quantity", "order_type", "limit_price", "stop_price", "time_in_force", "extended_hours")
_TYPE_LABELS = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop", OrderType.STOP_LIMIT: "Stop limit"}


class OrderTicket(QGroupBox):
    """Symbol, side, quantity, type, prices and time in force, validated as the trader types."""

    submitted = Signal(dict)
    #: The symbol text as the trader edits it (the controller looks its quote up after a pause).
    symbol_edited = Signal(str)

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
        self.quote = QuoteStrip()
        self.estimate = EstimateLine(self)
        self._held = False
        self._busy = False

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
        # A pre-trade risk check that refuses the order as a whole (rate, open orders, halt) speaks here.
        risk_error = QLabel(objectName="ticket.error.risk")
        risk_error.setStyleSheet("color: #b3261e;")
        risk_error.setWordWrap(True)
        risk_error.hide()
        self.errors["risk"] = risk_error
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        form.insertRow(1, "", self.quote)
        layout.addWidget(self.estimate)
        layout.addWidget(risk_error)
        layout.addWidget(self.mode_label)
        layout.addWidget(self.submit_button)

        self.order_type.currentIndexChanged.connect(self._sync_price_fields)
        for line in (self.symbol, self.quantity, self.limit_price, self.stop_price):
            line.textEdited.connect(self._validate_inline)
        for combo in (self.side, self.order_type, self.time_in_force):
            combo.currentIndexChanged.connect(self._validate_inline)
        self.extended_hours.toggled.connect(self._validate_inline)
        self.submit_button.clicked.connect(self._submit)
        self.symbol.textEdited.connect(self.symbol_edited)
        self.quote.price_picked.connect(self.use_limit_price)
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

    def show_symbol(self, symbol: str) -> None:
        """Put a symbol chosen elsewhere (the watchlist) into the ticket, as if typed."""
        self.symbol.setText(symbol)
        self.symbol_edited.emit(symbol)
        self._validate_inline()

    @Slot(str)
    def use_limit_price(self, price: str) -> None:
        """A clicked bid or ask becomes the limit price; a market order becomes a limit order."""
        if not OrderType(self.order_type.currentData()).needs_limit:
            self.order_type.setCurrentIndex(self.order_type.findData(OrderType.LIMIT.value))
        self.limit_price.setText(price)
        self._validate_inline()

    def set_mode(self, mode: TradingMode) -> None:
        if mode is TradingMode.LIVE:
            self.mode_label.setText("LIVE order: real money, sent to your broker.")
            self.mode_label.setStyleSheet("color: #b3261e; font-weight: bold;")
        else:
            self.mode_label.setText("Paper order: simulated, no money at risk.")
            self.mode_label.setStyleSheet("color: #2e6b3f;")

    def show_mode_view(self, view: ModeView) -> None:
        """The mode line names the account a live order goes to; a held start disables sending."""
        self._held = view.held
        if view.held:
            self.mode_label.setText("Order entry held — connecting… (restarting in LIVE mode)")
            self.mode_label.setStyleSheet("color: #6b6b6b; font-weight: bold;")
        elif view.mode is TradingMode.LIVE:
            where = f"{view.broker_name} …{view.account_last4}"
            if view.sandbox:
                self.mode_label.setText(f"LIVE · SANDBOX order: sent to {where} (broker paper account).")
                self.mode_label.setStyleSheet("color: #8a5a00; font-weight: bold;")
            else:
                self.mode_label.setText(f"LIVE order: real money, sent to {where}.")
                self.mode_label.setStyleSheet("color: #b3261e; font-weight: bold;")
        else:
            self.set_mode(TradingMode.PAPER)
        self._sync_submit()

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
        self.show_quote(None)

    @Slot(object)
    def show_quote(self, view: object) -> None:
        """The quote of the ticket's symbol (a ``QuoteView``), or None."""
        self.quote.show_quote(view)  # type: ignore[arg-type]
        self.estimate.show_quote(view)  # type: ignore[arg-type]

    def load_values(self, values: dict[str, object]) -> None:
        """Fill the ticket (e.g. from an order or a position); nothing is sent until the trader places it."""
        for combo, key in ((self.side, "side"), (self.order_type, "order_type"), (self.time_in_force, "time_in_force")):
            if key in values:
                index = combo.findData(values[key])
                if index >= 0:
                    combo.setCurrentIndex(index)
        for line, key in (
            (self.symbol, "symbol"),
            (self.quantity, "quantity"),
            (self.limit_price, "limit_price"),
            (self.stop_price, "stop_price"),
        ):
            line.setText(str(values.get(key, "") or ""))
        self.extended_hours.setChecked(bool(values.get("extended_hours", False)))
        self.symbol_edited.emit(self.symbol.text())
        self._validate_inline()
        self.quantity.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """Enter in any field places the order (line edits and closed lists pass it up); Esc clears the ticket."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit()
        elif event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.symbol.setFocus()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _errors_for(self, values: dict[str, object]) -> dict[str, str]:
        # The order rules are imported with the first check, not to draw the window.
        from app.domain.validation import TicketError, build_order_request

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
        self.estimate.refresh()

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
        self._busy = busy
        self._sync_submit()

    def _sync_submit(self) -> None:
        self.submit_button.setEnabled(not self._busy and not self._held)
        self.submit_button.setText("Placing…" if self._busy else ("Connecting…" if self._held else "Place order"))

    def _submit(self) -> None:
        if not self.submit_button.isEnabled():
            return
        values = self.values()
        errors = self._errors_for(values)
        self.show_errors(errors)
        if not errors:
            self.set_busy(True)
            self.submitted.emit(values)
