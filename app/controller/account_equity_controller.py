"""The equity curve of the account in use: the paper journal's in paper mode, the broker account's in live mode.

Live, the curve is the broker's own history where its API gives one (Alpaca's portfolio history,
Tastytrade's net-liq history), fetched through the session's connector on the app's loop, again
after live fills and every few minutes. Where the broker has none, refuses it or has no points yet,
it is the balances TradeBridge read while connected: each verification of the connection already
reads the account, and one reading a minute per account is kept. Paper mode asks the broker nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import qasync
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.brokers.base import BrokerError, HistoryNotOffered
from app.controller.equity_controller import EquityController
from app.controller.equity_views import PAPER_ACCOUNT, EquityCurveView, curve_view, with_point
from app.controller.live_views import LiveSession
from app.domain.equity_curve import EquityPoint
from app.domain.models import Fill, TradingMode
from app.storage.broker_equity_repository import add_broker_equity_sample, load_broker_equity_samples
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(minutes=5)
SAMPLE_EVERY = timedelta(minutes=1)
HISTORY_SPAN = timedelta(days=364)
HISTORY_TIMEOUT_SECONDS = 30.0
#: What each broker calls the history it serves.
HISTORY_NAMES = {"alpaca": "portfolio history", "tastytrade": "net-liq history"}
SAMPLED = "Built from the balances TradeBridge read while connected"


class AccountEquityController(QObject):
    """Chooses the curve the equity pane shows and keeps it current; the pane hears only this controller."""

    curve_loaded = Signal(object)
    #: One point appended to the curve on show: ``EquityPoint``.
    point_added = Signal(object)
    error = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker,
        clock: Callable[[], datetime],
        paper: EquityController,
        *,
        refresh_every: timedelta = REFRESH_EVERY,
        sample_every: timedelta = SAMPLE_EVERY,
        span: timedelta = HISTORY_SPAN,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._clock = clock
        self._paper = paper
        self._sample_every = sample_every
        self._span = span
        self._mode = TradingMode.PAPER
        self._session: LiveSession | None = None
        #: Bumped by every change of mode or session: a fetch that started before one is not shown.
        self._generation = 0
        self._sampled = False
        self._last_sample: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: A refresh after fills or on the timer runs one at a time; asked again meanwhile, it runs once more.
        self._refreshing = False
        self._refresh_again = False
        self.view: EquityCurveView | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(refresh_every.total_seconds() * 1000))
        self._timer.timeout.connect(self._refresh_due)
        paper.curve_loaded.connect(self._paper_curve)
        paper.point_added.connect(self._paper_point)

    @property
    def live(self) -> bool:
        return self._mode is TradingMode.LIVE

    # ---- what decides the curve ----------------------------------------------------------------

    @Slot(object)
    def set_mode(self, mode: TradingMode) -> None:
        if mode is self._mode:
            return
        self._mode = mode
        self._generation += 1
        if self.live:
            self._timer.start()
            self._spawn(self.reload())
        else:
            self._timer.stop()
            self._show(self._paper.view or curve_view([]))

    @Slot(object)
    def set_session(self, session: LiveSession | None) -> None:
        self._session = session
        self._generation += 1
        if session is not None:
            self._spawn(self._sample(session))
        if self.live:
            self._spawn(self.reload())

    @Slot(str)
    def end_session(self, _message: str = "") -> None:
        self.set_session(None)

    @Slot(list)
    def on_live_fills(self, fills: list[Fill]) -> None:
        if fills and self.live:
            self._refresh()

    @qasync.asyncSlot(object)
    async def on_account_read(self, session: LiveSession) -> None:
        """The connection was verified (its balances read): keep a reading at most once per ``sample_every``."""
        await self._sample(session)

    def _refresh_due(self) -> None:
        if self.live:
            self._refresh()

    def _refresh(self) -> None:
        """One history request for a burst of fills, not one per fill."""
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing, self._refresh_again = True, False
        self._spawn(self._refresh_until_current())

    async def _refresh_until_current(self) -> None:
        try:
            await self.reload()
            while self._refresh_again and self.live:
                self._refresh_again = False
                await self.reload()
        finally:
            self._refreshing = False

    # ---- the live curve ------------------------------------------------------------------------

    async def reload(self) -> EquityCurveView | None:
        """Fetch and show the live account's curve; None when in paper mode or overtaken by a change."""
        generation, session = self._generation, self._session
        if not self.live:
            return None
        if session is None:
            view, sampled = curve_view([], account="Live account", source="No broker connected: connect one in Settings."), False
        else:
            since = self._clock() - self._span
            points, source = await self._history(session, since)
            sampled = points is None
            if points is None:
                points = await self._worker.run(lambda s: load_broker_equity_samples(s, session.account_key, since))
            view = curve_view(points, account=session.account_label, source=source)
        if generation != self._generation or not self.live:
            return None
        self._sampled = sampled
        self._show(view)
        return view

    async def _history(self, session: LiveSession, since: datetime) -> tuple[list[EquityPoint] | None, str]:
        """The broker's own points and where they are from; None to build the curve from readings instead."""
        name = session.broker_name
        try:
            points = await asyncio.wait_for(session.broker.equity_history(since), HISTORY_TIMEOUT_SECONDS)
        except HistoryNotOffered:
            return None, f"{SAMPLED} ({name} gives no account history through its API)"
        except (BrokerError, asyncio.TimeoutError) as exc:
            log.warning("%s's account history could not be read: %s", name, exc)
            reason = str(exc) or "no answer"
            return None, f"{SAMPLED} ({name}'s history could not be read: {reason})"
        if not points:
            return None, f"{SAMPLED} ({name}'s history has no points for this account yet)"
        return points, f"from {name}'s {HISTORY_NAMES.get(session.broker_key, 'account history')}"

    async def _sample(self, session: LiveSession) -> None:
        now, key, info = self._clock(), session.account_key, session.info
        last = self._last_sample.get(key)
        if last is not None and now - last < self._sample_every:
            return
        self._last_sample[key] = now
        try:
            await self._worker.run(lambda s: add_broker_equity_sample(s, key, now, info.cash, info.equity))
        except Exception:
            log.exception("Saving a reading of the broker account failed")
            return
        current = self._session
        if self.live and self._sampled and self.view is not None and current is not None and current.account_key == key:
            point = EquityPoint(now, info.cash, info.equity)
            self.view = with_point(self.view, point)
            self.point_added.emit(point)

    # ---- the paper curve, passed on in paper mode ------------------------------------------------

    def _paper_curve(self, view: EquityCurveView) -> None:
        if not self.live:
            self._show(view)

    def _paper_point(self, point: EquityPoint) -> None:
        if not self.live and self.view is not None and self.view.account == PAPER_ACCOUNT:
            self.view = self._paper.view
            self.point_added.emit(point)

    def _show(self, view: EquityCurveView) -> None:
        self.view = view
        self.curve_loaded.emit(view)

    # ---- tasks -----------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("The account's equity curve could not be updated")
            self.error.emit("The account's equity curve could not be updated; see the log for details.")

    async def stop(self) -> None:
        self._timer.stop()
        self._generation += 1
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
