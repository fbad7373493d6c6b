"""The Settings pane: broker connection status and the paper account's settings and reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.confirm import ask_confirmation
from app.ui.connections_box import ConnectionsBox
from app.ui.formatting import fmt_money

if TYPE_CHECKING:
    from app.domain.paper_engine import PaperSettings


class SettingsPane(QWidget):
    paper_settings_submitted = Signal(dict)
    paper_reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_pane")
        #: Replaced in tests; asks the trader before anything irreversible.
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(self, title, text)
        self._starting_cash_text = "the starting cash"

        self.connections = ConnectionsBox()
        self.connections.confirm = lambda title, text: self.confirm(title, text)
        self.broker_status = self.connections.status

        paper_box = QGroupBox("Paper account")
        form = QFormLayout(paper_box)
        self.starting_cash = QLineEdit(objectName="settings.paper.starting_cash")
        self.slippage_bps = QLineEdit(objectName="settings.paper.slippage_bps")
        self.commission_per_order = QLineEdit(objectName="settings.paper.commission_per_order")
        self.commission_per_share = QLineEdit(objectName="settings.paper.commission_per_share")
        self.commission_per_contract = QLineEdit(objectName="settings.paper.commission_per_contract")
        self.allow_shorting = QCheckBox("Allow short selling", objectName="settings.paper.allow_shorting")
        #: One error line under each field (``settings.paper.error.<field>``), wrapping, red.
        self.paper_errors: dict[str, QLabel] = {}
        for title, field, key in (
            ("Starting cash (USD, applies on reset)", self.starting_cash, "starting_cash"),
            ("Slippage (basis points)", self.slippage_bps, "slippage_bps"),
            ("Commission per order (USD)", self.commission_per_order, "commission_per_order"),
            ("Commission per share (USD)", self.commission_per_share, "commission_per_share"),
            ("Commission per option contract (USD)", self.commission_per_contract, "commission_per_contract"),
        ):
            error = QLabel(objectName=f"settings.paper.error.{key}")
            error.setStyleSheet("color: #b3261e;")
            error.setWordWrap(True)
            error.hide()
            self.paper_errors[key] = error
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(field)
            column.addWidget(error)
            form.addRow(title, column)
        form.addRow("", self.allow_shorting)
        self.save_button = QPushButton("Save paper settings", objectName="settings.paper.save")
        self.reset_button = QPushButton("Reset paper account…", objectName="settings.paper.reset")
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.message = QLabel(objectName="settings.message")
        self.message.setWordWrap(True)
        form.addRow(self.message)

        self._sections = QVBoxLayout(self)
        self._sections.addWidget(self.connections)
        self._sections.addWidget(paper_box)
        self._sections.addStretch(1)

        self.save_button.clicked.connect(self._save)
        self.reset_button.clicked.connect(self._reset)

    def add_section(self, widget: QWidget) -> None:
        """Add a group (e.g. the security panel) above the trailing stretch."""
        self._sections.insertWidget(self._sections.count() - 1, widget)

    @Slot(object)
    def show_paper_settings(self, settings: PaperSettings) -> None:
        self.starting_cash.setText(str(settings.starting_cash))
        self.slippage_bps.setText(str(settings.slippage_bps))
        self.commission_per_order.setText(str(settings.commission_per_order))
        self.commission_per_share.setText(str(settings.commission_per_share))
        self.commission_per_contract.setText(str(settings.commission_per_contract))
        self.allow_shorting.setChecked(settings.allow_shorting)
        self._starting_cash_text = fmt_money(settings.starting_cash)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)

    @Slot(dict)
    def show_paper_errors(self, errors: dict[str, str]) -> None:
        """Every refused field at once, each under its own field; nothing was saved."""
        for key, label in self.paper_errors.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
        if errors:
            self.message.setText("Paper settings not saved: correct the fields marked in red.")

    @Slot()
    def paper_settings_saved(self) -> None:
        self.show_paper_errors({})
        self.message.setText("Paper settings saved.")

    def _save(self) -> None:
        self.paper_settings_submitted.emit(
            {
                "starting_cash": self.starting_cash.text(),
                "slippage_bps": self.slippage_bps.text(),
                "commission_per_order": self.commission_per_order.text(),
                "commission_per_share": self.commission_per_share.text(),
                "commission_per_contract": self.commission_per_contract.text(),
                "allow_shorting": self.allow_shorting.isChecked(),
            }
        )

    def _reset(self) -> None:
        amount = self._starting_cash_text
        if self.confirm(
            "Reset paper account",
            f"Start the paper account over with {amount}? Every paper order, fill and position is deleted. "
            "This can't be undone.",
        ):
            self.paper_reset_requested.emit()
