"""Alpaca bars: the parser on recorded bodies, and the connector against the fake's /v2/stocks/{symbol}/bars."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.brokers.alpaca.bars import AlpacaBarsError, parse_alpaca_bars
from app.brokers.alpaca.connector import AlpacaBroker
from app.brokers.base import AuthError, BrokerUnavailable, Environment
from app.domain.market_calendar import NEW_YORK
from app.domain.models import BarInterval
from tests.fakes.alpaca import FakeAlpaca

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alpaca"
D = Decimal


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_day_bars_start_at_midnight_new_york_and_carry_the_page_token():
    bars, token = parse_alpaca_bars(_fixture("data_bars_single_symbol_day.json"), "AAPL", BarInterval.DAY)
    assert [b.start for b in bars] == [datetime(2022, 2, 1, tzinfo=NEW_YORK), datetime(2022, 2, 2, tzinfo=NEW_YORK)]
    first = bars[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (D("174"), D("174.84"), D("172.31"), D("174.61"), D("85998033"))
    assert token == "QUFQTHxEfDIwMjItMDItMDJUMDU6MDA6MDAuMDAwMDAwMDAwWg=="


def test_descending_pages_come_back_oldest_first_and_null_bars_are_none():
    bars, _ = parse_alpaca_bars(_fixture("data_bars_single_symbol_desc.json"), "TSLA", BarInterval.DAY)
    assert [b.start.day for b in bars] == [25, 26, 27]
    assert bars[-1].close == D("240.5")
    assert parse_alpaca_bars(_fixture("data_bars_single_symbol_null.json"), "AAPL", BarInterval.DAY) == ([], None)


@pytest.mark.parametrize(
    "body",
    [{"bars": {"AAPL": []}}, {"bars": [{"t": "yesterday", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1}]},
     {"bars": [{"t": "2022-02-01T05:00:00Z", "o": "NaN", "h": 1, "l": 1, "c": 1, "v": 1}]}],
)
def test_unreadable_pages_are_refused(body):
    with pytest.raises(AlpacaBarsError):
        parse_alpaca_bars(body, "AAPL", BarInterval.DAY)


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    server = FakeAlpaca().start()
    start = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    server.bar_rows[("AAPL", "5Min")] = [
        {"t": (start + timedelta(minutes=5 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "o": 100 + i, "h": 101 + i,
         "l": 99 + i, "c": 100.5 + i, "v": 1000 * (i + 1), "n": 10, "vw": 100.2 + i}
        for i in range(25_000 // 1000)
    ]
    try:
        yield server
    finally:
        server.stop()


def _broker(fake: FakeAlpaca, secret: str | None = None) -> AlpacaBroker:
    credentials = {"api_key_id": fake.key_id, "api_secret_key": secret or fake.secret_key}
    return AlpacaBroker(credentials, Environment.PAPER, base_url=fake.url, timeout=(2.0, 3.0))


async def test_connector_reads_bars_page_by_page(fake: FakeAlpaca, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("app.brokers.alpaca.bars.PAGE_LIMIT", 10)
    broker = _broker(fake)
    try:
        bars = await broker.bars(
            "aapl", BarInterval.FIVE_MINUTES, datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
        )
    finally:
        await broker.close()
    assert len(bars) == 25
    assert bars[0].start == datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK)
    assert (bars[3].open, bars[3].close, bars[3].volume) == (D("103"), D("103.5"), D("4000"))
    requests = [r for r in fake.server.requests if r.path == "/v2/stocks/AAPL/bars"]
    assert [r.arg("page_token") for r in requests] == [None, "10", "20"]
    assert {r.arg("timeframe") for r in requests} == {"5Min"} and {r.arg("feed") for r in requests} == {"iex"}
    assert requests[0].arg("start") == "2026-11-24T00:00:00Z"


async def test_connector_bars_errors_speak_to_the_trader(fake: FakeAlpaca):
    broker = _broker(fake, secret="wrong")
    try:
        with pytest.raises(AuthError, match="market-data request"):
            await broker.bars("AAPL", BarInterval.DAY, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    finally:
        await broker.close()
    broker = _broker(fake)
    try:
        with pytest.raises(BrokerUnavailable, match="stocks and ETFs only"):
            await broker.bars("AAPL270115C00200000", BarInterval.DAY, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
        assert await broker.bars("MSFT", BarInterval.DAY, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) == []
    finally:
        await broker.close()
    with pytest.raises(BrokerUnavailable, match="closed"):
        await broker.bars("AAPL", BarInterval.DAY, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
