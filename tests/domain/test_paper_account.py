"""Paper account money: buying power and reservations, shorting rules, commissions and P&L in Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.models import Order, OrderStatus, OrderType, Quote, Side, TimeInForce
from app.domain.paper_account import may_raise_reserves, reserve_basis, reserve_floor
from app.domain.paper_book import quote_floats
from app.domain.paper_engine import EngineUpdate, PaperEngine, PaperSettings
from tests.domain.paper_support import OPTION, D, engine, ny, only_order, open_order, quote, request


def trade(paper: PaperEngine, side: Side, qty: int, price: str, symbol: str = "AAPL", minute: int = 0) -> EngineUpdate:
    """A market order in session against a one-price book, so it fills at `price`."""
    now = ny(10, minute)
    update = paper.submit(request(side, qty, symbol=symbol), now, quote(symbol, bid=price, ask=price, at=now))
    assert update.fills, update.orders
    return update


def test_settings_refuse_negatives_and_floats() -> None:
    with pytest.raises(ValueError, match="starting_cash cannot be negative"):
        PaperSettings(starting_cash=D(-1))
    with pytest.raises(ValueError, match="commission_per_share cannot be negative"):
        PaperSettings(commission_per_share=D("-0.01"))
    with pytest.raises(TypeError, match="must be a Decimal, not float"):
        PaperSettings(slippage_bps=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Slippage must be below"):
        PaperSettings(slippage_bps=D(10_000))
    assert PaperSettings(commission_per_order=1).commission_per_order == D(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not float"):
        PaperEngine(PaperSettings(), cash=100.5)  # type: ignore[arg-type]


def test_resting_limit_buy_reserves_its_limit_value_and_commission() -> None:
    paper = engine(commission_per_order=D(1), commission_per_share=D("0.005"))
    paper.submit(request(Side.BUY, 100, OrderType.LIMIT, limit="50.00"), ny(10), quote(ask="51", at=ny(10)))
    assert paper.buying_power == D("94998.50")


def test_waiting_market_buy_reserves_the_ask_plus_slippage() -> None:
    paper = engine(slippage_bps=D(10))
    paper.submit(request(Side.BUY, 100), ny(8), quote(ask="20.00", at=ny(8)))
    assert paper.buying_power == D("97998.000")


def test_resting_buy_stop_reserves_at_least_its_stop() -> None:
    paper = engine()
    paper.submit(request(Side.BUY, 100, OrderType.STOP, stop="30.00"), ny(10), quote(ask="25", last="25", at=ny(10)))
    assert paper.buying_power == D(97000)


def test_an_order_the_account_cannot_pay_for_is_rejected() -> None:
    paper = engine("1000")
    order = only_order(paper.submit(request(Side.BUY, 11, OrderType.LIMIT, limit="100.00"), ny(10), None).orders)
    assert order.status is OrderStatus.REJECTED
    assert order.status_reason == "Not enough buying power: this order needs $1,100.00 and $1,000.00 is available."


def test_open_orders_use_up_buying_power() -> None:
    paper = engine("1000")
    paper.submit(request(Side.BUY, 6, OrderType.LIMIT, limit="100.00"), ny(10), None)
    second = only_order(paper.submit(request(Side.BUY, 5, OrderType.LIMIT, limit="100.00"), ny(10), None).orders)
    assert second.status_reason == "Not enough buying power: this order needs $500.00 and $400.00 is available."


def test_selling_what_you_do_not_hold_is_rejected_without_shorting() -> None:
    paper = engine()
    order = only_order(paper.submit(request(Side.SELL, 10), ny(10), quote(bid="10", at=ny(10))).orders)
    assert order.status is OrderStatus.REJECTED
    assert order.status_reason == (
        "You hold 0 AAPL; selling 10 would sell short, and short selling is off in the paper settings."
    )


def test_shares_promised_to_open_sell_orders_cannot_be_sold_twice() -> None:
    paper = engine()
    trade(paper, Side.BUY, 100, "10.00")
    paper.submit(request(Side.SELL, 100, OrderType.LIMIT, limit="12.00"), ny(10, 1), None)
    second = only_order(paper.submit(request(Side.SELL, 50), ny(10, 2), None).orders)
    assert second.status_reason == (
        "You hold 100 AAPL (100 already in open sell orders); selling 50 would sell short, "
        "and short selling is off in the paper settings."
    )


def test_a_short_left_from_before_cannot_grow_once_shorting_is_off() -> None:
    paper = engine(allow_shorting=True)
    trade(paper, Side.SELL, 10, "50.00")
    paper.apply_settings(PaperSettings())
    order = only_order(paper.submit(request(Side.SELL, 5), ny(10, 1), None).orders)
    assert order.status_reason == (
        "You are short 10 AAPL; selling 5 more would add to the short, and short selling is off in the paper settings."
    )
    assert trade(paper, Side.BUY, 10, "49.00", minute=2).positions[0].realized_pnl == D(10)


def test_a_short_sale_needs_half_its_value_and_the_position_holds_150_percent() -> None:
    paper = engine(allow_shorting=True)
    update = trade(paper, Side.SELL, 100, "50.00")
    assert update.cash == D(105000)
    assert paper.positions["AAPL"].quantity == D(-100)
    # 105,000 cash - 150% x 5,000 short value = 97,500: the sale used 50% of its value.
    assert paper.buying_power == D(97500)
    summary = paper.summary({"AAPL": D(60)})
    assert summary.buying_power == D(96000)
    assert summary.equity == D(99000)
    assert summary.unrealized_pnl == D(-1000)


def test_a_short_sale_without_the_margin_is_rejected() -> None:
    paper = engine("1000", allow_shorting=True)
    order = only_order(paper.submit(request(Side.SELL, 100), ny(10), quote(bid="50", ask="50", at=ny(10))).orders)
    assert order.status_reason == "Not enough buying power: this order needs $2,500.00 and $1,000.00 is available."
    assert trade(paper, Side.SELL, 40, "50.00").cash == D(3000)
    assert paper.buying_power == D(0)


def test_buying_to_cover_reserves_nothing_but_a_flip_reserves_the_new_long() -> None:
    paper = engine("10000", allow_shorting=True)
    trade(paper, Side.SELL, 100, "50.00")
    assert paper.buying_power == D(7500)
    cover = request(Side.BUY, 100, OrderType.LIMIT, limit="49.00")
    paper.submit(cover, ny(10, 1), quote(bid="50", ask="50", at=ny(10, 1)))
    assert paper.buying_power == D(7500)
    paper.submit(request(Side.BUY, 100, OrderType.LIMIT, limit="48.00"), ny(10, 2), None)
    assert paper.buying_power == D(7500) - D(4800)


def test_writing_options_needs_shorting_and_reserves_the_strike() -> None:
    no_shorting = engine()
    refused = only_order(no_shorting.submit(request(Side.SELL, 1, symbol=OPTION), ny(10), None).orders)
    assert refused.status_reason == (
        f"Selling {OPTION} you do not hold would write the option; "
        "writing options needs short selling enabled in the paper settings."
    )
    paper = engine(allow_shorting=True)
    trade(paper, Side.SELL, 1, "2.00", symbol=OPTION)
    assert paper.cash == D(100200)
    # Strike 200 x 100 x 1 contract is held back, cash-secured.
    assert paper.buying_power == D(80200)
    small = engine("10000", allow_shorting=True)
    too_big = only_order(small.submit(request(Side.SELL, 1, symbol=OPTION), ny(10), None).orders)
    assert too_big.status_reason == "Not enough buying power: this order needs $20,000.00 and $10,000.00 is available."


def test_commission_per_order_and_per_share_goes_into_cost_and_realized_pnl() -> None:
    paper = engine(commission_per_order=D(1), commission_per_share=D("0.01"))
    update = trade(paper, Side.BUY, 100, "10.00")
    assert update.fills[0].commission == D("2.00")
    assert update.cash == D("98998.00")
    assert update.positions[0].average_cost == D("10.02")
    update = trade(paper, Side.SELL, 100, "11.00", minute=1)
    closed = update.positions[0]
    assert (closed.quantity, closed.realized_pnl) == (D(0), D("96.00"))
    assert update.cash == D("100096.00")
    assert paper.summary({}).realized_pnl == D("96.00")


def test_commission_per_contract_for_options() -> None:
    paper = engine(commission_per_contract=D("0.65"), commission_per_share=D(5))
    update = trade(paper, Side.BUY, 2, "1.50", symbol=OPTION)
    assert update.fills[0].commission == D("1.30")
    assert update.cash == D(100000) - D(300) - D("1.30")
    assert update.positions[0].average_cost == D("1.5065")


def test_commission_rounds_to_the_cent() -> None:
    paper = engine(commission_per_share=D("0.005"))
    assert trade(paper, Side.BUY, 101, "1.00").fills[0].commission == D("0.51")


def test_average_cost_realized_and_unrealized_pnl() -> None:
    paper = engine()
    trade(paper, Side.BUY, 10, "100.00")
    trade(paper, Side.BUY, 10, "110.00", minute=1)
    update = trade(paper, Side.SELL, 5, "120.00", minute=2)
    position = update.positions[0]
    assert (position.quantity, position.average_cost, position.realized_pnl) == (D(15), D(105), D(75))
    summary = paper.summary({"AAPL": D(115)})
    assert summary.cash == D(98500)
    assert summary.unrealized_pnl == D(150)
    assert summary.equity == D(100225) == D(100000) + summary.realized_pnl + summary.unrealized_pnl


def test_average_cost_keeps_eight_places() -> None:
    paper = engine()
    trade(paper, Side.BUY, 1, "100.00")
    assert trade(paper, Side.BUY, 2, "101.00", minute=1).positions[0].average_cost == D("100.66666667")


def test_flip_from_long_to_short_realizes_the_long_and_opens_at_the_fill() -> None:
    paper = engine(allow_shorting=True)
    trade(paper, Side.BUY, 10, "100.00")
    position = trade(paper, Side.SELL, 15, "90.00", minute=1).positions[0]
    assert (position.quantity, position.average_cost, position.realized_pnl) == (D(-5), D(90), D(-100))


def test_flip_from_short_to_long() -> None:
    paper = engine(allow_shorting=True)
    trade(paper, Side.SELL, 10, "50.00")
    position = trade(paper, Side.BUY, 15, "40.00", minute=1).positions[0]
    assert (position.quantity, position.average_cost, position.realized_pnl) == (D(5), D(40), D(100))
    assert paper.cash == D(100000) + D(500) - D(600)


def test_options_carry_the_100_multiplier() -> None:
    paper = engine()
    assert trade(paper, Side.BUY, 1, "2.00", symbol=OPTION).cash == D(99800)
    assert paper.summary({OPTION: D("2.30")}).unrealized_pnl == D(30)
    assert trade(paper, Side.SELL, 1, "2.50", symbol=OPTION, minute=1).positions[0].realized_pnl == D(50)


def test_summary_values_unmarked_positions_at_average_cost() -> None:
    paper = engine()
    trade(paper, Side.BUY, 10, "100.00")
    summary = paper.summary({})
    assert (summary.equity, summary.unrealized_pnl, summary.buying_power) == (D(100000), D(0), D(99000))


def test_a_fill_that_the_account_can_no_longer_pay_for_is_rejected() -> None:
    paper = engine("1000")
    order = only_order(paper.submit(request(Side.BUY, 10), ny(10), None).orders)
    assert order.status_reason == "no quote for AAPL yet"
    rejected = only_order(paper.on_quote(quote(ask="150.00", at=ny(10, 1)), ny(10, 1)).orders)
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.status_reason == (
        "rejected at the fill: it needed $1,500.00 of buying power at 150.00 and $1,000.00 was available"
    )
    assert paper.cash == D(1000)


def test_closing_a_position_is_allowed_even_when_buying_power_is_negative() -> None:
    paper = engine("10000", allow_shorting=True)
    trade(paper, Side.BUY, 10, "100.00")
    trade(paper, Side.SELL, 100, "50.00", symbol="XYZ", minute=1)
    paper.on_quote(quote("XYZ", bid="200", ask="200", at=ny(10, 2)), ny(10, 2))
    assert paper.buying_power == D(-16000)
    msft = quote("MSFT", ask="1", at=ny(10, 3))
    more = only_order(paper.submit(request(Side.BUY, 1, symbol="MSFT"), ny(10, 3), msft).orders)
    assert more.status is OrderStatus.REJECTED
    trade(paper, Side.SELL, 10, "100.00", minute=4)
    assert paper.buying_power == D(-15000)


def test_changed_settings_apply_without_a_reset() -> None:
    paper = engine()
    paper.apply_settings(PaperSettings(commission_per_order=D(5)))
    assert trade(paper, Side.BUY, 1, "10.00").fills[0].commission == D(5)
    assert paper.cash == D(99985)
    paper.reset(PaperSettings(starting_cash=D(5000)))
    assert paper.cash == D(5000)


def test_all_money_stays_decimal_with_slippage_and_commission() -> None:
    # Decimal == float compares by value, so the types are checked explicitly.
    paper = engine(slippage_bps=D(5), commission_per_share=D("0.005"))
    update = trade(paper, Side.BUY, 10, "190.10")
    (fill,) = update.fills
    (position,) = update.positions
    assert fill.price == D("190.20")
    assert fill.commission == D("0.05")
    assert update.cash == D(100000) - D("1902.00") - D("0.05")
    summary = paper.summary({"AAPL": D("190.15")})
    values = [fill.price, fill.commission, update.cash, position.quantity, position.average_cost, position.realized_pnl]
    values += [summary.cash, summary.equity, summary.buying_power, summary.realized_pnl, summary.unrealized_pnl]
    values += [paper.buying_power]
    assert all(type(v) is Decimal for v in values)


_prices = st.one_of(st.none(), st.integers(-1, 400).map(lambda cents: Decimal(cents) / 100))
_quotes = st.builds(
    lambda bid, ask, last: Quote("AAPL", bid, ask, last, ny(10)), _prices, _prices, _prices
)
_floating = st.builds(
    lambda side, order_type, limit, stop: open_order(
        request(side, 10, order_type, limit=limit, stop=stop, tif=TimeInForce.GTC)
    ),
    st.sampled_from(Side),
    st.sampled_from(OrderType),
    st.sampled_from(["0.50", "1.00", "2.00", "3.50"]),
    st.sampled_from(["0.50", "1.00", "2.00", "3.50"]),
).filter(quote_floats)


@given(orders=st.lists(_floating, min_size=1, max_size=4), previous=st.one_of(st.none(), _quotes), new=_quotes)
def test_a_quote_that_raises_a_reserve_touches_above_the_lowest_floor(
    orders: list[Order], previous: Quote | None, new: Quote
) -> None:
    buys = [reserve_floor(o) for o in orders if o.request.side is Side.BUY]
    sells = [reserve_floor(o) for o in orders if o.request.side is Side.SELL]
    raised = any(reserve_basis(o, new) > reserve_basis(o, previous) for o in orders)
    if raised:
        assert may_raise_reserves(new, min(buys) if buys else None, min(sells) if sells else None)
