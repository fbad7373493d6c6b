"""The Trading Mode pane: paper or live, with the reason live is unavailable."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from app.domain.models import TradingMode
from app.ui.confirm import ask_confirmation


class TradingModePane(QWidget):
    mode_requested = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mode_pane")
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(self, title, text)
        box = QGroupBox("Trading mode")
        layout = QVBoxLayout(box)
        self.current = QLabel(objectName="mode.current")
        self.paper = QRadioButton("Paper — simulated orders against real quotes", objectName="mode.paper")
        self.live = QRadioButton("Live — real orders in your broker account", objectName="mode.live")
        self.live_reason = QLabel(objectName="mode.live_reason")
        self.live_reason.setWordWrap(True)
        group = QButtonGroup(self)
        group.addButton(self.paper)
        group.addButton(self.live)
        for widget in (self.current, self.paper, self.live, self.live_reason):
            layout.addWidget(widget)
        outer = QVBoxLayout(self)
        outer.addWidget(box)
        outer.addStretch(1)
        self.paper.setChecked(True)
        self.live.setEnabled(False)
        self.paper.clicked.connect(lambda: self.mode_requested.emit(TradingMode.PAPER, True))
        self.live.clicked.connect(self._ask_live)

    def _ask_live(self) -> None:
        confirmed = self.confirm(
            "Switch to live trading",
            "Orders will be sent to your broker with real money. Switch to LIVE?",
        )
        self.mode_requested.emit(TradingMode.LIVE, confirmed)

    @Slot(object)
    def show_mode(self, mode: TradingMode) -> None:
        self.current.setText(f"Current mode: {mode.value.upper()}")
        (self.live if mode is TradingMode.LIVE else self.paper).setChecked(True)

    @Slot(bool, str)
    def show_live_availability(self, available: bool, reason: str) -> None:
        self.live.setEnabled(available)
        self.live_reason.setText(reason)
        self.live_reason.setVisible(bool(reason))
