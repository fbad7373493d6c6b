"""Publishes the US market clock (open/closed and the countdown) for the status bar, once a minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.market_calendar import UsEquityCalendar
from app.domain.market_clock import market_clock

TICK_MS = 15_000


class MarketClockController(QObject):
    clock_changed = Signal(str)

    def __init__(self, clock: Callable[[], datetime], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._calendar = UsEquityCalendar()
        self._last = ""
        # The countdown moves by the minute; a 15 s tick keeps it at most that late without repainting needlessly.
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self.publish)

    def start(self) -> None:
        self._last = ""
        self.publish()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def publish(self) -> None:
        text = market_clock(self._clock(), self._calendar).text()
        if text != self._last:
            self._last = text
            self.clock_changed.emit(text)
