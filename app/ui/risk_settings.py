"""Settings -> Risk: the pre-trade limits every order must pass, with errors next to each field."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.domain.risk import LIMIT_FIELDS, RiskLimits

_ROWS = {
    "max_order_quantity": ("Largest order (shares or contracts)", "e.g. 5000"),
    "max_order_notional": ("Largest order value (USD)", "e.g. 50000"),
    "price_band_pct": ("Price band around the last price (%)", "e.g. 10"),
    "max_open_orders": ("Open orders at most", "e.g. 50"),
    "max_orders_per_minute": ("Orders per minute at most", "e.g. 20"),
    "daily_loss_limit": ("Daily loss limit (USD)", "e.g. 5000"),
}

HELP = (
    "Every paper and live order is checked against these limits before anything is sent. "
    "Past the daily loss limit only orders that reduce a position are accepted; at 1.5 times it, "
    "trading halts until the next session."
)


class RiskSettingsBox(QGroupBox):
    limits_submitted = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Risk", parent)
        self.setObjectName("risk")
        intro = QLabel(HELP)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for name in LIMIT_FIELDS:
            label, placeholder = _ROWS[name]
            line = QLineEdit(objectName=f"risk.{name}", placeholderText=placeholder)
            error = QLabel(objectName=f"risk.error.{name}")
            error.setStyleSheet("color: #b3261e;")
            error.setWordWrap(True)
            error.hide()
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(line)
            column.addWidget(error)
            form.addRow(label, column)
            self.fields[name] = line
            self.errors[name] = error
            line.returnPressed.connect(self._save)
        self.save_button = QPushButton("Save risk limits", objectName="risk.save")
        self.message = QLabel(objectName="risk.message")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.save_button.clicked.connect(self._save)

    def values(self) -> dict[str, object]:
        return {name: line.text() for name, line in self.fields.items()}

    @Slot(object)
    def show_limits(self, limits: RiskLimits) -> None:
        for name, line in self.fields.items():
            value = getattr(limits, name)
            line.setText(f"{value.normalize():f}" if not isinstance(value, int) else str(value))
        self.show_errors({})

    @Slot(dict)
    def show_errors(self, errors: dict[str, str]) -> None:
        for name, label in self.errors.items():
            label.setText(errors.get(name, ""))
            label.setVisible(bool(errors.get(name)))
        general = errors.get("risk", "")
        if errors:
            self.message.setText(general or "Risk limits not saved: correct the fields marked in red.")

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.show_errors({})
        self.message.setText(text)

    def _save(self) -> None:
        self.limits_submitted.emit(self.values())
