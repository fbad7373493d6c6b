"""The paper account's equity curve: end-of-day points from the journal, intraday points from the marks.

The journal (fills since the account's start or last reset) gives exact cash and, with cached daily
closes, the equity at each session's close. While the app runs, the account's equity at the current
marks is sampled at most once a minute, saved, and appended: a new sample costs one point.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import qasync
from PySide6.QtCore import QObject, Signal, Slot

from app.controller.background import BackgroundTasks
from app.controller.equity_views import EquityCurveView, curve_view, with_point
from app.domain.equity_curve import EquityPoint, end_of_day_curve
from app.domain.models import AccountSummary, Fill
from app.storage.bar_repository import (
    add_equity_sample,
    load_daily_closes,
    load_equity_samples,
    load_fills,
    paper_start,
)
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

SAMPLE_EVERY = timedelta(minutes=1)


class EquityController(QObject):
    curve_loaded = Signal(object)
    #: One intraday sample appended to the curve: ``EquityPoint``.
    point_added = Signal(object)
    error = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker,
        clock: Callable[[], datetime],
        *,
        sample_every: timedelta = SAMPLE_EVERY,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._clock = clock
        self._sample_every = sample_every
        self._last_sample: datetime | None = None
        self._started_at: datetime | None = None
        self.view: EquityCurveView | None = None
        self._samples = BackgroundTasks()

    async def reload(self) -> EquityCurveView | None:
        """Rebuild the curve from the journal, the cached closes and the saved samples."""
        now = self._clock()
        start = await self._worker.run(paper_start)
        if start is None:
            return None
        starting_cash, started_at = start
        fills: list[Fill] = await self._worker.run(lambda s: load_fills(s))
        symbols = {fill.symbol for fill in fills}
        closes = await self._worker.run(lambda s: load_daily_closes(s, symbols, started_at))
        samples = await self._worker.run(lambda s: load_equity_samples(s, started_at))
        points = await asyncio.to_thread(end_of_day_curve, starting_cash, started_at, fills, closes, now)
        last_close = points[-1].at
        points += [EquityPoint(at, cash, equity) for at, cash, equity in samples if at > last_close]
        self._started_at = started_at
        self.view = curve_view(points)
        self.curve_loaded.emit(self.view)
        return self.view

    @qasync.asyncSlot()
    async def reload_slot(self) -> None:
        try:
            await self.reload()
        except Exception:
            log.exception("The equity curve could not be rebuilt")
            self.error.emit("The equity curve could not be read from the journal.")

    @qasync.asyncSlot(list)
    async def on_fills(self, fills: list[Fill]) -> None:
        if fills:
            await self.reload_slot()

    @Slot(object)
    def on_account(self, summary: AccountSummary) -> None:
        """The paper account was revalued: keep a sample at most once per ``sample_every``.

        Decided here, synchronously: the account is revalued on every order and quote, and a sample is
        due about once a minute, so the rest start no task at all.
        """
        now = self._clock()
        if self._started_at is None or now < self._started_at:
            return
        if self._last_sample is not None and now - self._last_sample < self._sample_every:
            return
        self._last_sample = now
        self._samples.start(self._save_sample(now, summary))

    async def flush(self) -> None:
        """Wait for the samples being saved (shutdown, before the database closes)."""
        await self._samples.settle()

    async def _save_sample(self, now: datetime, summary: AccountSummary) -> None:
        try:
            await self._worker.run(lambda s: add_equity_sample(s, now, summary.cash, summary.equity))
        except Exception:
            log.exception("Saving an equity sample failed")
            return
        point = EquityPoint(now, summary.cash, summary.equity)
        if self.view is not None:
            self.view = with_point(self.view, point)
        self.point_added.emit(point)
