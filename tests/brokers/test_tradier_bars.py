"""Tradier bars: history and timesales parsers on their bodies, and the connector against the fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.brokers.tradier.bars import parse_tradier_history, parse_tradier_timesales
from app.domain.market_calendar import NEW_YORK
from app.domain.models import BarInterval
from tests.brokers.tradier_support import broker, harness  # noqa: F401 - fixtures
from tests.fakes.tradier import TradierHarness

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tradier"
D = Decimal


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_history_days_one_or_many_or_none():
    many = parse_tradier_history(_fixture("history_daily_many.json"), "AAPL")
    assert [b.start for b in many] == [datetime(2019, 1, d, tzinfo=NEW_YORK) for d in (2, 3, 4)]
    assert (many[2].open, many[2].high, many[2].low, many[2].close, many[2].volume) == (
        D("144.53"), D("148.5499"), D("143.8"), D("148.26"), D("58607070"),
    )
    one = parse_tradier_history(_fixture("history_daily_one_object.json"), "AAPL")
    assert len(one) == 1 and one[0].close == D("157.92")
    assert parse_tradier_history(_fixture("history_null.json"), "AAPL") == []
    assert parse_tradier_history({"history": "null"}, "AAPL") == []


def test_timesales_rows_start_at_their_timestamp():
    bars = parse_tradier_timesales(_fixture("timesales_1min_many.json"), "AAPL", BarInterval.MINUTE)
    assert [b.start for b in bars] == [datetime(2019, 5, 9, 9, m, tzinfo=NEW_YORK) for m in (30, 31, 32)]
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (
        D("200.4"), D("200.63"), D("200.33"), D("200.55"), D("212436"),
    )
    assert parse_tradier_timesales({"series": None}, "AAPL", BarInterval.MINUTE) == []


async def test_connector_reads_daily_history(harness: TradierHarness, broker):  # noqa: F811
    harness.fake.history_rows["AAPL"] = _fixture("history_daily_many.json")["history"]["day"]
    bars = await broker.bars("AAPL", BarInterval.DAY, datetime(2019, 1, 3, 15, tzinfo=UTC), datetime(2019, 1, 10, tzinfo=UTC))
    assert [b.start.day for b in bars] == [3, 4]
    request = next(r for r in harness.server.requests if r.path == "/v1/markets/history")
    assert (request.arg("interval"), request.arg("start"), request.arg("end")) == ("daily", "2019-01-03", "2019-01-09")


async def test_connector_builds_hour_bars_from_fifteen_minute_timesales(harness: TradierHarness, broker):  # noqa: F811
    start = datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK)
    harness.fake.timesales_rows[("AAPL", "15min")] = [
        {"time": f"{(start + timedelta(minutes=15 * i)):%Y-%m-%dT%H:%M:%S}",
         "timestamp": int((start + timedelta(minutes=15 * i)).timestamp()),
         "price": 100 + i, "open": 100 + i, "high": 101 + i, "low": 99 + i, "close": 100.5 + i, "volume": 1000, "vwap": 100}
        for i in range(6)
    ]
    bars = await broker.bars("AAPL", BarInterval.HOUR, start - timedelta(hours=1), start + timedelta(hours=3))
    # 09:30-10:00 is the 09:00 clock hour, 10:00-11:00 the 10:00 one.
    assert [b.start.hour for b in bars] == [9, 10]
    nine, ten = bars
    assert (nine.open, nine.high, nine.close, nine.volume) == (D("100"), D("102"), D("101.5"), D("2000"))
    assert (ten.open, ten.low, ten.close, ten.volume) == (D("102"), D("101"), D("105.5"), D("4000"))
    request = next(r for r in harness.server.requests if r.path == "/v1/markets/timesales")
    assert (request.arg("interval"), request.arg("start"), request.arg("session_filter")) == ("15min", "2026-11-24 08:30", "all")
    assert ten.start == datetime(2026, 11, 24, 10, tzinfo=NEW_YORK)
