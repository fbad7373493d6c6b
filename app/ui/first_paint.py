"""Tells once when a window has been painted for the first time, so start-up can report when the trader saw it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal


class FirstPaint(QObject):
    """Emits ``painted`` once, in the loop turn after the watched window's first paint has been processed.

    The window's own paint event starts the paint of it and its children; the signal waits for the next loop
    turn so that the whole first frame is drawn (and handed to the window system) before anyone is told.
    """

    painted = Signal()

    def __init__(self, window: QObject) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self.painted.emit)
        return False
