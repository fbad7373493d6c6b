"""Quotes for the ticket, the watchlist and the chart: subscriptions, streaming or batched polling, staleness, watchlists.

Symbols are fetched per asset class (stocks in one request, options in another), so an option
chain that fails never blanks the stocks, and a symbol that fails keeps its last quote, shown
stale with its age, never as current. Each poll emits only the symbols whose view changed.

Where the connected broker streams (``set_quote_stream``), its symbols are not polled while the stream
is up: each tick updates its symbol alone, and a streamed price stays current while the stream is up.
When the stream drops, its prices age from that moment and are polled again until it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import qasync
from PySide6.QtCore import QObject, Signal

from app.brokers.streaming import QuoteStream
from app.controller.quote_views import QuoteView, WatchlistsView, quote_view
from app.domain.market_calendar import UsEquityCalendar
from app.domain.models import Quote
from app.domain.quote_age import DEFAULT_STALE_AFTER, freshness, stale_after_setting
from app.domain.symbols import SymbolError, parse_symbol
from app.domain.watchlists import WatchlistError, Watchlists
from app.marketdata.base import QuoteSource, QuoteUnavailable
from app.marketdata.fallback import FallbackQuotes
from app.marketdata.streaming import Backoff, StreamRunner
from app.storage.watchlist_repository import load_stale_after, load_watchlists, save_stale_after, save_watchlists
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

QUOTE_TIMEOUT_SECONDS = 10.0
TICKET = "ticket"
WATCHLIST = "watchlist"
CHART = "chart"


def source_label(source: QuoteSource) -> str:
    """"Cboe delayed quotes, 15 min delayed" / "Alpaca market data, real-time": where a price came from."""
    return f"{source.name}, {'15 min delayed' if source.delayed else 'real-time'}"


class MarketDataController(QObject):
    #: A symbol's view changed (new prices, new age, now stale, failed): ``QuoteView``.
    quote_changed = Signal(object)
    #: The ticket's symbol and its quote: ``QuoteView``, or None when the ticket holds no valid symbol.
    ticket_quote = Signal(object)
    watchlists_changed = Signal(object)
    watchlist_error = Signal(str)
    #: A watchlist symbol was chosen (double-click or Enter): the canonical symbol.
    symbol_chosen = Signal(str)
    quote_seen = Signal(object)
    #: The stale-after setting in seconds, as saved (also sent back after a refused change).
    stale_after_changed = Signal(int)
    #: Why a market-data setting was refused or not saved, in the trader's words ("" once all is well).
    settings_error = Signal(str)
    #: The quote stream came up ("Streaming IBKR market data") or dropped (why, and that prices are polled).
    stream_status = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker,
        source: QuoteSource,
        clock: Callable[[], datetime],
        *,
        poll_interval: float = 5.0,
        debounce: float = 0.3,
        calendar: UsEquityCalendar | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._source = source
        self._clock = clock
        self._poll_interval = poll_interval
        self._debounce = debounce
        self._calendar = calendar or UsEquityCalendar()
        self.stale_after: timedelta = DEFAULT_STALE_AFTER
        self._subscriptions: dict[str, tuple[str, ...]] = {}
        self._quotes: dict[str, tuple[Quote, str]] = {}
        self._errors: dict[str, str] = {}
        self._unknown: set[str] = set()
        self._shown: dict[str, QuoteView] = {}
        self._ticket_symbol: str | None = None
        self._lookup: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._polling = False
        self._watchlists = Watchlists()
        self._lock = asyncio.Lock()
        self._stream: StreamRunner | None = None
        self._stream_task: asyncio.Task[None] | None = None
        #: Streams replaced or dropped and still closing; ``stop`` waits for them so no socket outlives the app.
        self._closing: set[asyncio.Task[None]] = set()
        #: Symbols whose quote came from the stream: when the stream last vouched for it.
        self._streamed: dict[str, datetime] = {}
        self.stream_backoff = Backoff()

    # ---- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._watchlists = await self._worker.run(load_watchlists)
        self.stale_after = await self._worker.run(load_stale_after)
        self.stale_after_changed.emit(int(self.stale_after.total_seconds()))
        self._subscribe(WATCHLIST, self._watchlists.current.symbols)
        self._publish_watchlists()
        if self._poller is None:
            self._polling = True
            self._poller = asyncio.ensure_future(self._poll_forever())

    async def stop(self) -> None:
        # Off before the cancel: a poll whose cancellation is swallowed on the way still ends at its next turn.
        self._polling = False
        await self._stop_stream()
        for task in (self._poller, self._lookup):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._poller = self._lookup = None

    def set_quote_source(self, source: QuoteSource) -> None:
        """A connected broker's market data replaces the default source; prices so far keep their labels."""
        self._source = source

    def set_quote_stream(self, stream: QuoteStream | None) -> None:
        """Stream what ``stream`` serves (None: poll everything); the previous stream, if any, is closed."""
        old, runner = self._stream_task, self._stream
        self._stream_task, self._stream = None, None
        if runner is not None:
            runner.stop()
        if old is not None:
            old.cancel()
            self._closing.add(old)
            old.add_done_callback(self._closing.discard)
        self._stream_down()
        if stream is None:
            return
        self._stream = StreamRunner(stream, self._on_stream_quotes, self._on_stream_state, backoff=self.stream_backoff)
        self._stream.want(self.subscribed())
        self._stream_task = asyncio.ensure_future(self._stream.run())

    async def _stop_stream(self) -> None:
        task, runner = self._stream_task, self._stream
        self._stream_task, self._stream = None, None
        # Off before the cancel: a stream call that swallows the cancellation still lets the runner end.
        if runner is not None:
            runner.stop()
        if task is not None:
            task.cancel()
            self._closing.add(task)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
            self._closing.clear()

    @property
    def streaming(self) -> bool:
        return self._stream is not None and self._stream.live

    def _streams(self, symbol: str) -> bool:
        """True while the stream is up and carries this symbol, so polling leaves it alone."""
        return self._stream is not None and self._stream.live and self._stream.serves(symbol)

    def _on_stream_quotes(self, quotes: list[Quote]) -> None:
        """Ticks from the stream: each changes its own symbol's view only."""
        if self._stream is None:
            return
        label = source_label(self._stream.stream)
        now = self._clock()
        changed = []
        for quote in quotes:
            self._quotes[quote.symbol] = (quote, label)
            self._streamed[quote.symbol] = now
            self._errors.pop(quote.symbol, None)
            self._unknown.discard(quote.symbol)
            self.quote_seen.emit(quote)
            changed.append(quote.symbol)
        self._publish(s for s in changed if s in self._subscribed_set())

    def _on_stream_state(self, live: bool, reason: str) -> None:
        if live:
            log.info("Quote stream up: %s", self._stream.stream.name if self._stream else "")
            self.stream_status.emit(f"Streaming {self._stream.stream.name}" if self._stream else "")
            return
        self._stream_down()
        self.stream_status.emit(f"Quote stream down: {reason} Prices are polled meanwhile.")
        self._publish(self.subscribed())

    def _stream_down(self) -> None:
        """From now on the streamed prices age from this moment, and polling takes their symbols back."""
        now = self._clock()
        self._streamed = dict.fromkeys(self._streamed, now)

    @property
    def watchlists(self) -> Watchlists:
        return self._watchlists

    def subscribed(self) -> list[str]:
        return list(dict.fromkeys(s for symbols in self._subscriptions.values() for s in symbols))

    def view(self, symbol: str) -> QuoteView:
        held = self._quotes.get(symbol)
        if held is None:
            return quote_view(symbol, None, "", None, self._errors.get(symbol, ""))
        quote, label = held
        now = self._clock()
        vouched = self._streamed.get(symbol)
        # A streamed price is current while the stream is up (a quiet market sends no ticks); after a drop
        # it ages from the last moment the stream vouched for it.
        as_of = quote.timestamp if vouched is None else now if self._streams(symbol) else vouched
        fresh = freshness(as_of, now, stale_after=self.stale_after, calendar=self._calendar)
        return quote_view(symbol, quote, label, fresh, self._errors.get(symbol, ""))

    def latest(self, symbol: str) -> Quote | None:
        held = self._quotes.get(symbol)
        return held[0] if held else None

    def _subscribe(self, consumer: str, symbols: Iterable[str]) -> None:
        self._subscriptions[consumer] = tuple(dict.fromkeys(symbols))
        if self._stream is not None:
            self._stream.want(self.subscribed())

    def _subscribed_set(self) -> set[str]:
        return {s for symbols in self._subscriptions.values() for s in symbols}

    def subscribe(self, consumer: str, symbols: Iterable[str]) -> None:
        """``consumer`` ("chart", "positions", …) wants these symbols polled from now on."""
        self._subscribe(consumer, symbols)

    @qasync.asyncSlot(int)
    async def set_stale_after(self, seconds: int) -> None:
        await self.apply_stale_after(seconds)

    async def apply_stale_after(self, seconds: int) -> bool:
        """Validate, save, then re-judge every price shown; a refused value changes nothing."""
        current = int(self.stale_after.total_seconds())
        try:
            stale_after = stale_after_setting(seconds)
        except ValueError as exc:
            self.settings_error.emit(str(exc))
            self.stale_after_changed.emit(current)
            return False
        try:
            await self._worker.run(lambda s: save_stale_after(s, stale_after))
        except Exception:
            log.exception("Saving the stale-after setting failed")
            self.settings_error.emit("The stale-after setting could not be saved; it is unchanged.")
            self.stale_after_changed.emit(current)
            return False
        self.stale_after = stale_after
        self.settings_error.emit("")
        self.stale_after_changed.emit(seconds)
        self._publish(self.subscribed())
        return True

    # ---- the ticket -----------------------------------------------------------------------------

    @qasync.asyncSlot(str)
    async def lookup_ticket_symbol(self, text: str) -> None:
        """The trader typed in the ticket: after a short pause, fetch that symbol's quote."""
        if self._lookup is not None:
            self._lookup.cancel()
        self._lookup = asyncio.ensure_future(self._debounced_lookup(text))
        try:
            await self._lookup
        except asyncio.CancelledError:
            pass

    async def _debounced_lookup(self, text: str) -> None:
        await asyncio.sleep(self._debounce)
        try:
            symbol = parse_symbol(text).symbol
        except SymbolError:
            self._ticket_symbol = None
            self._subscribe(TICKET, ())
            self.ticket_quote.emit(None)
            return
        self._ticket_symbol = symbol
        self._subscribe(TICKET, (symbol,))
        if symbol in self._quotes:
            self.ticket_quote.emit(self.view(symbol))
        await self.refresh([symbol])
        if self._ticket_symbol == symbol:
            self.ticket_quote.emit(self.view(symbol))

    # ---- polling --------------------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while self._polling:
            try:
                await self.refresh()
            except Exception:
                log.exception("Quote refresh failed")
            if self._polling:
                await asyncio.sleep(self._poll_interval)

    async def refresh(self, symbols: Iterable[str] | None = None) -> None:
        """Fetch quotes (the subscribed symbols by default), one request per asset class, and publish changes."""
        if symbols is None:
            # The periodic poll leaves what the stream carries alone while it is up; a symbol asked for
            # by name (typed in the ticket, being added to a list) is fetched whatever carries it.
            wanted = [s for s in self.subscribed() if not self._streams(s)]
        else:
            wanted = list(dict.fromkeys(symbols))
        if wanted:
            groups: dict[bool, list[str]] = {}
            for symbol in wanted:
                try:
                    groups.setdefault(parse_symbol(symbol).is_option, []).append(symbol)
                except SymbolError:
                    continue
            source = self._source
            results = await asyncio.gather(*(self._fetch(source, group) for group in groups.values()))
            for found, failed in results:
                for symbol, held in found.items():
                    if self._streams(symbol) and symbol in self._streamed:
                        continue  # the stream's ticks are newer than a poll's answer
                    self._quotes[symbol] = held
                    self._streamed.pop(symbol, None)
                    self._errors.pop(symbol, None)
                    self.quote_seen.emit(held[0])
                self._errors.update(failed)
        self._publish(self.subscribed())

    async def _fetch(self, source: QuoteSource, symbols: list[str]) -> tuple[dict[str, tuple[Quote, str]], dict[str, str]]:
        """Quotes for one asset class, each with the label of the source that priced it, and why the rest have none.

        A symbol no source knows is recorded in ``_unknown``; one whose fetch failed gets the failure's message.
        """
        found: dict[str, tuple[Quote, str]] = {}
        failed: dict[str, str] = {}
        layers = [source.preferred, source.fallback] if isinstance(source, FallbackQuotes) else [source]
        missing = list(symbols)
        for layer in layers:
            if not missing:
                break
            try:
                answer = await asyncio.wait_for(layer.quotes(missing), QUOTE_TIMEOUT_SECONDS)
                problem = ""
            except QuoteUnavailable as exc:
                answer, problem = exc.partial, str(exc)
            except asyncio.TimeoutError:
                answer, problem = {}, f"{layer.name} did not answer in time."
            label = source_label(layer)
            for symbol, quote in answer.items():
                if symbol in missing:
                    found[symbol] = (quote, label)
            missing = [s for s in missing if s not in answer]
            for symbol in missing:
                if problem:
                    failed[symbol] = problem
        for symbol in missing:
            if symbol not in failed:
                self._unknown.add(symbol)
                failed[symbol] = f"No quote for {symbol}: {source.name} does not know this symbol."
        for symbol in found:
            self._unknown.discard(symbol)
        return found, failed

    def _publish(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            view = self.view(symbol)
            if self._shown.get(symbol) == view:
                continue
            self._shown[symbol] = view
            self.quote_changed.emit(view)
            if symbol == self._ticket_symbol:
                self.ticket_quote.emit(view)

    # ---- watchlists -----------------------------------------------------------------------------

    @qasync.asyncSlot(str, str)
    async def add_to_watchlist(self, name: str, text: str) -> None:
        await self.add_symbol(name, text)

    async def add_symbol(self, name: str, text: str) -> bool:
        """Add after checking the symbol with the quote source; an unknown symbol is refused."""
        async with self._lock:
            try:
                symbol = self._watchlists.add(name, text)[1]
            except (SymbolError, WatchlistError) as exc:
                self.watchlist_error.emit(str(exc))
                return False
            await self.refresh([symbol])
            if symbol in self._unknown and symbol not in self._quotes:
                self._errors.pop(symbol, None)
                self.watchlist_error.emit(f"{symbol} was not added: no quote source knows that symbol.")
                return False
            # Checked against the lists as they are now: another change may have landed meanwhile.
            try:
                updated = self._watchlists.add(name, symbol)[0]
            except WatchlistError as exc:
                self.watchlist_error.emit(str(exc))
                return False
            if not await self._save(updated):
                return False
        problem = self._errors.get(symbol, "")
        self.watchlist_error.emit(f"{symbol} added, but it could not be checked: {problem}" if problem else "")
        return True

    @qasync.asyncSlot(str, str)
    async def remove_from_watchlist(self, name: str, symbol: str) -> None:
        await self._change(lambda w: w.remove(name, symbol))

    @qasync.asyncSlot(str, str, int)
    async def move_in_watchlist(self, name: str, symbol: str, row: int) -> None:
        await self._change(lambda w: w.move(name, symbol, row))

    @qasync.asyncSlot(str)
    async def create_watchlist(self, name: str) -> None:
        await self._change(lambda w: w.create(name))

    @qasync.asyncSlot(str)
    async def delete_watchlist(self, name: str) -> None:
        await self._change(lambda w: w.delete(name))

    @qasync.asyncSlot(str)
    async def select_watchlist(self, name: str) -> None:
        await self._change(lambda w: w.select(name))

    async def _change(self, change: Callable[[Watchlists], Watchlists]) -> bool:
        async with self._lock:
            try:
                updated = change(self._watchlists)
            except WatchlistError as exc:
                self.watchlist_error.emit(str(exc))
                return False
            if not await self._save(updated):
                return False
        self.watchlist_error.emit("")
        return True

    async def _save(self, updated: Watchlists) -> bool:
        """Persist, then adopt; the caller holds ``_lock`` so changes apply one after another."""
        try:
            await self._worker.run(lambda s: save_watchlists(s, updated))
        except Exception:
            log.exception("Saving the watchlists failed")
            self.watchlist_error.emit("The watchlist could not be saved; nothing was changed.")
            return False
        self._watchlists = updated
        self._subscribe(WATCHLIST, updated.current.symbols)
        self._publish_watchlists()
        return True

    def _publish_watchlists(self) -> None:
        lists = self._watchlists
        self.watchlists_changed.emit(
            WatchlistsView(names=tuple(w.name for w in lists.lists), active=lists.active, symbols=lists.current.symbols)
        )
        for symbol in lists.current.symbols:
            self._shown.pop(symbol, None)
        self._publish(lists.current.symbols)
