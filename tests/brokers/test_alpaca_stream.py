"""Alpaca's market-data stream: documented messages parse, the connector's stream against the loopback fake,
and alpaca-py's own StockDataStream against the same fake (so the fake speaks what the real client expects)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgpack
import pytest

from app.brokers.alpaca.parse import StreamRefused, apply_stream_message, check_stream_control, stream_messages, stream_time
from app.brokers.alpaca.stream import AlpacaQuoteStream, stream_url
from app.brokers.streaming import StreamDropped
from tests.fakes.alpaca_stream import FakeAlpacaStream

AT = datetime(2026, 11, 24, 15, 30, 1, 250000, tzinfo=UTC)
RECORDED = json.loads((Path(__file__).parent.parent / "fixtures" / "alpaca" / "stream_messages_alpaca_py.json").read_text())


def _frame(*messages: dict) -> bytes:
    """Messages as the stream sends them: one msgpack frame, times as msgpack Timestamps."""
    def wire(message: dict) -> dict:
        stamp = message.get("t")
        if isinstance(stamp, dict):
            return {**message, "t": msgpack.Timestamp(*stamp["msgpack_timestamp"])}
        return message
    return msgpack.packb([wire(m) for m in messages], datetime=False)


def test_recorded_quote_and_trade_fold_into_one_quote():
    (quote_message, trade_message) = stream_messages(_frame(RECORDED["quote"], {**RECORDED["trade"], "S": "SPIP"}))
    quote = apply_stream_message(None, quote_message)
    assert quote is not None and quote.symbol == "SPIP"
    assert (quote.bid, quote.ask, quote.last) == (Decimal("25.41"), Decimal("25.43"), None)
    assert (quote.bid_size, quote.ask_size) == (Decimal(35), Decimal(35))
    assert quote.timestamp == datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)  # Timestamp(10 s, 10 ns): below a microsecond
    traded = apply_stream_message(quote, trade_message)
    assert traded is not None and traded.last == Decimal("177.79") and traded.bid == Decimal("25.41")
    assert apply_stream_message(None, stream_messages(_frame(RECORDED["bar"]))[0]) is None


def test_recorded_control_frames():
    assert stream_messages(_frame(*RECORDED["connected"])) == RECORDED["connected"]
    assert stream_messages(json.dumps(RECORDED["authenticated"])) == RECORDED["authenticated"]
    for name, code in (("auth_failed", 402), ("insufficient_subscription", 409)):
        with pytest.raises(StreamRefused) as refused:
            check_stream_control(stream_messages(_frame(*RECORDED[name]))[0])
        assert refused.value.code == code
    assert apply_stream_message(None, {"T": "subscription", "quotes": ["AAPL"]}) is None


def test_text_frames_carry_rfc3339_times_with_nanoseconds():
    (message,) = stream_messages('[{"T": "t", "S": "AAPL", "p": 189.55, "s": 100, "t": "2026-11-24T15:30:01.250000123Z"}]')
    assert stream_time(message["t"]) == AT
    assert apply_stream_message(None, message).last == Decimal("189.55")


def test_the_stream_address_follows_an_overridden_base_url():
    assert stream_url(None) == "wss://stream.data.alpaca.markets/v2/iex"
    assert stream_url("http://127.0.0.1:8765") == "ws://127.0.0.1:8765/v2/iex"
    assert stream_url("https://proxy.example/alpaca") == "wss://proxy.example/v2/iex"


@pytest.fixture
async def fake():
    server = await FakeAlpacaStream().start()
    try:
        yield server
    finally:
        await server.stop()


def _stream(fake: FakeAlpacaStream, secret: str | None = None) -> AlpacaQuoteStream:
    return AlpacaQuoteStream(fake.url, fake.key_id, secret or fake.secret, open_timeout=3)


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met"
        await asyncio.sleep(0.01)


async def test_quotes_and_trades_stream_for_the_subscribed_stocks(fake: FakeAlpacaStream):
    stream = _stream(fake)
    assert stream.serves("AAPL") and not stream.serves("AAPL270115C00200000")
    await stream.open()
    try:
        await stream.subscribe(frozenset({"AAPL", "MSFT"}))
        await _until(lambda: fake.subscriptions("quotes") == {"AAPL", "MSFT"} == fake.subscriptions("trades"))
        assert fake.received[0] == {"action": "auth", "key": fake.key_id, "secret": fake.secret}
        assert fake.received[1] == {"action": "subscribe", "quotes": ["AAPL", "MSFT"], "trades": ["AAPL", "MSFT"]}

        await fake.push_quote("AAPL", Decimal("189.50"), Decimal("189.60"), AT)
        (quote,) = await asyncio.wait_for(stream.receive(), 5)
        assert (quote.symbol, quote.bid, quote.ask, quote.bid_size, quote.timestamp) == ("AAPL", Decimal("189.5"), Decimal("189.6"), Decimal(3), AT)
        await fake.push_trade("AAPL", Decimal("189.55"), AT)
        (quote,) = await asyncio.wait_for(stream.receive(), 5)
        assert (quote.bid, quote.last) == (Decimal("189.5"), Decimal("189.55"))

        await stream.subscribe(frozenset({"MSFT"}))
        await _until(lambda: fake.subscriptions("quotes") == {"MSFT"})
        assert fake.received[-1] == {"action": "unsubscribe", "quotes": ["AAPL"], "trades": ["AAPL"]}
    finally:
        await stream.close()


async def test_wrong_keys_and_a_second_connection_are_refused_in_trader_words(fake: FakeAlpacaStream):
    with pytest.raises(StreamDropped, match="refused the market-data stream's keys"):
        await _stream(fake, secret="wrong").open()
    first = _stream(fake)
    await first.open()
    try:
        with pytest.raises(StreamDropped, match="one market-data stream per account"):
            await _stream(fake).open()
    finally:
        await first.close()


async def test_a_dropped_connection_ends_the_stream(fake: FakeAlpacaStream):
    stream = _stream(fake)
    await stream.open()
    await stream.subscribe(frozenset({"AAPL"}))
    await fake.drop_connections()
    with pytest.raises(StreamDropped, match="closed"):
        await asyncio.wait_for(stream.receive(), 5)
    await stream.close()
    await fake.pause()
    with pytest.raises(StreamDropped, match="could not be opened"):
        await stream.open()


# alpaca-py's streams import websockets.legacy, which websockets 14+ marks deprecated (see app/brokers/alpaca/sdk.py).
@pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated:DeprecationWarning")
def test_alpaca_py_own_stream_client_talks_to_the_fake():
    """alpaca-py's StockDataStream (its own loop, in a thread, as it is meant to run) against the fake."""
    from alpaca.data.live.stock import StockDataStream

    loop = asyncio.new_event_loop()
    fake = FakeAlpacaStream()
    loop.run_until_complete(fake.start())
    serving = threading.Thread(target=loop.run_forever, daemon=True)
    serving.start()
    got: list[object] = []
    client = StockDataStream(fake.key_id, fake.secret, url_override=fake.url)

    async def on_quote(quote: object) -> None:
        got.append(quote)

    client.subscribe_quotes(on_quote, "AAPL")
    runner = threading.Thread(target=client.run, daemon=True)
    runner.start()
    try:
        for _ in range(500):
            if fake.subscriptions("quotes") == {"AAPL"}:
                break
            threading.Event().wait(0.01)
        assert fake.received[:2] == [
            {"action": "auth", "key": fake.key_id, "secret": fake.secret},
            {"action": "subscribe", "quotes": ["AAPL"]},
        ]
        asyncio.run_coroutine_threadsafe(fake.push_quote("AAPL", Decimal("189.50"), Decimal("189.60"), AT), loop).result(5)
        for _ in range(500):
            if got:
                break
            threading.Event().wait(0.01)
        (quote,) = got
        assert quote.symbol == "AAPL" and quote.bid_price == 189.5 and quote.ask_price == 189.6
        assert quote.timestamp == AT
    finally:
        client.stop()
        runner.join(10)
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        serving.join(5)
        loop.close()
