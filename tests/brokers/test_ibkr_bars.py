"""IBKR bars: reqHistoricalData through the real ib_insync client against the fake TWS, and the pure parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.brokers.base import BrokerUnavailable, Environment
from app.brokers.ibkr.bars import duration, parse_ibkr_bars
from app.brokers.ibkr.connector import IbkrBroker, IbkrTimeouts, ReconnectPolicy
from app.domain.market_calendar import NEW_YORK
from app.domain.models import BarInterval
from tests.fakes.tws import FakeTws

ACCOUNT = "DU1234567"
D = Decimal
OPTION = "AAPL270115C00200000"


@dataclass
class _Row:
    date: object
    open: float
    high: float
    low: float
    close: float
    volume: float


def test_duration_covers_the_range_in_days_then_years():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert duration(start, datetime(2026, 1, 1, 6, tzinfo=UTC)) == "1 D"
    assert duration(start, datetime(2026, 1, 6, tzinfo=UTC)) == "5 D"
    assert duration(start, datetime(2027, 1, 1, tzinfo=UTC)) == "365 D"
    assert duration(start, datetime(2027, 1, 3, tzinfo=UTC)) == "2 Y"  # past a year: whole years, rounded up


def test_parser_reads_daily_and_intraday_rows_and_skips_bad_ones():
    rows = [
        _Row(date(2026, 11, 24), 189.5, 191.25, 188.0, 190.75, 5_000_000.0),
        _Row(datetime(2026, 11, 24, 14, 30, tzinfo=UTC), 189.5, 189.9, 189.4, 189.8, -1.0),
        _Row(None, 1, 1, 1, 1, 1),
        _Row(date(2026, 11, 25), 0.0, 1.0, 1.0, 1.0, 1.0),
    ]
    days = parse_ibkr_bars([rows[0], rows[2], rows[3]], "AAPL", BarInterval.DAY)
    assert [(b.start, b.high, b.volume) for b in days] == [(datetime(2026, 11, 24, tzinfo=NEW_YORK), D("191.25"), D("5000000.0"))]
    (minute,) = parse_ibkr_bars([rows[1]], OPTION, BarInterval.MINUTE)
    assert minute.start == datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK) and minute.volume == 0


@pytest.fixture
async def tws() -> AsyncIterator[FakeTws]:
    fake = FakeTws((ACCOUNT,))
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    first = int(datetime(2026, 11, 24, 14, 30, tzinfo=UTC).timestamp())
    fake.bar_rows[("AAPL", "5 mins")] = [
        (first + 300 * i, 189.5 + i, 190.0 + i, 189.0 + i, 189.75 + i, 12000 + i, 189.6 + i, 40) for i in range(6)
    ]
    fake.bar_rows[("AAPL", "1 day")] = [("20261123", 186.0, 188.5, 185.25, 188.0, 41000000, 187.1, 300000),
                                        ("20261124", 188.0, 190.0, 187.5, 189.55, 39000000, 188.9, 280000)]
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def broker(tws: FakeTws) -> AsyncIterator[IbkrBroker]:
    credentials = {"host": "127.0.0.1", "port": str(tws.port), "client_id": "7", "account": ACCOUNT}
    connector = IbkrBroker(
        credentials, Environment.PAPER, reconnect=ReconnectPolicy(first_delay=0.05, max_delay=0.2),
        timeouts=IbkrTimeouts(connect=3.0, request=3.0, order_ack=2.0, quotes=3.0, reconnect_wait=8.0),
    )
    await connector.verify()
    try:
        yield connector
    finally:
        await connector.close()


async def test_intraday_and_daily_bars_from_the_fake_tws(tws: FakeTws, broker: IbkrBroker):
    end = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    fives = await broker.bars("AAPL", BarInterval.FIVE_MINUTES, datetime(2026, 11, 20, tzinfo=UTC), end)
    assert [b.start for b in fives][:2] == [datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK), datetime(2026, 11, 24, 9, 35, tzinfo=NEW_YORK)]
    assert len(fives) == 6 and (fives[5].open, fives[5].close, fives[5].volume) == (D("194.5"), D("194.75"), D("12005"))
    days = await broker.bars("AAPL", BarInterval.DAY, datetime(2026, 11, 1, tzinfo=UTC), end)
    assert [(b.start, b.close) for b in days] == [
        (datetime(2026, 11, 23, tzinfo=NEW_YORK), D("188.0")), (datetime(2026, 11, 24, tzinfo=NEW_YORK), D("189.55")),
    ]
    requests = [fields for _sender, fields in tws.received if fields and fields[0] == "20"]
    assert [(r[16], r[17], r[19], r[20]) for r in requests] == [("5 mins", "5 D", "TRADES", "2"), ("1 day", "24 D", "TRADES", "2")]


async def test_no_data_and_unknown_symbols_give_no_bars(broker: IbkrBroker):
    # IB answers 162 ("HMDS query returned no data") or 200 (no such contract); ib_insync ends the request empty.
    end = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert await broker.bars("AAPL", BarInterval.HOUR, datetime(2026, 11, 20, tzinfo=UTC), end) == []
    assert await broker.bars("ZZZZ", BarInterval.DAY, datetime(2026, 11, 20, tzinfo=UTC), end) == []
    with pytest.raises(BrokerUnavailable):
        await broker.bars("not a symbol!", BarInterval.DAY, datetime(2026, 11, 20, tzinfo=UTC), end)
