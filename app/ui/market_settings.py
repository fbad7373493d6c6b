"""The Settings pane's Market data group: after how many seconds a price is shown as stale."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from app.domain.quote_age import DEFAULT_STALE_AFTER, STALE_AFTER_RANGE


class MarketDataSettingsBox(QGroupBox):
    """``stale_after_submitted`` carries the seconds entered; the controller validates, saves and answers."""

    stale_after_submitted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Market data", parent)
        self.setObjectName("settings.market_data")
        self.stale_after = QSpinBox(objectName="settings.stale_after")
        # One wider than allowed on each side, so a refused value reaches the controller and gets its reason.
        self.stale_after.setRange(STALE_AFTER_RANGE[0] - 1, STALE_AFTER_RANGE[1] + 1)
        self.stale_after.setValue(int(DEFAULT_STALE_AFTER.total_seconds()))
        self.stale_after.setSuffix(" s")
        self.stale_after.setToolTip("During market hours a price older than this is greyed with its age")
        self.message = QLabel(objectName="settings.market_data.message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")
        hint = QLabel(
            "Prices in the ticket, the watchlist and the positions' marks older than this during the regular "
            "session are shown grey with their age. Outside the session, the closing price stays current."
        )
        hint.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Show prices as stale after", self.stale_after)
        form.addRow("", hint)
        form.addRow("", self.message)
        self.stale_after.editingFinished.connect(lambda: self.stale_after_submitted.emit(self.stale_after.value()))

    @Slot(int)
    def show_stale_after(self, seconds: int) -> None:
        self.stale_after.blockSignals(True)
        self.stale_after.setValue(seconds)
        self.stale_after.blockSignals(False)

    @Slot(str)
    def show_message(self, text: str) -> None:
        self.message.setText(text)
