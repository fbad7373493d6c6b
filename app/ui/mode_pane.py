"""The Trading Mode pane: paper or live, the account live would use, why live is unavailable, and notices."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from app.controller.trading_views import LiveTargetView, ModeView
from app.domain.models import TradingMode


class TradingModePane(QWidget):
    mode_requested = Signal(object, bool)
    #: The trader confirmed live; carries the account digits typed (empty for a sandbox account).
    live_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mode_pane")
        #: Opens the live confirmation (replaced in tests); answers through ``confirm_live_answer``.
        self.ask_live: Callable[[LiveTargetView], None] = lambda _target: None
        self._target: LiveTargetView | None = None
        self._mode = TradingMode.PAPER
        box = QGroupBox("Trading mode")
        layout = QVBoxLayout(box)
        self.current = QLabel(objectName="mode.current")
        self.connection = QLabel(objectName="mode.connection")
        self.connection.setWordWrap(True)
        self.paper = QRadioButton("Paper — simulated orders against real quotes", objectName="mode.paper")
        self.live = QRadioButton("Live — real orders in your broker account", objectName="mode.live")
        self.live_reason = QLabel(objectName="mode.live_reason")
        self.live_reason.setWordWrap(True)
        self.notice = QLabel(objectName="mode.notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #8a5a00; font-weight: bold;")
        self.notice.hide()
        group = QButtonGroup(self)
        group.addButton(self.paper)
        group.addButton(self.live)
        for widget in (self.current, self.connection, self.paper, self.live, self.live_reason, self.notice):
            layout.addWidget(widget)
        outer = QVBoxLayout(self)
        outer.addWidget(box)
        outer.addStretch(1)
        self.paper.setChecked(True)
        self.live.setEnabled(False)
        self.connection.setText("No broker connected")
        self.paper.clicked.connect(lambda: self.mode_requested.emit(TradingMode.PAPER, True))
        self.live.clicked.connect(self._ask_live)

    def _ask_live(self) -> None:
        # The radio stays on the real mode until the controller says otherwise.
        self._show_checked()
        if self._target is not None:
            self.ask_live(self._target)

    @Slot(str)
    def confirm_live_answer(self, typed_last4: str) -> None:
        self.live_requested.emit(typed_last4)

    @Slot(object)
    def show_mode(self, mode: TradingMode) -> None:
        self._mode = mode
        self.current.setText(f"Current mode: {mode.value.upper()}")
        self._show_checked()

    @Slot(object)
    def show_mode_view(self, view: ModeView) -> None:
        self._mode = view.mode
        self.current.setText(f"Current mode: {view.badge}")
        self._show_checked()

    def _show_checked(self) -> None:
        (self.live if self._mode is TradingMode.LIVE else self.paper).setChecked(True)

    @Slot(bool, str)
    def show_live_availability(self, available: bool, reason: str) -> None:
        self.live.setEnabled(available)
        self.live_reason.setText(reason)
        self.live_reason.setVisible(bool(reason))

    @Slot(object)
    def show_live_target(self, target: LiveTargetView | None) -> None:
        self._target = target

    @Slot(str)
    def show_connection(self, text: str) -> None:
        self.connection.setText(text)

    @Slot(str)
    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
