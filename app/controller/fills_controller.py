"""The Fills table's source: recent executions from the journal, then each new one as it is booked."""

from __future__ import annotations

import logging

import qasync
from PySide6.QtCore import QObject, Signal

from app.controller.views import FillView
from app.domain.models import Fill, TradingMode
from app.storage.fills_repository import RECENT_FILLS, recent_fills
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)


class FillsController(QObject):
    #: The newest executions, for a (re)load of the table.
    fills_loaded = Signal(list)
    #: Executions just booked (or corrected, e.g. a commission reported later): the table upserts only these.
    fills_added = Signal(list)
    error = Signal(str)

    def __init__(self, worker: DatabaseWorker, *, limit: int = RECENT_FILLS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._limit = limit

    async def load(self) -> None:
        limit = self._limit
        try:
            found = await self._worker.run(lambda s: recent_fills(s, limit))
        except Exception:
            log.exception("Loading fills failed")
            self.error.emit("The fills could not be loaded from the journal.")
            return
        self.fills_loaded.emit([FillView(fill, mode) for fill, mode in found])

    @qasync.asyncSlot()
    async def reload(self) -> None:
        await self.load()

    def record_paper(self, fills: list[Fill]) -> None:
        self.fills_added.emit([FillView(f, TradingMode.PAPER) for f in fills])

    def record_live(self, fills: list[Fill]) -> None:
        self.fills_added.emit([FillView(f, TradingMode.LIVE) for f in fills])
