"""IBKR market-data ticks: the fake TWS streams tickPrice messages, ib_insync folds them, each change is one quote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.brokers.ibkr.parse import ticker_quote
from app.brokers.streaming import QuoteStream, StreamDropped
from tests.fakes.tws import FakeTws, IbkrHarness

NAN = float("nan")


def _ticker(**fields: object) -> SimpleNamespace:
    base = {"bid": NAN, "ask": NAN, "last": NAN, "bidSize": NAN, "askSize": NAN, "close": NAN, "volume": NAN, "time": None}
    return SimpleNamespace(**{**base, **fields})


def test_a_ticker_becomes_a_quote_with_sizes_close_and_volume():
    at = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    quote = ticker_quote("AAPL", _ticker(bid=189.5, ask=189.6, last=189.55, bidSize=300.0, askSize=200.0, close=188.0, volume=1234567.0, time=at))
    assert quote is not None
    assert (quote.bid, quote.ask, quote.last) == (Decimal("189.5"), Decimal("189.6"), Decimal("189.55"))
    assert (quote.bid_size, quote.ask_size) == (Decimal(300), Decimal(200))
    assert quote.prev_close == Decimal(188) and quote.volume == Decimal(1234567)
    assert quote.timestamp == at


def test_missing_sides_stay_missing_and_an_empty_ticker_is_no_quote():
    # IB marks an absent side with -1 (and ib_insync starts every field at NaN).
    quote = ticker_quote("AAPL", _ticker(bid=-1.0, ask=189.6, askSize=200.0, time=datetime(2026, 1, 5, tzinfo=UTC)))
    assert quote is not None and quote.bid is None and quote.bid_size is None and quote.ask == Decimal("189.6")
    assert ticker_quote("AAPL", _ticker()) is None


@pytest.fixture
async def tws():
    harness = IbkrHarness()
    await harness.start()
    harness.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    harness.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    try:
        yield harness
    finally:
        await harness.stop()


async def _next(stream: QuoteStream) -> dict[str, object]:
    quotes = await asyncio.wait_for(stream.receive(), 5)
    return {q.symbol: q for q in quotes}


async def test_ticks_stream_each_change_until_the_symbol_is_dropped(tws: IbkrHarness):
    broker = tws.connector()
    fake: FakeTws = tws.tws
    try:
        stream = broker.quote_stream()
        assert isinstance(stream, QuoteStream)
        await stream.open()
        await stream.subscribe(frozenset({"AAPL", "MSFT"}))
        seen: dict[str, object] = {}
        while set(seen) != {"AAPL", "MSFT"}:
            seen.update(await _next(stream))
        assert seen["AAPL"].bid == Decimal("189.50") and seen["MSFT"].last == Decimal("410.20")
        assert fake.streamed_symbols() == ["AAPL", "MSFT"]

        fake.push_quote("AAPL", Decimal("189.70"), Decimal("189.80"), Decimal("189.75"))
        update = await _next(stream)
        assert list(update) == ["AAPL"]
        assert (update["AAPL"].bid, update["AAPL"].ask, update["AAPL"].last) == (
            Decimal("189.70"), Decimal("189.80"), Decimal("189.75"),
        )

        await stream.subscribe(frozenset({"MSFT"}))  # cancelMktData for AAPL
        await asyncio.sleep(0.2)
        assert fake.streamed_symbols() == ["MSFT"]
        await stream.close()
        await asyncio.sleep(0.2)
        assert fake.streamed_symbols() == []
    finally:
        await broker.close()


async def test_delayed_ticks_say_so(tws: IbkrHarness):
    # Without a subscription IB sends delayed ticks (66/67/68) after reqMarketDataType 3, as the connector asks.
    tws.tws.set_quote("SPY", Decimal("512.40"), Decimal("512.45"), Decimal("512.42"), live=False)
    broker = tws.connector()
    try:
        stream = broker.quote_stream()
        await stream.open()
        await stream.subscribe(frozenset({"SPY"}))
        spy = (await _next(stream))["SPY"]
        assert stream.delayed and spy.bid == Decimal("512.40")
        await stream.subscribe(frozenset({"SPY", "AAPL"}))
        aapl = await _next(stream)
        assert list(aapl) == ["AAPL"] and not stream.delayed
        await stream.close()
    finally:
        await broker.close()


async def test_a_dropped_connection_ends_the_stream_with_a_reason(tws: IbkrHarness):
    broker = tws.connector()
    try:
        stream = broker.quote_stream()
        await stream.open()
        await stream.subscribe(frozenset({"AAPL"}))
        await _next(stream)
        await tws.tws.pause()
        tws.tws.drop_connections()
        with pytest.raises(StreamDropped, match="TWS"):
            while True:
                await asyncio.wait_for(stream.receive(), 5)
        await stream.close()
    finally:
        await broker.close()
