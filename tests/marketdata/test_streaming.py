"""Streamed quotes: the runner reopens with backoff; the market data streams what it can, polls the rest and
after a drop shows the streamed prices ageing into stale, polled again until the stream is back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.brokers.streaming import StreamDropped
from app.controller.market_data_controller import MarketDataController
from app.controller.quote_views import QuoteView
from app.domain.models import Quote
from app.marketdata.broker_quotes import BrokerQuoteSource
from app.marketdata.streaming import Backoff, StreamRunner
from tests.conftest import until
from tests.fakes.tws import IbkrHarness

# Tuesday 24 November 2026, 10:30 in New York: the regular session is open.
OPEN = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


class ScriptedStream:
    """A stream the test steers: ``fail_opens`` opens fail, then quotes put on ``inbox`` are received."""

    name = "Scripted stream"
    delayed = False

    def __init__(self, fail_opens: int = 0) -> None:
        self.fail_opens = fail_opens
        self.opens = 0
        self.subscriptions: list[frozenset[str]] = []
        self.inbox: asyncio.Queue[list[Quote] | Exception] = asyncio.Queue()
        self.closed = 0

    def serves(self, symbol: str) -> bool:
        return not symbol.endswith("X")

    async def open(self) -> None:
        self.opens += 1
        if self.opens <= self.fail_opens:
            raise StreamDropped("the feed refused the connection.")

    async def subscribe(self, symbols: frozenset[str]) -> None:
        self.subscriptions.append(symbols)

    async def receive(self) -> list[Quote]:
        item = await self.inbox.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        self.closed += 1


def _quote(symbol: str, last: str, at: datetime = OPEN) -> Quote:
    price = Decimal(last)
    return Quote(symbol=symbol, bid=price - Decimal("0.05"), ask=price + Decimal("0.05"), last=price, timestamp=at)


async def test_the_runner_reopens_with_doubling_backoff_and_resubscribes():
    stream = ScriptedStream(fail_opens=3)
    waits: list[float] = []
    states: list[tuple[bool, str]] = []
    received: list[list[Quote]] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    runner = StreamRunner(stream, received.append, lambda live, why: states.append((live, why)),
                          backoff=Backoff(first=0.5, most=1.5), sleep=sleep)
    runner.want(["AAPL", "BADX", "MSFT"])
    task = asyncio.ensure_future(runner.run())
    try:
        await until(lambda: runner.live, message="the stream never came up")
        assert waits == [0.5, 1.0, 1.5]  # doubling, capped
        assert states == [(False, "the feed refused the connection."), (True, "")]  # one notice per outage
        await until(lambda: stream.subscriptions == [frozenset({"AAPL", "MSFT"})])
        stream.inbox.put_nowait([_quote("AAPL", "190")])
        await until(lambda: len(received) == 1)
        runner.want(["MSFT"])
        await until(lambda: stream.subscriptions[-1] == frozenset({"MSFT"}), message="no resubscription")

        stream.inbox.put_nowait(StreamDropped("the feed went away."))
        await until(lambda: stream.opens == 5, message="not reopened after the drop")
        assert states[2] == (False, "the feed went away.")
        assert waits[-1] == 0.5  # the count starts again after a good connection
        await until(lambda: stream.subscriptions[-1] == frozenset({"MSFT"}) and len(stream.subscriptions) == 3)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert stream.closed >= 2


class Clock:
    def __init__(self) -> None:
        self.now = OPEN

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def tws():
    harness = IbkrHarness()
    await harness.start()
    harness.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    try:
        yield harness
    finally:
        await harness.stop()


class CountingSource(BrokerQuoteSource):
    def __init__(self, broker) -> None:
        super().__init__(broker)
        self.asked: list[list[str]] = []

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(symbols)
        self.asked.append(wanted)
        return await super().quotes(wanted)


async def test_ibkr_ticks_drive_the_views_and_a_drop_degrades_to_polling_and_stale_prices(qapp, tws: IbkrHarness):
    broker = tws.connector()
    clock = Clock()
    source = CountingSource(broker)
    market = MarketDataController(None, source, clock, poll_interval=3600)  # type: ignore[arg-type]
    market.stream_backoff = Backoff(first=0.05, most=0.2)
    views: list[QuoteView] = []
    notices: list[str] = []
    market.quote_changed.connect(views.append)
    market.stream_status.connect(notices.append)
    try:
        market.subscribe("watchlist", ["AAPL"])
        market.set_quote_stream(broker.quote_stream())
        await until(lambda: market.view("AAPL").last == Decimal("189.55"), timeout=10, message="no streamed quote")
        assert market.streaming and notices[-1] == "Streaming IBKR market data, streaming"
        assert market.view("AAPL").source == "IBKR market data, streaming, real-time"

        # Ticks move the view; the periodic poll leaves the streamed symbol alone.
        tws.tws.push_quote("AAPL", Decimal("189.70"), Decimal("189.80"), Decimal("189.75"))
        await until(lambda: views and views[-1].last == Decimal("189.75"), message="the tick was not shown")
        await market.refresh()
        assert source.asked == []
        # A quiet stream is still current: no tick for a minute is not a stale price.
        clock.now += timedelta(minutes=1)
        assert not market.view("AAPL").stale

        # TWS goes away: the stream drops, polling takes over (and fails), the price ages from the drop.
        await tws.tws.pause()
        tws.tws.drop_connections()
        await until(lambda: not market.streaming, timeout=10, message="the drop was not noticed")
        assert notices[-1].startswith("Quote stream down: The connection to TWS/IB Gateway was lost")
        await market.refresh()
        assert source.asked[-1] == ["AAPL"]
        assert not market.view("AAPL").stale
        clock.now += timedelta(seconds=45)
        await market.refresh()
        view = market.view("AAPL")
        assert view.stale and view.age == "45 s" and view.last == Decimal("189.75")

        # TWS is back: the stream reopens by itself and the price is current again.
        await tws.tws.resume()
        await until(lambda: market.streaming, timeout=15, message="the stream did not come back")
        tws.tws.push_quote("AAPL", Decimal("189.90"), Decimal("190.00"), Decimal("189.95"))
        await until(lambda: market.view("AAPL").last == Decimal("189.95"), timeout=10)
        assert not market.view("AAPL").stale
    finally:
        await market.stop()
        await broker.close()


async def test_a_broken_ibkr_market_data_farm_ends_the_stream_until_tws_reports_it_ok(qapp, tws: IbkrHarness):
    broker = tws.connector()
    clock = Clock()
    source = CountingSource(broker)
    market = MarketDataController(None, source, clock, poll_interval=3600)  # type: ignore[arg-type]
    market.stream_backoff = Backoff(first=0.05, most=0.2)
    notices: list[str] = []
    market.stream_status.connect(notices.append)
    try:
        market.subscribe("watchlist", ["AAPL"])
        market.set_quote_stream(broker.quote_stream())
        await until(lambda: market.view("AAPL").last == Decimal("189.55"), timeout=10, message="no streamed quote")
        assert market.streaming

        # TWS stays connected, but its market data farm is gone: ticks would just stop.
        tws.tws.broadcast(2103, "Market data farm connection is broken:usfarm")
        await until(lambda: not market.streaming, timeout=10, message="the broken farm was not noticed")
        assert notices[-1].startswith("Quote stream down: TWS reports its market data farm connection broken (usfarm)")
        # The stream stays down while the farm is (each reopen is refused), and AAPL is polled meanwhile.
        await asyncio.sleep(0.5)
        assert not market.streaming
        await market.refresh()
        assert source.asked[-1] == ["AAPL"]
        clock.now += timedelta(seconds=45)
        tws.tws.broadcast(2104, "Market data farm connection is OK:usfarm")
        await until(lambda: market.streaming, timeout=10, message="the stream did not come back with the farm")
        tws.tws.push_quote("AAPL", Decimal("189.90"), Decimal("190.00"), Decimal("189.95"))
        await until(lambda: market.view("AAPL").last == Decimal("189.95"), timeout=10)
        assert not market.view("AAPL").stale
    finally:
        await market.stop()
        await broker.close()


class RecordingSource:
    """A polled source that prices whatever it is asked for at 12.25 and records each request."""

    name = "polled feed"
    delayed = True

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(symbols)
        self.asked.append(wanted)
        return {s: _quote(s, "12.25") for s in wanted}

    async def close(self) -> None:
        return None


async def test_alpaca_streams_the_stocks_and_the_options_stay_polled(qapp):
    from app.brokers.alpaca.stream import AlpacaQuoteStream
    from tests.fakes.alpaca_stream import FakeAlpacaStream

    fake = await FakeAlpacaStream().start()
    clock = Clock()
    source = RecordingSource()
    market = MarketDataController(None, source, clock, poll_interval=3600)  # type: ignore[arg-type]
    option = "AAPL270115C00200000"
    try:
        market.subscribe("watchlist", ["AAPL", option])
        market.set_quote_stream(AlpacaQuoteStream(fake.url, fake.key_id, fake.secret))
        await until(lambda: market.streaming and fake.subscriptions("quotes") == {"AAPL"}, message="not subscribed")
        await fake.push_quote("AAPL", Decimal("189.50"), Decimal("189.60"), OPEN)
        await fake.push_trade("AAPL", Decimal("189.55"), OPEN)
        await until(lambda: market.view("AAPL").last == Decimal("189.55"), message="the trade was not shown")
        view = market.view("AAPL")
        assert (view.bid, view.ask) == (Decimal("189.50"), Decimal("189.60"))
        assert view.source == "Alpaca market data (IEX), streaming, real-time"
        await market.refresh()
        assert source.asked == [[option]]
        assert market.view(option).source == "polled feed, 15 min delayed"
    finally:
        await market.stop()
        await fake.stop()


class SwallowingStream(ScriptedStream):
    """A stream whose ``open`` or ``subscribe`` swallows the first cancellation, as Python 3.11's ``wait_for``
    inside a stream library can."""

    def __init__(self, swallows_in: str) -> None:
        super().__init__()
        self.swallows_in = swallows_in
        self.waiting = False
        self.swallowed = False

    async def _swallow_once(self, where: str) -> None:
        if where != self.swallows_in or self.swallowed:
            return
        self.waiting = True
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.swallowed = True

    async def open(self) -> None:
        await super().open()
        await self._swallow_once("open")

    async def subscribe(self, symbols: frozenset[str]) -> None:
        await super().subscribe(symbols)
        await self._swallow_once("subscribe")


@pytest.mark.parametrize("where", ["open", "subscribe"])
async def test_a_stopped_runner_closes_its_stream_and_ends_though_the_stream_swallows_the_cancellation(where):
    stream = SwallowingStream(where)
    states: list[tuple[bool, str]] = []
    runner = StreamRunner(stream, lambda quotes: None, lambda live, why: states.append((live, why)))
    runner.want(["AAPL"])
    task = asyncio.ensure_future(runner.run())
    try:
        await until(lambda: stream.waiting, message=f"the stream's {where} was never reached")
        runner.stop()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert task in done, "the runner went on streaming after it was stopped"
    finally:
        # Cancelled until it ends (the stream swallows only one): a failed test leaves no runner behind.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
    assert stream.swallowed and stream.closed == 1
    assert not runner.live
    # Stopped while opening: the stream is never reported up.
    assert states == ([] if where == "open" else [(True, "")])


async def test_the_market_data_stops_though_its_stream_swallows_the_cancellation(qapp):
    stream = SwallowingStream("subscribe")
    market = MarketDataController(None, RecordingSource(), Clock(), poll_interval=3600)  # type: ignore[arg-type]
    market.subscribe("watchlist", ["AAPL"])
    market.set_quote_stream(stream)
    await until(lambda: stream.waiting, message="the stream was never subscribed")
    await asyncio.wait_for(market.stop(), 10)
    assert stream.swallowed and stream.closed == 1
    assert not market.streaming
