"""Keyless bars from Cboe's chart files: the parsers on the fixtures, and the source against the fake CDN."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.market_calendar import NEW_YORK
from app.domain.models import BarInterval
from app.marketdata.bars import BarsUnavailable
from app.marketdata.cboe_bars import CboeDelayedBars, parse_cboe_daily, parse_cboe_intraday
from tests.fakes.cboe import FakeCboe
from tests.marketdata.conftest import fixture_json

D = Decimal
EARLY = datetime(2000, 1, 1, tzinfo=NEW_YORK)
LATE = datetime(2100, 1, 1, tzinfo=NEW_YORK)


def test_daily_rows_become_day_bars_starting_at_midnight_new_york():
    bars = parse_cboe_daily(fixture_json("charts_historical_AAPL.json"), "AAPL")
    assert len(bars) == 30  # the all-zero row is skipped
    last = bars[-1]
    assert last.start == datetime(2024, 6, 26, tzinfo=NEW_YORK)
    assert (last.open, last.high, last.low, last.close, last.volume) == (D("211.50"), D("214.86"), D("210.64"), D("213.25"), D("66213186.0"))
    assert [b.start for b in bars] == sorted(b.start for b in bars)
    assert all(b.interval is BarInterval.DAY and b.low <= min(b.open, b.close) for b in bars)


def test_intraday_rows_are_labelled_by_their_end_minute():
    bars = parse_cboe_intraday(fixture_json("charts_intraday_AAPL.json"), "AAPL")
    assert len(bars) == 30
    first = bars[0]
    assert first.start == datetime(2024, 6, 26, 9, 30, tzinfo=NEW_YORK)
    assert (first.open, first.high, first.low, first.close, first.volume) == (D("211.5"), D("211.71"), D("211.49"), D("211.59"), D("573170"))


def test_unreadable_rows_are_skipped_never_guessed():
    raw = {"data": [
        {"date": "2024-06-26", "open": "1", "high": "0.5", "low": "1", "close": "1", "volume": "1"},  # high below open
        {"date": "not a date", "open": "1", "high": "1", "low": "1", "close": "1"},
        {"date": "2024-06-27", "open": "1", "high": "2", "low": "0.5", "close": "1.5"},  # no volume: zero
        "junk",
    ]}
    bars = parse_cboe_daily(raw, "AAPL")
    assert [(b.start.day, b.volume) for b in bars] == [(27, D(0))]
    assert parse_cboe_daily({"data": "nope"}, "AAPL") == []
    assert parse_cboe_intraday({}, "AAPL") == []


async def test_source_serves_daily_and_intraday_bars(cboe: FakeCboe):
    cboe.serve_fixture("/charts/historical/AAPL.json", "charts_historical_AAPL.json")
    cboe.serve_fixture("/charts/intraday/AAPL.json", "charts_intraday_AAPL.json")
    source = CboeDelayedBars(base_url=cboe.base_url)
    try:
        days = await source.bars("aapl", BarInterval.DAY, datetime(2024, 6, 20, tzinfo=NEW_YORK), LATE)
        assert [b.start.day for b in days] == [20, 21, 24, 25, 26]
        fives = await source.bars("AAPL", BarInterval.FIVE_MINUTES, EARLY, LATE)
        minutes = await source.bars("AAPL", BarInterval.MINUTE, EARLY, LATE)
        hours = await source.bars("AAPL", BarInterval.HOUR, EARLY, LATE)
    finally:
        await source.close()
    assert len(minutes) == 30 and len(fives) == 6
    assert fives[0].start == datetime(2024, 6, 26, 9, 30, tzinfo=NEW_YORK)
    assert fives[0].high == max(m.high for m in minutes[:5]) and fives[0].close == minutes[4].close
    assert sum(f.volume for f in fives) == sum(m.volume for m in minutes)
    # 09:30-10:00 is one clock hour, labelled 09:00 as the brokers label hour bars.
    assert [h.start for h in hours] == [datetime(2024, 6, 26, 9, tzinfo=NEW_YORK)]
    assert hours[0].open == minutes[0].open and hours[0].close == minutes[-1].close
    assert {request.path for request in cboe.server.requests} == {
        "/api/global/delayed_quotes/charts/historical/AAPL.json",
        "/api/global/delayed_quotes/charts/intraday/AAPL.json",
    }


async def test_unknown_symbols_options_and_failures(cboe: FakeCboe):
    source = CboeDelayedBars(base_url=cboe.base_url)
    try:
        assert await source.bars("ZZZZ", BarInterval.DAY, EARLY, LATE) == []
        with pytest.raises(BarsUnavailable, match="no charts for options"):
            await source.bars("AAPL270115C00200000", BarInterval.DAY, EARLY, LATE)
        cboe.fail = "error"
        with pytest.raises(BarsUnavailable, match="503"):
            await source.bars("AAPL", BarInterval.DAY, EARLY, LATE)
        cboe.fail = None
        cboe.serve("/charts/historical/SPY.json", b"<html>")
        with pytest.raises(BarsUnavailable, match="could not be read"):
            await source.bars("SPY", BarInterval.DAY, EARLY, LATE)
    finally:
        await source.close()
    assert cboe.hits["/charts/historical/ZZZZ.json"] == 1
    assert not any("options" in path for path in cboe.hits)


async def test_index_charts_use_the_underscore_file(cboe: FakeCboe):
    cboe.serve_fixture("/charts/historical/_SPX.json", "charts_historical_AAPL.json")
    source = CboeDelayedBars(base_url=cboe.base_url)
    try:
        bars = await source.bars("SPX", BarInterval.DAY, EARLY, LATE + timedelta(days=1))
    finally:
        await source.close()
    assert bars and all(b.symbol == "SPX" for b in bars)
