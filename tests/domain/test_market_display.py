"""Readable option names, quote freshness by a controlled clock, the ticket's cost estimate and watchlist edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.models import OptionRight, Quote, Side
from app.domain.quote_age import describe_age, freshness
from app.domain.symbol_display import describe_symbol, symbol_tooltip
from app.domain.symbols import SymbolError, option_symbol
from app.domain.ticket_estimate import estimate_cost
from app.domain.watchlists import WatchlistError, Watchlists

# Tuesday 24 November 2026: 10:30 New York (open) and 18:00 New York (after the close).
OPEN = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
EVENING = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def test_options_read_as_underlying_expiry_strike_and_right():
    assert describe_symbol("AAPL270115C00200000") == "AAPL 15 Jan 27 200 C"
    assert describe_symbol("AAPL  270115C00200000") == "AAPL 15 Jan 27 200 C"
    assert describe_symbol("SPXW261218P05912500") == "SPXW 18 Dec 26 5912.5 P"
    assert describe_symbol("AAPL") == "AAPL"
    assert describe_symbol("not a symbol") == "not a symbol"
    assert symbol_tooltip("AAPL270115C00200000") == "OCC AAPL270115C00200000"
    assert symbol_tooltip("AAPL") == ""


@given(
    root=st.from_regex(r"[A-Z]{1,5}", fullmatch=True),
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    right=st.sampled_from(list(OptionRight)),
    millis=st.integers(min_value=1, max_value=99_999_999),
)
def test_every_option_name_carries_its_parts(root: str, expiry: date, right: OptionRight, millis: int):
    strike = Decimal(millis) / 1000
    occ = option_symbol(root, expiry, right, strike)
    words = describe_symbol(occ).split()
    assert words[0] == root and words[-1] == right.value
    assert words[1:4] == [str(expiry.day), expiry.strftime("%b"), expiry.strftime("%y")]
    assert Decimal(words[4]) == strike


def test_stale_during_the_session_after_the_setting():
    assert not freshness(OPEN - timedelta(seconds=30), OPEN).stale
    late = freshness(OPEN - timedelta(seconds=31), OPEN)
    assert late.stale and late.age_text == "31 s"
    assert not freshness(OPEN - timedelta(seconds=50), OPEN, stale_after=timedelta(minutes=1)).stale


def test_after_the_close_the_closing_quote_is_current_and_older_ones_are_stale():
    close = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert not freshness(close - timedelta(seconds=1), EVENING).stale
    yesterday = freshness(close - timedelta(days=1), EVENING)
    assert yesterday.stale and yesterday.age_text == "1 d"


def test_ages_read_in_the_largest_whole_unit():
    assert [describe_age(timedelta(seconds=s)) for s in (0, 59, 60, 3599, 3600, 86399, 86400)] == [
        "0 s", "59 s", "1 min", "59 min", "1 h", "23 h", "1 d",
    ]


def _quote(symbol: str = "AAPL") -> Quote:
    return Quote(symbol, bid=Decimal("189.50"), ask=Decimal("189.60"), last=Decimal("189.55"), timestamp=OPEN)


def test_estimate_uses_the_price_the_order_would_take():
    market_buy = estimate_cost(symbol="aapl", side="buy", quantity="10", order_type="market", quote=_quote())
    assert market_buy is not None and market_buy.amount == Decimal("1896.00") and market_buy.basis == "ask"
    market_sell = estimate_cost(symbol="AAPL", side="sell", quantity="10", order_type="market", quote=_quote())
    assert market_sell is not None and market_sell.side is Side.SELL and market_sell.amount == Decimal("1895.00")
    limit = estimate_cost(symbol="AAPL", side="buy", quantity="3", order_type="limit", limit_price="100", quote=_quote())
    assert limit is not None and limit.amount == Decimal("300") and limit.basis == "limit"
    option = estimate_cost(symbol="AAPL270115C00200000", side="buy", quantity="2", order_type="limit", limit_price="1.25")
    assert option is not None and option.amount == Decimal("250.00")


def test_no_estimate_without_what_it_needs():
    assert estimate_cost(symbol="", side="buy", quantity="10", order_type="market", quote=_quote()) is None
    assert estimate_cost(symbol="AAPL", side="buy", quantity="ten", order_type="market", quote=_quote()) is None
    assert estimate_cost(symbol="AAPL", side="buy", quantity="10", order_type="market") is None
    assert estimate_cost(symbol="MSFT", side="buy", quantity="10", order_type="market", quote=_quote()) is None
    assert estimate_cost(symbol="AAPL", side="buy", quantity="10", order_type="limit", limit_price="") is None


def test_watchlist_edits_and_refusals():
    lists, symbol = Watchlists().add("Watchlist", " msft ")
    assert symbol == "MSFT"
    lists, _ = lists.add("Watchlist", "AAPL270115C00200000")
    lists, _ = lists.add("Watchlist", "spy")
    assert lists.current.symbols == ("MSFT", "AAPL270115C00200000", "SPY")
    assert lists.move("Watchlist", "SPY", 0).current.symbols == ("SPY", "MSFT", "AAPL270115C00200000")
    assert lists.move("Watchlist", "MSFT", 99).current.symbols[-1] == "MSFT"
    assert lists.remove("Watchlist", "MSFT").current.symbols == ("AAPL270115C00200000", "SPY")
    with pytest.raises(SymbolError):
        lists.add("Watchlist", "$$$")
    with pytest.raises(WatchlistError, match="already in"):
        lists.add("Watchlist", "MSFT")
    two = lists.create("  Tech   names ")
    assert two.active == "Tech names" and two.current.symbols == ()
    with pytest.raises(WatchlistError, match="already exists"):
        two.create("tech NAMES")
    with pytest.raises(WatchlistError, match="name"):
        two.create("   ")
    assert two.delete("Tech names").active == "Watchlist"
    with pytest.raises(WatchlistError, match="last watchlist"):
        Watchlists().delete("Watchlist")
    assert lists.all_symbols() == ("MSFT", "AAPL270115C00200000", "SPY")


def test_the_stale_after_setting_takes_whole_seconds_within_an_hour():
    from app.domain.quote_age import stale_after_setting

    assert stale_after_setting(1) == timedelta(seconds=1)
    assert stale_after_setting(3600) == timedelta(hours=1)
    for bad in (0, -5, 3601, 2.5, "30", True, None):
        with pytest.raises(ValueError, match="1 to 3600 seconds"):
            stale_after_setting(bad)
