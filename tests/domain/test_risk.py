"""Pre-trade risk checks: each limit allows its edge and refuses one step past it; the daily loss ladder."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.models import AccountSummary, AssetClass, OrderType, Position, Side
from app.domain.risk import (
    HALT_MULTIPLE,
    LossState,
    RiskContext,
    RiskLimits,
    RiskLimitsError,
    RiskRule,
    check_order,
    limits_from_dict,
    limits_to_dict,
    loss_state,
    parse_limits,
)
from tests.domain.paper_support import D, OPTION, ny, quote, request

NOW = ny(10, 30)
LIMITS = RiskLimits(
    max_order_quantity=D(1000),
    max_order_notional=D(50000),
    price_band_pct=D(10),
    max_open_orders=5,
    max_orders_per_minute=3,
    daily_loss_limit=D(2000),
)
ACCOUNT = AccountSummary(cash=D(100000), equity=D(100000), buying_power=D(100000))


def context(**changes: object) -> RiskContext:
    base: dict[str, object] = {
        "account": ACCOUNT,
        "positions": {},
        "quotes": {"AAPL": quote(bid="99.90", ask="100.00", last="100.00", at=NOW)},
        "now": NOW,
        "open_orders": 0,
        "recent_orders": (),
        "day_start_equity": D(100000),
    }
    base.update(changes)
    return RiskContext(**base)  # type: ignore[arg-type]


def test_an_ordinary_order_passes_every_check() -> None:
    assert check_order(request(quantity=10), LIMITS, context()) is None


# ---- max quantity ------------------------------------------------------------------------------


def test_quantity_at_the_limit_passes_and_one_more_is_refused() -> None:
    cheap = {"AAPL": quote(bid="1.00", ask="1.00", last="1.00", at=NOW)}
    assert check_order(request(quantity=1000), LIMITS, context(quotes=cheap)) is None
    denial = check_order(request(quantity=1001), LIMITS, context(quotes=cheap))
    assert denial is not None and denial.rule is RiskRule.MAX_QUANTITY
    assert denial.field == "quantity"
    assert denial.message == "Quantity 1,001 shares exceeds your 1,000 per-order limit."


def test_option_quantity_counts_contracts() -> None:
    limits = RiskLimits(max_order_quantity=D(10), max_order_notional=D(1_000_000))
    quotes = {OPTION: quote(OPTION, bid="1.00", ask="1.10", last="1.05", at=NOW)}
    denial = check_order(request(quantity=11, symbol=OPTION), limits, context(quotes=quotes))
    assert denial is not None and "11 contracts" in denial.message


# ---- max notional -----------------------------------------------------------------------------


def test_order_value_at_the_limit_passes_and_a_cent_more_is_refused() -> None:
    at_limit = request(quantity=500, order_type=OrderType.LIMIT, limit="100.00")
    assert check_order(at_limit, LIMITS, context()) is None
    past = request(quantity=500, order_type=OrderType.LIMIT, limit="100.01")
    denial = check_order(past, LIMITS, context())
    assert denial is not None and denial.rule is RiskRule.MAX_NOTIONAL
    assert denial.message == "Order value $50,005 exceeds your $50,000 per-order limit."


def test_the_issue_example_names_the_rule_and_the_numbers() -> None:
    quotes = {"SPY": quote("SPY", bid="611.90", ask="612.00", last="612.00", at=NOW)}
    denial = check_order(request(quantity=100, symbol="SPY"), LIMITS, context(quotes=quotes))
    assert denial is not None
    assert denial.message == "Order value $61,200 exceeds your $50,000 per-order limit."


def test_market_buy_is_valued_at_the_ask_and_a_sell_at_the_bid() -> None:
    quotes = {"AAPL": quote(bid="99.00", ask="101.00", last="100.00", at=NOW)}
    limits = RiskLimits(max_order_notional=D(50500))
    assert check_order(request(quantity=500), limits, context(quotes=quotes)) is None
    assert check_order(request(quantity=501), limits, context(quotes=quotes)) is not None
    sell = request(Side.SELL, quantity=510)
    assert check_order(sell, limits, context(quotes=quotes)) is None  # 510 x 99 = 50,490


def test_option_value_uses_the_multiplier() -> None:
    quotes = {OPTION: quote(OPTION, bid="4.90", ask="5.00", last="5.00", at=NOW)}
    limits = RiskLimits(max_order_notional=D(5000))
    assert check_order(request(quantity=10, symbol=OPTION), limits, context(quotes=quotes)) is None
    denial = check_order(request(quantity=11, symbol=OPTION), limits, context(quotes=quotes))
    assert denial is not None and "$5,500" in denial.message


def test_a_market_order_without_a_price_is_refused() -> None:
    denial = check_order(request(quantity=1), LIMITS, context(quotes={}))
    assert denial is not None and denial.rule is RiskRule.NO_PRICE


# ---- price band -------------------------------------------------------------------------------


@pytest.mark.parametrize(("inside", "outside"), [("110.00", "110.01"), ("90.00", "89.99")])
def test_limit_price_band_edges(inside: str, outside: str) -> None:
    assert check_order(request(quantity=1, order_type=OrderType.LIMIT, limit=inside), LIMITS, context()) is None
    denial = check_order(request(quantity=1, order_type=OrderType.LIMIT, limit=outside), LIMITS, context())
    assert denial is not None and denial.rule is RiskRule.PRICE_BAND
    assert denial.field == "limit_price"
    assert "last price 100.00" in denial.message and "allows 10%" in denial.message


def test_stop_price_band() -> None:
    assert check_order(request(Side.SELL, 1, OrderType.STOP, stop="90.00"), LIMITS, context()) is None
    denial = check_order(request(Side.SELL, 1, OrderType.STOP, stop="89.99"), LIMITS, context())
    assert denial is not None and denial.field == "stop_price"


def test_fat_finger_limit_is_refused() -> None:
    denial = check_order(request(quantity=1, order_type=OrderType.LIMIT, limit="1000.00"), LIMITS, context())
    assert denial is not None
    assert denial.message.startswith("The limit price 1,000.00 is 900.0% away from the last price 100.00")


def test_no_quote_skips_the_band_for_a_limit_order() -> None:
    order = request(quantity=1, order_type=OrderType.LIMIT, limit="500.00")
    assert check_order(order, LIMITS, context(quotes={})) is None


# ---- open orders and rate ---------------------------------------------------------------------


def test_open_orders_edge() -> None:
    assert check_order(request(quantity=1), LIMITS, context(open_orders=4)) is None
    denial = check_order(request(quantity=1), LIMITS, context(open_orders=5))
    assert denial is not None and denial.rule is RiskRule.MAX_OPEN_ORDERS
    assert "5 open orders, your limit is 5" in denial.message


def test_rate_counts_the_last_minute_only() -> None:
    two = (NOW - timedelta(seconds=30), NOW - timedelta(seconds=1))
    assert check_order(request(quantity=1), LIMITS, context(recent_orders=two)) is None
    three = (*two, NOW)
    denial = check_order(request(quantity=1), LIMITS, context(recent_orders=three))
    assert denial is not None and denial.rule is RiskRule.ORDER_RATE
    assert "refused, not queued" in denial.message
    aged = (NOW - timedelta(seconds=60), *two)
    assert check_order(request(quantity=1), LIMITS, context(recent_orders=aged)) is None


# ---- daily loss -------------------------------------------------------------------------------


def test_loss_state_ladder() -> None:
    start = D(100000)
    assert loss_state(LIMITS, start, D("98000.01")) is LossState.NORMAL
    assert loss_state(LIMITS, start, D(98000)) is LossState.REDUCE_ONLY
    assert loss_state(LIMITS, start, D("97000.01")) is LossState.REDUCE_ONLY
    assert loss_state(LIMITS, start, start - LIMITS.daily_loss_limit * HALT_MULTIPLE) is LossState.HALTED
    assert loss_state(LIMITS, None, D(1)) is LossState.NORMAL


def test_reduce_only_allows_closing_and_refuses_opening() -> None:
    held = {"AAPL": Position("AAPL", AssetClass.EQUITY, D(50), D(110))}
    losing = AccountSummary(cash=D(93000), equity=D(98000), buying_power=D(93000))
    ctx = context(account=losing, positions=held)
    assert check_order(request(Side.SELL, 50), LIMITS, ctx) is None
    assert check_order(request(Side.SELL, 20), LIMITS, ctx) is None
    for refused in (request(Side.BUY, 1), request(Side.SELL, 51)):
        denial = check_order(refused, LIMITS, ctx)
        assert denial is not None and denial.rule is RiskRule.DAILY_LOSS
        assert denial.message.startswith("Today's loss of $2,000.00 reached your $2,000.00 daily loss limit")


def test_short_cover_is_a_reducing_order() -> None:
    short = {"AAPL": Position("AAPL", AssetClass.EQUITY, D(-30), D(90))}
    losing = AccountSummary(cash=D(97000), equity=D(97500), buying_power=D(90000))
    assert check_order(request(Side.BUY, 30), LIMITS, context(account=losing, positions=short)) is None


def test_past_one_and_a_half_times_the_limit_nothing_goes_through() -> None:
    held = {"AAPL": Position("AAPL", AssetClass.EQUITY, D(50), D(110))}
    halted = AccountSummary(cash=D(90000), equity=D(97000), buying_power=D(90000))
    denial = check_order(request(Side.SELL, 10), LIMITS, context(account=halted, positions=held))
    assert denial is not None and denial.rule is RiskRule.DAILY_LOSS
    assert "trading is halted until the next session" in denial.message


def test_a_halt_refuses_everything_first() -> None:
    denial = check_order(request(quantity=1), LIMITS, context(halt_reason="kill switch at 10:30:00"))
    assert denial is not None and denial.rule is RiskRule.HALTED
    assert "kill switch at 10:30:00" in denial.message


# ---- limits from the settings form and from storage -------------------------------------------


def test_defaults_are_safe() -> None:
    limits = RiskLimits()
    assert limits.max_order_notional == D(50000)
    assert limits.price_band_pct == D(10)
    assert limits.max_orders_per_minute > 0 and limits.daily_loss_limit > 0


def test_parse_limits_reads_what_a_trader_types() -> None:
    limits = parse_limits(
        {
            "max_order_quantity": "2,000",
            "max_order_notional": "$75,000",
            "price_band_pct": "5%",
            "max_open_orders": "10",
            "max_orders_per_minute": "6",
            "daily_loss_limit": "1500.50",
        }
    )
    assert limits == RiskLimits(D(2000), D(75000), D(5), 10, 6, D("1500.50"))
    assert limits_from_dict(limits_to_dict(limits)) == limits


def test_parse_limits_names_each_bad_field_in_plain_words() -> None:
    with pytest.raises(RiskLimitsError) as caught:
        parse_limits(
            {
                "max_order_quantity": "0",
                "max_order_notional": "lots",
                "price_band_pct": "150",
                "max_open_orders": "2.5",
                "max_orders_per_minute": "１０",
                "daily_loss_limit": "",
            }
        )
    errors = caught.value.errors
    assert errors["max_order_quantity"] == "The largest order quantity must be more than zero."
    assert errors["max_order_notional"] == "'lots' is not a number."
    assert errors["max_orders_per_minute"] == "'１０' is not a number."
    assert errors["daily_loss_limit"] == "The daily loss limit is required."
    with pytest.raises(RiskLimitsError) as second:
        parse_limits({**limits_to_dict(RiskLimits()), "price_band_pct": "150", "max_open_orders": "2.5"})
    assert second.value.errors == {
        "price_band_pct": "The price band can be at most 100.",
        "max_open_orders": "The number of open orders must be a whole number.",
    }


def test_unreadable_stored_limits_fall_back_to_defaults() -> None:
    assert limits_from_dict({"max_order_notional": "garbage", "max_open_orders": "-3"}) == RiskLimits()


@given(
    quantity=st.integers(min_value=1, max_value=10_000),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2),
    notional=st.integers(min_value=1, max_value=1_000_000),
)
def test_notional_rule_agrees_with_arithmetic(quantity: int, price: Decimal, notional: int) -> None:
    limits = RiskLimits(max_order_quantity=D(10_000), max_order_notional=D(notional), price_band_pct=D(100))
    order = request(quantity=quantity, order_type=OrderType.LIMIT, limit=str(price))
    denial = check_order(order, limits, context(quotes={}))
    assert (denial is None) == (quantity * price <= notional)
