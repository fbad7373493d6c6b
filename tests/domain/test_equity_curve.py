"""The equity curve from a journal: exact cash, equity at each close, drawdown from the running peak."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.equity_curve import EquityPoint, drawdowns, end_of_day_curve, max_drawdown
from app.domain.models import Fill, Side

D = Decimal
START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 New York


def _fill(at: datetime, symbol: str, side: Side, qty: str, price: str, fee: str = "0") -> Fill:
    return Fill("coid", symbol, side, D(qty), D(price), D(fee), at)


def test_cash_and_equity_at_each_close():
    fills = [
        _fill(datetime(2026, 11, 23, 16, 0, tzinfo=UTC), "AAPL", Side.BUY, "10", "100", "1"),
        _fill(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), "AAPL270115C00200000", Side.BUY, "2", "1.50", "1.30"),
        _fill(datetime(2026, 11, 25, 16, 0, tzinfo=UTC), "AAPL", Side.SELL, "4", "110", "1"),
        # After Wednesday's close: it belongs to Friday's point.
        _fill(datetime(2026, 11, 25, 22, 0, tzinfo=UTC), "MSFT", Side.BUY, "1", "400"),
    ]
    closes = {("AAPL", date(2026, 11, 23)): D("101"), ("AAPL", date(2026, 11, 25)): D("112")}
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday again, before the close
    points = end_of_day_curve(D("10000"), START, fills, closes, now)
    # Thanksgiving (26 Nov) has no session; Friday 27 Nov closes early at 13:00 New York.
    assert [p.at for p in points] == [
        START,
        datetime(2026, 11, 23, 21, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 21, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 21, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 18, 0, tzinfo=UTC),
    ]
    assert [p.cash for p in points] == [D("10000"), D("8999"), D("8697.70"), D("9136.70"), D("8736.70")]
    assert [p.equity for p in points] == [
        D("10000"),
        D("8999") + 10 * D("101"),  # the cached close
        D("8697.70") + 10 * D("100") + 2 * D("1.50") * 100,  # no close cached: last fill prices
        D("9136.70") + 6 * D("112") + 300,
        D("8736.70") + 6 * D("110") + 300 + 400,  # no close for Friday: AAPL's last fill, 110
    ]


def test_fills_before_a_reset_are_not_counted():
    old = _fill(datetime(2026, 11, 20, 16, 0, tzinfo=UTC), "AAPL", Side.BUY, "10", "100")
    points = end_of_day_curve(D("5000"), START, [old], {}, datetime(2026, 11, 23, 22, 0, tzinfo=UTC))
    assert [(p.cash, p.equity) for p in points] == [(D("5000"), D("5000")), (D("5000"), D("5000"))]


def test_drawdown_from_the_running_peak():
    values = ["100", "120", "90", "130", "117"]
    points = [EquityPoint(START, D(v), D(v)) for v in values]
    assert drawdowns(points) == [D(0), D(0), D("-0.25"), D(0), D("-0.1")]
    assert max_drawdown(points) == (D("-0.25"), D("-30"))


@given(st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=50))
def test_drawdown_is_never_positive_and_zero_at_each_new_high(values):
    points = [EquityPoint(START, D(v), D(v)) for v in values]
    falls = drawdowns(points)
    assert all(f <= 0 for f in falls)
    peak = 0
    for value, fall in zip(values, falls):
        if value >= peak:
            assert fall == 0
        peak = max(peak, value)
    assert max_drawdown(points)[0] == min(falls)
