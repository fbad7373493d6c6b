"""Which mode the app trades in. Paper is the default and the fallback; live needs a verified
connection and the trader's explicit confirmation."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from app.domain.models import TradingMode

NO_CONNECTION_REASON = "Live trading needs a verified broker connection. Connect your account in Settings first."


class TradingModeController(QObject):
    mode_changed = Signal(object)
    live_availability_changed = Signal(bool, str)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mode = TradingMode.PAPER
        self._live_available = False
        self._live_reason = NO_CONNECTION_REASON

    @property
    def mode(self) -> TradingMode:
        return self._mode

    @property
    def live_available(self) -> bool:
        return self._live_available

    def publish(self) -> None:
        self.mode_changed.emit(self._mode)
        self.live_availability_changed.emit(self._live_available, self._live_reason)

    def set_live_availability(self, available: bool, reason: str = "") -> None:
        """Called when a connection is verified or lost; losing it puts the app back in paper."""
        self._live_available = available
        self._live_reason = "" if available else (reason or NO_CONNECTION_REASON)
        if not available and self._mode is TradingMode.LIVE:
            self._mode = TradingMode.PAPER
            self.mode_changed.emit(self._mode)
        self.live_availability_changed.emit(self._live_available, self._live_reason)

    @Slot(object, bool)
    def request_mode(self, mode: TradingMode, confirmed: bool = False) -> None:
        if mode is TradingMode.PAPER:
            self._mode = TradingMode.PAPER
        elif not self._live_available:
            self.error.emit(self._live_reason)
        elif not confirmed:
            self.error.emit("Switching to live trading needs your explicit confirmation.")
        else:
            self._mode = TradingMode.LIVE
        self.mode_changed.emit(self._mode)
