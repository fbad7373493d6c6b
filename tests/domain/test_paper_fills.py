"""Fill rules against one quote: every order type and side, crossing and resting, stops, slippage, ticks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.models import OrderType, Side
from app.domain.paper_fills import Execution, Resting, Wait, evaluate, slipped
from tests.domain.paper_support import OPTION, D, open_order, quote, request

NBBO = quote(bid="189.90", ask="190.10", last="190.00")


def fill_price(outcome: Execution | Resting) -> Decimal:
    assert isinstance(outcome, Execution), outcome
    return outcome.price


def resting(outcome: Execution | Resting) -> Resting:
    assert isinstance(outcome, Resting), outcome
    return outcome


def test_market_buy_fills_at_the_ask_and_market_sell_at_the_bid() -> None:
    assert fill_price(evaluate(open_order(request(Side.BUY)), NBBO, D(0))) == D("190.10")
    assert fill_price(evaluate(open_order(request(Side.SELL)), NBBO, D(0))) == D("189.90")


def test_market_orders_use_the_last_trade_when_the_book_side_is_missing() -> None:
    last_only = quote(last="50.25")
    assert fill_price(evaluate(open_order(request(Side.BUY)), last_only, D(0))) == D("50.25")
    assert fill_price(evaluate(open_order(request(Side.SELL)), quote(ask="51", last="50.25"), D(0))) == D("50.25")


def test_no_price_at_all_means_no_fill() -> None:
    outcome = resting(evaluate(open_order(request(Side.BUY)), quote(bid="10"), D(0)))
    assert outcome.wait is Wait.NO_PRICE
    assert outcome.reason == "no ask or last price for AAPL yet"


def test_zero_bid_is_not_a_price() -> None:
    outcome = resting(evaluate(open_order(request(Side.SELL)), quote(bid="0", ask="0.05"), D(0)))
    assert outcome.wait is Wait.NO_PRICE


def test_marketable_limit_buy_fills_at_the_better_quote() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.LIMIT, limit="191.00"))
    assert fill_price(evaluate(order, NBBO, D(0))) == D("190.10")


def test_limit_buy_rests_while_the_ask_is_above_the_limit() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.LIMIT, limit="189.00"))
    outcome = resting(evaluate(order, NBBO, D(0)))
    assert outcome.wait is Wait.LIMIT_NOT_CROSSED
    assert outcome.reason == "resting: ask 190.10 above limit 189.00"
    assert fill_price(evaluate(order, quote(bid="188.50", ask="188.90"), D(0))) == D("188.90")


def test_limit_buy_fills_exactly_at_the_limit_when_the_ask_touches_it() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.LIMIT, limit="190.10"))
    assert fill_price(evaluate(order, NBBO, D(0))) == D("190.10")


def test_limit_sell_rests_below_and_fills_at_the_better_bid() -> None:
    order = open_order(request(Side.SELL, order_type=OrderType.LIMIT, limit="191.00"))
    outcome = resting(evaluate(order, NBBO, D(0)))
    assert outcome.reason == "resting: bid 189.90 below limit 191.00"
    assert fill_price(evaluate(order, quote(bid="191.40", ask="191.60"), D(0))) == D("191.40")


def test_buy_stop_waits_below_the_stop_then_fills_at_the_ask() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.STOP, stop="195.00"))
    outcome = resting(evaluate(order, NBBO, D(0)))
    assert outcome.wait is Wait.STOP_NOT_TRIGGERED
    assert outcome.reason == "waiting for the stop: last 190.00 below stop 195.00"
    assert not outcome.stop_triggered
    triggered = evaluate(order, quote(bid="195.00", ask="195.20", last="195.05"), D(0))
    assert triggered == Execution(D("195.20"), stop_triggered=True)


def test_sell_stop_triggers_at_or_below_the_stop_and_fills_at_the_bid() -> None:
    order = open_order(request(Side.SELL, order_type=OrderType.STOP, stop="185.00"))
    assert resting(evaluate(order, NBBO, D(0))).reason == "waiting for the stop: last 190.00 above stop 185.00"
    assert evaluate(order, quote(bid="184.90", ask="185.10", last="185.00"), D(0)) == Execution(D("184.90"), True)


def test_a_gap_through_the_stop_fills_at_the_market_not_at_the_stop() -> None:
    order = open_order(request(Side.SELL, order_type=OrderType.STOP, stop="185.00"))
    assert fill_price(evaluate(order, quote(bid="170.00", ask="170.20", last="170.10"), D(0))) == D("170.00")


def test_stop_without_a_last_trade_is_elected_by_the_book() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.STOP, stop="10.00"))
    assert evaluate(order, quote(bid="9.95", ask="10.00"), D(0)) == Execution(D("10.00"), True)


def test_stop_limit_triggers_then_rests_as_a_limit() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.STOP_LIMIT, stop="195.00", limit="195.50"))
    outcome = resting(evaluate(order, quote(bid="195.80", ask="196.00", last="195.90"), D(0)))
    assert outcome.stop_triggered
    assert outcome.wait is Wait.LIMIT_NOT_CROSSED
    assert outcome.reason == "stop triggered; resting: ask 196.00 above limit 195.50"
    triggered = open_order(order.request, triggered=True)
    # Once triggered the stop no longer matters: a later dip below it still fills the limit.
    assert evaluate(triggered, quote(bid="194.90", ask="195.10", last="195.00"), D(0)) == Execution(
        D("195.10"), True
    )


def test_sell_stop_limit_fills_at_the_better_of_bid_and_limit() -> None:
    order = open_order(request(Side.SELL, order_type=OrderType.STOP_LIMIT, stop="185.00", limit="184.50"))
    assert evaluate(order, quote(bid="184.80", ask="185.00", last="184.90"), D(0)) == Execution(D("184.80"), True)


def test_slippage_moves_market_fills_against_the_trader_and_rounds_against_them() -> None:
    buy, sell = open_order(request(Side.BUY)), open_order(request(Side.SELL))
    book = quote(bid="33.33", ask="33.33")
    # 33.33 x 1.0007 = 33.353331 -> 33.36 for a buyer; 33.33 x 0.9993 = 33.306669 -> 33.30 for a seller.
    assert fill_price(evaluate(buy, book, D(7))) == D("33.36")
    assert fill_price(evaluate(sell, book, D(7))) == D("33.30")


def test_slippage_never_pushes_a_limit_fill_past_the_limit() -> None:
    order = open_order(request(Side.BUY, order_type=OrderType.LIMIT, limit="100.05"))
    assert fill_price(evaluate(order, quote(ask="100.00"), D(10))) == D("100.05")
    order = open_order(request(Side.SELL, order_type=OrderType.LIMIT, limit="99.95"))
    assert fill_price(evaluate(order, quote(bid="100.00"), D(10))) == D("99.95")


@pytest.mark.parametrize(
    ("price", "side", "bps", "expected"),
    [
        ("0.5", Side.BUY, "3", "0.5002"),
        ("0.5", Side.SELL, "3", "0.4998"),
        ("0.99995", Side.BUY, "0", "1.00"),
        ("1.004", Side.SELL, "0", "1.00"),
        ("12.3456", Side.BUY, "0", "12.35"),
    ],
)
def test_tick_rounding_is_conservative(price: str, side: Side, bps: str, expected: str) -> None:
    assert slipped(D(price), side, D(bps), is_option=False) == D(expected)


def test_option_prices_round_to_cents_even_below_a_dollar() -> None:
    assert slipped(D("0.453"), Side.BUY, D(0), is_option=True) == D("0.46")
    order = open_order(request(Side.BUY, 1, symbol=OPTION))
    assert fill_price(evaluate(order, quote(OPTION, bid="0.40", ask="0.453"), D(0))) == D("0.46")


def test_a_sell_that_rounds_to_nothing_does_not_fill() -> None:
    order = open_order(request(Side.SELL, symbol=OPTION))
    outcome = resting(evaluate(order, quote(OPTION, bid="0.004"), D(0)))
    assert outcome.wait is Wait.NO_PRICE


def test_the_worked_example_in_the_docs() -> None:
    # docs/paper-trading.md: 190.10 x 1.0005 = 190.19505, rounded up to 190.20.
    assert fill_price(evaluate(open_order(request(Side.BUY)), NBBO, D(5))) == D("190.20")
