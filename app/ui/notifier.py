"""Desktop notifications for what a trader must not miss: fills, rejections, disconnects and halts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from app.domain.models import Fill
from app.domain.symbol_display import describe_symbol
from app.ui.formatting import fmt_enum, fmt_price, fmt_qty

#: How long a notification stays up where the desktop lets the app choose, in milliseconds.
SHOW_MS = 8000
#: Notifications kept for the record (and for tests); older ones are dropped.
KEEP = 50


def fill_message(fills: list[Fill]) -> tuple[str, str]:
    if len(fills) == 1:
        fill = fills[0]
        return "Order filled", f"{fmt_enum(fill.side)} {fmt_qty(fill.quantity)} {describe_symbol(fill.symbol)} @ {fmt_price(fill.price)}"
    symbols = sorted({describe_symbol(f.symbol) for f in fills})
    return "Orders filled", f"{len(fills)} executions: {', '.join(symbols)}"


class DesktopNotifier(QObject):
    """Shows messages through the system tray where the desktop has one; ``enabled`` follows the setting."""

    def __init__(self, window: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.enabled = True
        self.sent: list[tuple[str, str]] = []
        self._tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            icon = window.windowIcon()
            if icon.isNull():
                icon = QApplication.windowIcon() if QApplication.instance() is not None else QIcon()
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.setToolTip("TradeBridge")
            self._tray.activated.connect(lambda _reason: (window.showNormal(), window.raise_(), window.activateWindow()))
        #: Replaced in tests or by a platform notifier; by default the tray shows it.
        self.show: Callable[[str, str, bool], None] = self._show_in_tray

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if self._tray is not None:
            self._tray.setVisible(enabled)

    def notify(self, title: str, text: str, *, warning: bool = False) -> None:
        if not self.enabled:
            return
        self.sent = [*self.sent[-(KEEP - 1):], (title, text)]
        self.show(title, text, warning)

    @Slot(list)
    def fills_recorded(self, fills: list[Fill]) -> None:
        if fills:
            self.notify(*fill_message(fills))

    @Slot(str)
    def order_rejected(self, message: str) -> None:
        self.notify("Order rejected", message.removeprefix("Order rejected: "), warning=True)

    @Slot(str)
    def disconnected(self, message: str) -> None:
        self.notify("Broker disconnected", message or "The broker connection was lost.", warning=True)

    @Slot(str)
    def halted(self, message: str) -> None:
        self.notify("Trading halted", message, warning=True)

    @Slot(bool, str)
    def halt_changed(self, halted: bool, reason: str) -> None:
        if halted:
            self.halted(f"New orders are refused: {reason}." if reason else "New orders are refused.")

    def _show_in_tray(self, title: str, text: str, warning: bool) -> None:
        if self._tray is None:
            return
        self._tray.show()
        icon = QSystemTrayIcon.MessageIcon.Warning if warning else QSystemTrayIcon.MessageIcon.Information
        self._tray.showMessage(title, text, icon, SHOW_MS)
