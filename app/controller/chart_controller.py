"""The price chart's controller: bars for the chosen symbol and interval, cached in the database, and overlays.

Loading a chart shows the cached bars at once, then asks the bar source for what is newer (the last
cached bar again, as it may have been forming) and saves the answer. Without a source for the
symbol (no broker, Cboe has no chart for it) bars are built from the quotes the app sees and the
chart says so. Network and decoding run off the Qt thread; SQLite goes through the database worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import qasync
from PySide6.QtCore import QObject, Signal

from app.controller.chart_views import ChartOverlays, ChartView, bar_arrays, order_lines
from app.domain.bars import DEFAULT_LOOKBACK, INTERVAL_LENGTH, QuoteBarBuilder, merge_bars
from app.domain.models import Bar, BarInterval, Fill, Order, Quote
from app.domain.symbols import SymbolError, parse_symbol
from app.marketdata.bars import BarSource, BarsUnavailable
from app.storage.bar_repository import load_bars, load_fills, save_bars
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

#: The cache key of bars built from quotes.
QUOTES_SOURCE = "quotes"
FETCH_TIMEOUT_SECONDS = 30.0


class ChartController(QObject):
    chart_loaded = Signal(object)
    #: The newest bar changed or a new one opened (from a quote): ``Bar``.
    bar_updated = Signal(object)
    overlays_changed = Signal(object)
    status = Signal(str)
    #: The chart wants quotes for this symbol (the market-data controller polls it).
    symbol_changed = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker,
        source: BarSource | None,
        clock: Callable[[], datetime],
        *,
        working_orders: Callable[[], Iterable[Order]] = tuple,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._source = source
        self._clock = clock
        self.symbol: str | None = None
        self.interval = BarInterval.FIVE_MINUTES
        self._builder: QuoteBarBuilder | None = None
        self._from_quotes = False
        self._working_orders = working_orders
        self._load: asyncio.Task[None] | None = None
        self._generation = 0
        self._fills: tuple[Fill, ...] = ()
        self._saves: set[asyncio.Task[None]] = set()

    @property
    def source_name(self) -> str:
        return self._source.name if self._source is not None else "no bar source"

    def set_bar_source(self, source: BarSource | None) -> None:
        """A connected broker's bars replace the keyless source; the chart reloads from it."""
        self._source = source
        if self.symbol is not None:
            self._start_load()

    # ---- slots ----------------------------------------------------------------------------------

    @qasync.asyncSlot(str)
    async def show_symbol(self, text: str) -> None:
        try:
            symbol = parse_symbol(text).symbol
        except SymbolError as exc:
            self.status.emit(str(exc))
            return
        self.symbol = symbol
        self.symbol_changed.emit(symbol)
        await self._run_load()

    @qasync.asyncSlot(str)
    async def set_interval(self, value: str) -> None:
        self.interval = BarInterval(value)
        if self.symbol is not None:
            await self._run_load()

    @qasync.asyncSlot(list)
    async def on_orders(self, orders: list[Order]) -> None:
        """Orders were created or changed: redraw the working-order lines if the chart's symbol is among them."""
        if any(order.symbol == self.symbol for order in orders):
            await self.refresh_overlays(reload=False)

    @qasync.asyncSlot(list)
    async def on_fills(self, fills: list[Fill]) -> None:
        """Executions were booked: re-read the chart symbol's fills if it traded."""
        if any(fill.symbol == self.symbol for fill in fills):
            await self.refresh_overlays()

    @qasync.asyncSlot()
    async def on_journal_reset(self) -> None:
        await self.refresh_overlays()

    def on_quote(self, quote: Quote) -> None:
        """A quote the app has seen: it extends the newest bar (or opens the next) of the chart's symbol."""
        if self._builder is None or quote.symbol != self.symbol:
            return
        bar = self._builder.add(quote)
        if bar is None:
            return
        self.bar_updated.emit(bar)
        if self._from_quotes:
            task = asyncio.ensure_future(self._save(QUOTES_SOURCE, [bar]))
            self._saves.add(task)
            task.add_done_callback(self._saves.discard)

    # ---- loading --------------------------------------------------------------------------------

    def _start_load(self) -> None:
        asyncio.ensure_future(self._run_load())

    async def _run_load(self) -> None:
        if self._load is not None and not self._load.done():
            self._load.cancel()
        self._generation += 1
        self._load = asyncio.ensure_future(self._load_chart(self._generation))
        try:
            await self._load
        except asyncio.CancelledError:
            pass

    async def stop(self) -> None:
        if self._load is not None:
            self._load.cancel()
            try:
                await self._load
            except asyncio.CancelledError:
                pass
        await asyncio.gather(*self._saves, return_exceptions=True)

    async def _load_chart(self, generation: int) -> None:
        symbol, interval, source = self.symbol, self.interval, self._source
        assert symbol is not None
        now = self._clock()
        start, end = now - DEFAULT_LOOKBACK[interval], now + INTERVAL_LENGTH[interval]
        name = source.name if source is not None else QUOTES_SOURCE
        cached = await self._worker.run(lambda s: load_bars(s, name, symbol, interval, start, end))
        if cached:
            await self._publish(generation, symbol, interval, cached, name, "Saved bars; checking for newer ones…")
        problem = "no bar source is connected"
        if source is not None:
            since = cached[-1].start if cached else start
            try:
                fresh = await asyncio.wait_for(source.bars(symbol, interval, since, end), FETCH_TIMEOUT_SECONDS)
            except BarsUnavailable as exc:
                problem = str(exc)
            except asyncio.TimeoutError:
                problem = f"{source.name} did not answer in time"
            else:
                await self._save(name, fresh)
                bars = merge_bars(cached, fresh)
                self._from_quotes = False
                note = "" if bars else f"{source.name} has no bars for {symbol} at this interval."
                await self._publish(generation, symbol, interval, bars, name, note)
                await self.refresh_overlays()
                return
            if cached:
                self._from_quotes = False
                await self._publish(generation, symbol, interval, cached, name, f"Showing saved bars: {problem}.")
                await self.refresh_overlays()
                return
        built = await self._worker.run(lambda s: load_bars(s, QUOTES_SOURCE, symbol, interval, start, end))
        self._from_quotes = True
        note = f"Built from the quotes TradeBridge has seen ({problem}); no volume."
        await self._publish(generation, symbol, interval, built, "quotes seen by TradeBridge", note)
        await self.refresh_overlays()

    async def _publish(
        self, generation: int, symbol: str, interval: BarInterval, bars: Sequence[Bar], source: str, note: str
    ) -> None:
        arrays = await asyncio.to_thread(bar_arrays, bars)
        if generation != self._generation:
            return
        self._builder = QuoteBarBuilder(symbol, interval, bars[-1:])
        self.chart_loaded.emit(ChartView(symbol, interval, tuple(bars), arrays, source, note))
        self.status.emit(note)

    async def _save(self, source: str, bars: Sequence[Bar]) -> None:
        if not bars:
            return
        try:
            await self._worker.run(lambda s: save_bars(s, source, bars))
        except Exception:
            log.exception("Saving %d bars failed", len(bars))

    async def refresh_overlays(self, *, reload: bool = True) -> None:
        """Emit the symbol's fills and working orders; fills are read from the journal only when asked."""
        symbol = self.symbol
        if symbol is None:
            return
        if reload:
            fills = await self._worker.run(lambda s: load_fills(s, symbol))
            if symbol != self.symbol:
                return
            self._fills = tuple(fills)
        lines = order_lines(list(self._working_orders()), symbol)
        self.overlays_changed.emit(ChartOverlays(symbol, self._fills, lines))
