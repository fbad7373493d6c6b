"""The live-trading questions: switching to live (typed account digits for real money), sending a live order, changing one.

Both open without blocking (``open()``, window-modal), so the event loop keeps running and tests drive
them by their object names. Each owner exposes a replaceable ``ask`` hook.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.controller.trading_views import ChangeConfirmView, LiveTargetView, OrderConfirmView


def _buttons(submit: QPushButton, cancel: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(submit)
    return row


class LiveConfirmDialog(QDialog):
    """Names the broker, environment and account; a real-money account needs its last 4 typed."""

    confirmed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="live_confirm_dialog")
        self.setWindowTitle("Switch to live trading")
        self.setModal(True)
        self.text = QLabel(objectName="live_confirm.text")
        self.text.setWordWrap(True)
        self.prompt = QLabel(objectName="live_confirm.prompt")
        self.account_input = QLineEdit(objectName="live_confirm.account_input")
        self.account_input.setMaxLength(8)
        self.account_input.setPlaceholderText("Last 4 of the account")
        self.submit = QPushButton("Switch to LIVE", objectName="live_confirm.submit")
        self.cancel = QPushButton("Stay in paper", objectName="live_confirm.cancel")
        self.cancel.setDefault(True)
        layout = QVBoxLayout(self)
        for widget in (self.text, self.prompt, self.account_input):
            layout.addWidget(widget)
        layout.addLayout(_buttons(self.submit, self.cancel))
        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.reject)
        self.account_input.returnPressed.connect(self._submit)

    def ask(self, target: LiveTargetView) -> None:
        environment = "broker paper / sandbox account" if target.is_paper else "REAL-MONEY account"
        self.text.setText(
            f"Orders will be sent to {target.broker_name}, {environment} …{target.account_last4} "
            f"({target.environment} environment)."
            + ("" if target.is_paper else " Real money is at risk.")
        )
        self.prompt.setText(
            "" if target.is_paper else f"Type the last 4 characters of the account (…{target.account_last4}) to confirm."
        )
        self.prompt.setVisible(not target.is_paper)
        self.account_input.setVisible(not target.is_paper)
        self.account_input.clear()
        self.open()

    def _submit(self) -> None:
        typed = self.account_input.text() if self.account_input.isVisible() else ""
        self.accept()
        self.confirmed.emit(typed)

    def done(self, result: int) -> None:
        super().done(result)
        self.account_input.clear()


class OrderConfirmDialog(QDialog):
    """The live order as it will be sent, with the broker's estimate; nothing leaves without Send."""

    confirmed = Signal(str)
    declined = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        name: str = "order_confirm",
        title: str = "Confirm live order",
        send: str = "Send order",
    ) -> None:
        super().__init__(parent, objectName=f"{name}_dialog")
        self.setWindowTitle(title)
        self.setModal(True)
        self.heading = QLabel(objectName=f"{name}.heading")
        self.heading.setStyleSheet("font-weight: bold; color: #b3261e;")
        self.summary = QLabel(objectName=f"{name}.summary")
        self.summary.setWordWrap(True)
        self.submit = QPushButton(send, objectName=f"{name}.submit")
        self.cancel = QPushButton("Don't send", objectName=f"{name}.cancel")
        self.cancel.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addLayout(_buttons(self.submit, self.cancel))
        self._client_order_id = ""
        self.submit.clicked.connect(self._send)
        self.cancel.clicked.connect(self.reject)
        self.rejected.connect(self._decline)

    def ask(self, view: OrderConfirmView | ChangeConfirmView) -> None:
        self._client_order_id = view.client_order_id
        self.heading.setText(view.title)
        self.summary.setText(view.summary)
        self.open()

    def _send(self) -> None:
        client_order_id, self._client_order_id = self._client_order_id, ""
        self.accept()
        if client_order_id:
            self.confirmed.emit(client_order_id)

    def _decline(self) -> None:
        client_order_id, self._client_order_id = self._client_order_id, ""
        if client_order_id:
            self.declined.emit(client_order_id)


class LiveDialogs(QWidget):
    """Owns the dialogs; ``ask_order``, ``ask_change`` and ``ask_live`` are the hooks a test may replace."""

    order_confirmed = Signal(str)
    order_declined = Signal(str)
    live_confirmed = Signal(str)
    change_confirmed = Signal(str)
    change_declined = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hide()
        self.order_dialog = OrderConfirmDialog(parent)
        self.live_dialog = LiveConfirmDialog(parent)
        self.ask_order = self.order_dialog.ask
        self.ask_live = self.live_dialog.ask
        self.change_dialog = OrderConfirmDialog(
            parent, name="order_change_confirm", title="Confirm change of a live order", send="Send change"
        )
        self.ask_change = self.change_dialog.ask
        self.change_dialog.confirmed.connect(self.change_confirmed)
        self.change_dialog.declined.connect(self.change_declined)
        self.order_dialog.confirmed.connect(self.order_confirmed)
        self.order_dialog.declined.connect(self.order_declined)
        self.live_dialog.confirmed.connect(self.live_confirmed)

    @Slot(object)
    def confirm_order(self, view: OrderConfirmView) -> None:
        self.ask_order(view)

    @Slot(object)
    def confirm_change(self, view: ChangeConfirmView) -> None:
        self.ask_change(view)

    @Slot(object)
    def confirm_live(self, target: LiveTargetView) -> None:
        self.ask_live(target)
