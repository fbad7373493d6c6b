"""The Modify order dialog: a working order's quantity, limit and stop, prefilled, with errors next to each field.

It opens without blocking (``open()``, window-modal), so the event loop keeps running and tests drive
it by its object names. It sends the typed values as they are; the controller judges them and either
closes it (``finish``) or shows what is wrong (``show_errors``), leaving the order as it was.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import Order, TradingMode
from app.ui.formatting import fmt_enum, fmt_qty

_FIELDS = (("quantity", "Quantity"), ("limit_price", "Limit price"), ("stop_price", "Stop price"))


def _error_label(name: str) -> QLabel:
    label = QLabel(objectName=name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #b3261e;")
    label.setVisible(False)
    return label


class ModifyOrderDialog(QDialog):
    """Change a working order's size and prices; the time in force, side and type stay as they are."""

    #: (client order id, {"quantity", "limit_price", "stop_price"} as typed).
    submitted = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="order_modify.dialog")
        self.setWindowTitle("Modify order")
        self.setModal(True)
        self.heading = QLabel(objectName="order_modify.heading")
        self.heading.setWordWrap(True)
        self.note = QLabel(objectName="order_modify.note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label in _FIELDS:
            line = QLineEdit(objectName=f"order_modify.{key}")
            line.returnPressed.connect(self._submit)
            self.fields[key] = line
            self.errors[key] = _error_label(f"order_modify.{key}_error")
            column = QVBoxLayout()
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(line)
            column.addWidget(self.errors[key])
            form.addRow(label, column)
        self.quantity, self.limit_price, self.stop_price = (self.fields[k] for k, _ in _FIELDS)
        self.general_error = _error_label("order_modify.error")
        self.submit = QPushButton("Modify order", objectName="order_modify.submit")
        self.submit.setDefault(True)
        self.cancel = QPushButton("Keep as is", objectName="order_modify.cancel")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.setMinimumWidth(360)
        self._client_order_id = ""
        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.reject)

    @property
    def client_order_id(self) -> str:
        return self._client_order_id

    def ask(self, order: Order, quantity_fixed: str = "") -> None:
        """Prefill with the order's current values and show the dialog (non-blocking).

        ``quantity_fixed`` says why the quantity can't change (a broker that changes prices only)."""
        request = order.request
        self._client_order_id = order.client_order_id
        live = order.mode is TradingMode.LIVE
        where = f"LIVE, account …{order.account_last4}" if live else "paper"
        filled = f", {fmt_qty(order.filled_quantity)} filled" if order.filled_quantity else ""
        self.heading.setText(
            f"<b>{fmt_enum(request.side)} {fmt_qty(request.quantity)} {order.symbol}</b> "
            f"{fmt_enum(request.order_type).lower()}, {fmt_enum(request.time_in_force)} ({where}{filled})"
        )
        self.quantity.setText(str(request.quantity))
        self.quantity.setEnabled(not quantity_fixed)
        self.quantity.setToolTip(quantity_fixed)
        for line, price, used in (
            (self.limit_price, request.limit_price, request.order_type.needs_limit),
            (self.stop_price, request.stop_price, request.order_type.needs_stop),
        ):
            line.setText("" if price is None else str(price))
            line.setEnabled(used)
            line.setPlaceholderText("" if used else f"not used by a {fmt_enum(request.order_type).lower()} order")
        self.note.setText(
            (f"{quantity_fixed} " if quantity_fixed else "")
            + "A new price or a larger size puts the order at the back of the queue."
            + (" You confirm the change before it is sent to the broker." if live else "")
        )
        self.show_errors({})
        self.submit.setEnabled(True)
        self.open()
        first = next((line for line in self.fields.values() if line.isEnabled()), self.quantity)
        first.setFocus()
        first.selectAll()

    def show_errors(self, errors: dict[str, str]) -> None:
        """What is wrong, next to each field ('' or any other key: under the fields); the dialog stays open."""
        for key, label in self.errors.items():
            label.setText(errors.get(key, ""))
            label.setVisible(bool(errors.get(key)))
        general = " ".join(text for key, text in errors.items() if key not in self.errors and text)
        self.general_error.setText(general)
        self.general_error.setVisible(bool(general))
        self.submit.setEnabled(True)

    def finish(self, client_order_id: str) -> None:
        """The change was taken (paper: made; live: passed to the confirmation): close if it is this order's."""
        if client_order_id == self._client_order_id and self.isVisible():
            self._client_order_id = ""
            self.accept()

    def _submit(self) -> None:
        if not self._client_order_id or not self.submit.isEnabled():
            return
        self.submit.setEnabled(False)
        # The quantity always goes (unchanged when greyed out); a price only where the order's type uses it.
        values = {key: line.text() for key, line in self.fields.items() if line.isEnabled() or key == "quantity"}
        self.submitted.emit(self._client_order_id, values)
