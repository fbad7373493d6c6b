"""Day P&L and % change from the previous close: overnight holdings, today's trades, positions closed today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.day_change import (
    Trade,
    TodayTrades,
    account_day_change,
    day_start,
    position_day_change,
    position_day_pnl,
    price_change_percent,
    trading_day,
)
from app.domain.models import Fill, Side

ONE = Decimal(1)
D = Decimal
# 10:30 in New York on Tuesday 24 November 2026.
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def _fill(symbol: str, side: Side, qty: str, price: str, at: datetime = NOW) -> Fill:
    return Fill(f"C-{symbol}-{at.timestamp()}", symbol, side, D(qty), D(price), D(0), at, f"{symbol}@{qty}@{at}")


def test_a_position_held_overnight_moves_with_the_price_from_the_close() -> None:
    change = position_day_change(D(10), ONE, D("105"), D("100"))
    assert change is not None
    assert change.pnl == D("50") and change.percent == D("5")


def test_a_short_position_gains_when_the_price_falls() -> None:
    change = position_day_change(D(-10), ONE, D("95"), D("100"))
    assert change is not None and change.pnl == D("50") and change.percent == D("-5")


def test_shares_bought_today_count_from_their_price_not_the_close() -> None:
    # 10 held overnight (close 100), 5 more bought today at 104; now 105.
    pnl = position_day_pnl(D(15), ONE, D("105"), D("100"), [Trade(D(5), D("104"))])
    assert pnl == D("50") + D("5")


def test_a_position_opened_today_needs_no_previous_close() -> None:
    assert position_day_pnl(D(5), ONE, D("105"), None, [Trade(D(5), D("104"))]) == D("5")


def test_a_position_closed_today_keeps_its_day_without_a_mark() -> None:
    # Held 10 overnight from a 100 close, sold them today at 103: the day made 30.
    assert position_day_pnl(D(0), ONE, None, D("100"), [Trade(D(-10), D("103"))]) == D("30")
    # A round trip today: bought at 100, sold at 101.
    assert position_day_pnl(D(0), ONE, None, None, [Trade(D(10), D("100")), Trade(D(-10), D("101"))]) == D("10")


def test_options_count_their_multiplier() -> None:
    assert position_day_pnl(D(2), D(100), D("1.50"), D("1.20")) == D("60")


def test_unknown_when_a_held_position_has_no_mark_or_no_close() -> None:
    assert position_day_change(D(10), ONE, None, D("100")) is None
    assert position_day_change(D(10), ONE, D("101"), None) is None
    assert price_change_percent(D("101"), D(0)) is None


def test_the_account_day_is_the_sum_as_a_percent_of_the_equity_at_the_close() -> None:
    day = account_day_change([D("50"), D("-20")], equity=D("10030"))
    assert day is not None and day.pnl == D("30") and day.percent == D("0.3")
    assert account_day_change([D("50"), None], equity=D("10030")) is None
    flat = account_day_change([], equity=D("10000"))
    assert flat is not None and flat.pnl == 0 and flat.percent == 0


@given(
    overnight=st.integers(-500, 500),
    trades=st.lists(st.tuples(st.integers(-300, 300).filter(bool), st.integers(1, 50_000)), max_size=8),
    prev=st.integers(1, 50_000),
    mark=st.integers(1, 50_000),
    multiplier=st.sampled_from([ONE, D(100)]),
)
def test_day_pnl_is_value_now_less_value_at_the_close_less_cash_spent_today(overnight, trades, prev, mark, multiplier):
    cents = D("0.01")
    today = [Trade(D(q), D(p) * cents) for q, p in trades]
    quantity = D(overnight) + sum((t.quantity for t in today), D(0))
    close, now = D(prev) * cents, D(mark) * cents
    spent = sum((t.quantity * t.price for t in today), D(0))
    expected = (quantity * now - D(overnight) * close - spent) * multiplier
    assert position_day_pnl(quantity, multiplier, now, close, today) == expected
    if quantity == 0:
        assert position_day_pnl(quantity, multiplier, None, close, today) == expected


def test_today_is_the_new_york_day_and_yesterdays_trades_are_dropped() -> None:
    late_evening = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 22:00 on the 24th in New York
    assert trading_day(late_evening) == date(2026, 11, 24)
    assert day_start(NOW) == datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    today = TodayTrades(trading_day(NOW))
    today.add([_fill("AAPL", Side.BUY, "3", "100"), _fill("AAPL", Side.SELL, "1", "101"), _fill("MSFT", Side.BUY, "1", "400")])
    assert today.of("AAPL") == (Trade(D(3), D(100)), Trade(D(-1), D(101)))
    assert today.symbols() == {"AAPL", "MSFT"}
    today.add([_fill("AAPL", Side.BUY, "1", "99", NOW - timedelta(days=1))])
    assert len(today.of("AAPL")) == 2
    today.roll(NOW + timedelta(days=1))
    assert today.symbols() == frozenset() and today.of("AAPL") == ()
