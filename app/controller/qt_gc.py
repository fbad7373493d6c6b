"""Python's cycle collector runs on the Qt thread only, so Qt objects are never destroyed from a worker thread.

Left to itself, the collector runs in whichever thread happens to allocate: the database worker, the
keyring thread. A reference cycle holding a QObject with running timers (a controller and its QTimer)
would then be destroyed there, unregistering its timers from the Qt thread's event dispatcher from the
wrong thread, which can silently drop every timer of the loop. While the app runs, automatic collection
is off and a timer on the Qt thread collects with the interpreter's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class QtThreadGarbageCollector(QObject):
    _active = 0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._threshold = gc.get_threshold()
        self._running = False

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        QtThreadGarbageCollector._active += 1
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Collect once more here, then hand collection back to the interpreter (when no other app runs)."""
        if not self._running:
            return
        self._running = False
        self._timer.stop()
        gc.collect()
        QtThreadGarbageCollector._active -= 1
        if QtThreadGarbageCollector._active == 0:
            gc.enable()

    def collect(self) -> None:
        young, middle, old = gc.get_count()
        if young > self._threshold[0]:
            gc.collect(0)
            if middle > self._threshold[1]:
                gc.collect(1)
                if old > self._threshold[2]:
                    gc.collect(2)
