"""The account-history parsers (Alpaca portfolio history, Tastytrade net-liq history) on documented payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.brokers.alpaca.connector import history_period
from app.brokers.alpaca.parse import AlpacaParseError, parse_alpaca_portfolio_history
from app.brokers.tastytrade.parse import items_of, parse_net_liq_history

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
D = Decimal


def load(broker: str, name: str) -> Any:
    return json.loads((FIXTURES / broker / name).read_text(encoding="utf-8"))


def test_alpaca_daily_history_skips_the_days_before_funding() -> None:
    points = parse_alpaca_portfolio_history(load("alpaca", "portfolio_history_1d_with_nulls.json"))
    assert [(p.at, p.equity) for p in points] == [
        (datetime(2025, 11, 26, 5, tzinfo=UTC), D("25000")),
        (datetime(2025, 11, 28, 5, tzinfo=UTC), D("25312.47")),
        (datetime(2025, 12, 1, 5, tzinfo=UTC), D("24870.11")),
        (datetime(2025, 12, 2, 5, tzinfo=UTC), D("25590.8")),
    ]
    assert all(p.cash is None for p in points)


def test_alpaca_intraday_history_keeps_every_window() -> None:
    points = parse_alpaca_portfolio_history(load("alpaca", "portfolio_history_15min_intraday.json"))
    assert [p.at for p in points] == [datetime(2025, 12, 1, 14, 30, tzinfo=UTC) + timedelta(minutes=15 * i) for i in range(4)]
    assert [p.equity for p in points] == [D("24870.11"), D("24901.5"), D("24888.02"), D("24950")]


@pytest.mark.parametrize(
    "raw, problem",
    [
        ([], "not an object"),
        ({"timestamp": [1, 2], "equity": [1]}, "2 times for 1 equity"),
        ({"timestamp": "x", "equity": []}, "not lists"),
        ({"timestamp": ["soon"], "equity": [1]}, "not a unix time"),
        ({"timestamp": [1], "equity": ["lots"]}, "not a number"),
    ],
)
def test_alpaca_history_in_another_shape_is_refused(raw: Any, problem: str) -> None:
    with pytest.raises(AlpacaParseError, match=problem):
        parse_alpaca_portfolio_history(raw)


def test_an_empty_alpaca_history_has_no_points() -> None:
    assert parse_alpaca_portfolio_history({"timestamp": [], "equity": [], "timeframe": "1D"}) == []


equities = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=4_000_000_000), equities), max_size=40))
def test_alpaca_history_is_every_funded_time_once_oldest_first(rows: list[tuple[int, Decimal | None]]) -> None:
    raw = {"timestamp": [t for t, _ in rows], "equity": [None if e is None else float(e) for _, e in rows]}
    points = parse_alpaca_portfolio_history(raw)
    expected: dict[int, Decimal] = {}
    for stamp, equity in rows:
        if equity is not None:
            expected[stamp] = Decimal(repr(float(equity)))
    assert [(int(p.at.timestamp()), p.equity) for p in points] == sorted(expected.items())


def test_tastytrade_net_liq_history_is_the_close_of_each_candle() -> None:
    points = parse_net_liq_history(items_of(load("tastytrade", "net_liq_history_dasherized.json")))
    assert [(p.at, p.equity) for p in points] == [
        (datetime(2026, 11, 24, 21, tzinfo=UTC), D("10210.5")),
        (datetime(2026, 11, 25, 21, tzinfo=UTC), D("10044.75")),
        (datetime(2026, 11, 27, 18, tzinfo=UTC), D("10388.0")),
    ]


def test_tastytrade_camel_case_keys_read_the_same() -> None:
    dashed = parse_net_liq_history(items_of(load("tastytrade", "net_liq_history_dasherized.json")))
    camel = parse_net_liq_history(items_of(load("tastytrade", "net_liq_history_camel_case.json")))
    assert [(p.at, p.equity) for p in camel] == [(p.at, p.equity) for p in dashed[:2]]


def test_tastytrade_candles_without_time_or_close_are_no_points() -> None:
    items = [{"close": "1", "time": ""}, {"close": None, "time": "2026-11-24T21:00:00Z"}, {"close": "5", "time": "2026-11-24T21:00:00Z"}]
    assert [(p.at, p.equity) for p in parse_net_liq_history(items)] == [(datetime(2026, 11, 24, 21, tzinfo=UTC), D("5"))]


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(st.lists(st.tuples(moments, st.decimals(min_value=-10**6, max_value=10**9, places=2)), max_size=30))
def test_tastytrade_history_is_sorted_with_one_point_per_time(rows: list[tuple[datetime, Decimal]]) -> None:
    items = [{"time": at.isoformat(), "close": str(value)} for at, value in rows]
    points = parse_net_liq_history(items)
    expected = dict(rows)
    assert [(p.at, p.equity) for p in points] == sorted(expected.items())


@pytest.mark.parametrize(
    "days, period",
    [(0, "1W"), (7, "1W"), (8, "1M"), (31, "1M"), (32, "3M"), (92, "3M"), (183, "6M"), (184, "1A"), (365, "1A"), (366, "2A")],
)
def test_alpaca_history_period_is_the_shortest_reaching_back_far_enough(days: int, period: str) -> None:
    now = datetime(2026, 12, 4, 15, tzinfo=UTC)
    assert history_period(now - timedelta(days=days), now) == period
