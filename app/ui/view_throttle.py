"""Coalesced repaints: a view redraws at once after a quiet spell, and at most once per interval during a burst.

Qt merges the repaints asked for within one turn of the event loop, but a burst of orders arrives
one per turn (each waits for its journal commit), so every order would repaint the orders table,
the positions and the account. A `PaintThrottle` lets the first change after a quiet spell paint as
usual (a single status change shows with no delay); for the changes that follow within the interval
it suspends the widget's updates and repaints it once when the interval ends, with all of them.
Only drawing waits: the models and labels hold every change at once, so anything reading them
(exports, menus, the next event) sees the current state.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QElapsedTimer, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: During a burst, a throttled view is redrawn at most once per this many milliseconds.
INTERVAL_MS = 100


class PaintThrottle(QObject):
    """Holds back the repaints of ``widget`` that follow a change by less than ``interval_ms``."""

    def __init__(self, widget: QWidget, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(widget)
        self._widget = widget
        self._interval = interval_ms
        self._since = QElapsedTimer()
        #: True while the widget's updates are off; the timer is not a witness (a single-shot timer is
        #: no longer active by the time its timeout is delivered).
        self._held = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.paint_now)

    @property
    def holding(self) -> bool:
        return self._held

    def watch(self, model: QAbstractItemModel) -> None:
        """Row-level changes of ``model`` are throttled; a reset (a new page, sort or filter) paints at once."""
        model.dataChanged.connect(self.changed)
        model.rowsInserted.connect(self.changed)
        model.rowsRemoved.connect(self.changed)
        model.modelReset.connect(self.paint_now)

    def changed(self, *_args: object) -> None:
        if self._held:
            return
        quiet = self._since.elapsed() if self._since.isValid() else self._interval
        self._since.start()
        if quiet >= self._interval:
            return  # this change paints as usual
        self._held = True
        self._widget.setUpdatesEnabled(False)
        self._timer.start(self._interval - quiet)

    def paint_now(self) -> None:
        """Repaint now with every change held back (re-enabling updates repaints the widget)."""
        if not self._held:
            return
        self._held = False
        self._timer.stop()
        self._since.start()
        self._widget.setUpdatesEnabled(True)
