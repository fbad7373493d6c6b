"""The pure Cboe parsers against recorded responses: prices, missing values and the quote's own time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.domain.symbols import parse_symbol
from app.marketdata.cboe import (
    cboe_file_symbol,
    chain_underlying,
    parse_cboe_option_chain,
    parse_cboe_quote,
)
from tests.marketdata.conftest import fixture_json

# US/Eastern is UTC-4 in summer: 15:59:59 in New York is 19:59:59 UTC.
CLX_CLOSE = datetime(2026, 7, 24, 19, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("exact", [True, False], ids=["decimal-json", "float-json"])
def test_stock_quote_keeps_prices_exact_and_dates_it_by_the_last_trade(exact: bool) -> None:
    quote = parse_cboe_quote(fixture_json("quote_AAPL.json", exact=exact))

    assert quote is not None
    assert quote.symbol == "AAPL"
    assert (quote.bid, quote.ask, quote.last) == (Decimal("212.76"), Decimal("212.89"), Decimal("212.8"))
    assert (quote.bid_size, quote.ask_size) == (Decimal(10), Decimal(1))
    # last_trade_time "2024-06-26T15:59:59" is New York time; the file itself was written at
    # 03:43:59 UTC the next night, which must not make the closing market look fresh.
    assert quote.timestamp == datetime(2024, 6, 26, 19, 59, 59, tzinfo=UTC)
    assert quote.mark == Decimal("212.825")


def test_underlying_block_of_an_options_body_reads_like_a_quote() -> None:
    quote = parse_cboe_quote(fixture_json("options_CLX.json"))

    assert quote is not None
    assert quote.symbol == "CLX"
    assert (quote.bid, quote.ask, quote.last) == (Decimal("95.15"), Decimal("95.7"), Decimal("95.55"))
    assert quote.timestamp == CLX_CLOSE


def test_index_quote_has_no_bid_or_ask_and_drops_the_caret() -> None:
    quote = parse_cboe_quote(fixture_json("options_SPX_synthetic.json"))

    assert quote is not None
    assert quote.symbol == "SPX"
    assert quote.bid is None and quote.ask is None and quote.bid_size is None
    assert quote.last == Decimal("6388.64")
    assert quote.mark == Decimal("6388.64")


def test_chain_is_keyed_by_compact_occ_symbol() -> None:
    chain = parse_cboe_option_chain(fixture_json("options_CLX.json"))

    assert sorted(chain) == [
        "CLX260821C00055000",
        "CLX260821C00095000",
        "CLX260821C00125000",
        "CLX260821P00055000",
        "CLX260821P00095000",
        "CLX260821P00115000",
        "CLX280121C00175000",
        "CLX280121P00180000",
    ]
    assert all(quote.symbol == symbol for symbol, quote in chain.items())
    assert all(parse_symbol(symbol).symbol == symbol for symbol in chain)


def test_two_sided_option_is_as_recent_as_the_snapshot() -> None:
    quote = parse_cboe_option_chain(fixture_json("options_CLX.json"))["CLX260821C00095000"]

    assert (quote.bid, quote.ask, quote.last) == (Decimal("3.4"), Decimal("4.3"), Decimal("4.1"))
    assert (quote.bid_size, quote.ask_size) == (Decimal(354), Decimal(82))
    assert quote.mark == Decimal("3.85")
    # Its own last trade (15:59:41) is older than the underlying's (15:59:59), which dates the chain.
    assert quote.timestamp == CLX_CLOSE


def test_zero_bid_is_no_bid_and_the_quote_is_as_old_as_its_last_trade() -> None:
    quote = parse_cboe_option_chain(fixture_json("options_CLX.json"))["CLX260821P00055000"]

    assert quote.bid is None and quote.bid_size is None
    assert quote.ask == Decimal("0.25") and quote.ask_size == Decimal(9)
    assert quote.last == Decimal("0.1")
    assert quote.mark == Decimal("0.1")
    assert quote.timestamp == datetime(2026, 7, 24, 13, 40, 47, tzinfo=UTC)


def test_never_traded_option_has_no_last_price() -> None:
    chain = parse_cboe_option_chain(fixture_json("options_CLX.json"))

    for symbol, bid, ask in (("CLX260821P00115000", "19.7", "21.8"), ("CLX280121P00180000", "83.0", "88.0")):
        quote = chain[symbol]
        assert quote.last is None, symbol
        assert (quote.bid, quote.ask) == (Decimal(bid), Decimal(ask))
        assert quote.timestamp == CLX_CLOSE


def test_an_old_trade_does_not_age_a_two_sided_quote() -> None:
    quote = parse_cboe_option_chain(fixture_json("options_CLX.json"))["CLX280121C00175000"]

    assert quote.last == Decimal("1.5")  # traded 2026-05-11
    assert quote.mark == Decimal("1.65")  # bid 0.85, ask 2.45
    assert quote.timestamp == CLX_CLOSE


def test_one_sided_option_keeps_its_last_trade_time() -> None:
    quote = parse_cboe_option_chain(fixture_json("options_CLX.json"))["CLX260821C00125000"]

    assert (quote.bid, quote.ask, quote.last) == (None, Decimal("0.05"), Decimal("0.03"))
    assert quote.timestamp == datetime(2026, 7, 24, 15, 21, 38, tzinfo=UTC)


def test_index_chain_lists_weekly_and_monthly_roots() -> None:
    chain = parse_cboe_option_chain(fixture_json("options_SPX_synthetic.json"))

    weekly, monthly = chain["SPXW260821C06400000"], chain["SPX260821C06400000"]
    assert weekly.last == Decimal("61.9")
    assert monthly.last is None and monthly.mark == Decimal("61.85")
    assert weekly.timestamp == datetime(2026, 7, 24, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"data": None},
        {"data": {"bid": 1.0}},
        {"data": {"symbol": "AAPL", "bid": 1.0, "ask": 2.0}},
        {"timestamp": "not a time", "data": {"symbol": "AAPL", "bid": 1.0, "last_trade_time": "noon"}},
    ],
    ids=["empty", "no-data", "no-symbol", "no-time", "bad-times"],
)
def test_unusable_quote_bodies_give_none(raw: dict) -> None:
    assert parse_cboe_quote(raw) is None


def test_junk_values_become_missing_prices_not_errors() -> None:
    raw = {
        "timestamp": "2024-06-27 03:43:59",
        "data": {"symbol": "AAPL", "bid": "N/A", "ask": float("nan"), "current_price": True, "bid_size": -3},
    }

    quote = parse_cboe_quote(raw)

    assert quote is not None
    assert (quote.bid, quote.ask, quote.last, quote.mark) == (None, None, None, None)
    # Without a trade time, the snapshot time (UTC) is all there is.
    assert quote.timestamp == datetime(2024, 6, 27, 3, 43, 59, tzinfo=UTC)


def test_malformed_chain_rows_are_skipped() -> None:
    raw = {
        "timestamp": "2026-07-25 00:43:14",
        "data": {"options": [None, {"bid": 1.0}, {"option": "CLX260821C00095000", "bid": 3.4, "ask": 4.3}]},
    }

    chain = parse_cboe_option_chain(raw)

    assert list(chain) == ["CLX260821C00095000"]
    assert chain["CLX260821C00095000"].timestamp == datetime(2026, 7, 25, 0, 43, 14, tzinfo=UTC)
    assert parse_cboe_option_chain({"data": {"options": "none"}}) == {}


@pytest.mark.parametrize(
    ("typed", "file_symbol"),
    [("AAPL", "AAPL"), ("BRK/B", "BRK.B"), ("BRK.B", "BRK.B"), ("SPX", "_SPX"), ("VIX", "_VIX")],
)
def test_stock_and_index_file_names(typed: str, file_symbol: str) -> None:
    assert cboe_file_symbol(parse_symbol(typed).symbol) == file_symbol


@pytest.mark.parametrize(
    ("option", "underlying"),
    [
        ("AAPL250117C00150000", "AAPL"),
        ("SPXW260821C06400000", "_SPX"),
        ("SPX260821C06400000", "_SPX"),
        ("NDXP260821P20000000", "_NDX"),
        ("TSLA1260821C00250000", "TSLA"),
    ],
)
def test_option_chain_file_names(option: str, underlying: str) -> None:
    assert chain_underlying(parse_symbol(option)) == underlying
