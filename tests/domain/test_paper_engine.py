"""The paper engine over time: sessions and holidays, waiting for the open, stale and missing quotes, expiry."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.domain.models import OrderStatus, OrderType, Side, TimeInForce, TradingMode
from app.domain.paper_engine import PaperEngine, PaperError
from tests.domain.paper_support import OPTION, D, engine, ny, only_order, quote, request

SATURDAY = date(2025, 3, 8)
MONDAY = date(2025, 3, 10)
GOOD_FRIDAY = date(2025, 4, 18)


def test_market_buy_in_session_fills_at_once() -> None:
    paper = engine()
    req = request(Side.BUY, 10)
    update = paper.submit(req, ny(10, 5), quote(bid="189.90", ask="190.10", at=ny(10, 4)))
    order = only_order(update.orders)
    assert order.status is OrderStatus.FILLED
    assert order.mode is TradingMode.PAPER
    assert order.filled_quantity == D(10)
    assert order.average_fill_price == D("190.10")
    assert order.status_reason == "filled at 190.10"
    (fill,) = update.fills
    assert (fill.client_order_id, fill.symbol, fill.side, fill.quantity, fill.price, fill.filled_at) == (
        req.client_order_id, "AAPL", Side.BUY, D(10), D("190.10"), ny(10, 5)
    )
    (position,) = update.positions
    assert (position.quantity, position.average_cost) == (D(10), D("190.10"))
    assert update.cash == paper.cash == D("98099.00")
    assert update


def test_an_order_placed_on_the_weekend_waits_for_monday_and_fills_on_a_fresh_quote() -> None:
    paper = engine()
    friday_close = quote(bid="99.00", ask="100.00", at=ny(15, 59, day=date(2025, 3, 7)))
    order = only_order(paper.submit(request(Side.BUY, 5), ny(11, day=SATURDAY), friday_close).orders)
    assert order.status is OrderStatus.NEW
    assert order.status_reason == "waiting for the market to open at 09:30 ET on Mon 10 Mar 2025"
    assert not paper.on_clock(ny(12, day=SATURDAY))
    update = paper.on_quote(quote(bid="101.00", ask="101.50", at=ny(9, 30, 1, day=MONDAY)), ny(9, 30, 1, day=MONDAY))
    filled = only_order(update.orders)
    assert filled.status is OrderStatus.FILLED
    assert filled.average_fill_price == D("101.50")


def test_holiday_orders_wait_for_the_next_session() -> None:
    paper = engine()
    update = paper.submit(request(Side.BUY, 1), ny(10, day=GOOD_FRIDAY), quote(ask="10", at=ny(10, day=GOOD_FRIDAY)))
    assert only_order(update.orders).status_reason == "waiting for the market to open at 09:30 ET on Mon 21 Apr 2025"
    assert not update.fills
    # The holiday's quote is older than Monday's open, so it cannot fill the order at the open.
    opened = paper.on_clock(ny(9, 30, day=date(2025, 4, 21)))
    assert only_order(opened.orders).status_reason.startswith("waiting for a fresh quote for AAPL")
    assert not opened.fills


def test_a_quote_from_before_the_open_never_fills_at_the_open() -> None:
    paper = engine()
    pre_market = quote(bid="50.00", ask="50.10", at=ny(9, 15))
    order = only_order(paper.submit(request(Side.BUY, 1), ny(9, 20), pre_market).orders)
    assert order.status_reason == "waiting for the market to open at 09:30 ET on Tue 11 Mar 2025"
    update = paper.on_clock(ny(9, 30, 5))
    assert not update.fills
    assert only_order(update.orders).status_reason == (
        "waiting for a fresh quote for AAPL: the last one is from 09:15 ET on Tue 11 Mar 2025, before this session"
    )
    update = paper.on_quote(quote(bid="52.00", ask="52.20", at=ny(9, 30, 6)), ny(9, 30, 6))
    assert update.fills[0].price == D("52.20")


def test_without_a_quote_a_market_order_waits_and_nothing_fills() -> None:
    paper = engine()
    order = only_order(paper.submit(request(Side.BUY, 3, symbol="ZZZZ"), ny(10), None).orders)
    assert order.status is OrderStatus.NEW
    assert order.status_reason == "no quote for ZZZZ yet"
    assert not paper.on_clock(ny(11))
    assert not paper.on_quote(quote("AAPL", ask="5", at=ny(11)), ny(11))
    assert paper.cash == D(100000)
    assert paper.positions == {}


def test_a_resting_order_is_not_rewritten_on_every_tick() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    assert only_order(paper.submit(req, ny(10), quote(ask="10.50", at=ny(10))).orders).status_reason == (
        "resting: ask 10.50 above limit 10.00"
    )
    assert not paper.on_quote(quote(ask="10.40", at=ny(10, 1)), ny(10, 1))
    assert not paper.on_clock(ny(10, 2))
    assert paper.on_quote(quote(ask="9.99", at=ny(10, 3)), ny(10, 3)).fills[0].price == D("9.99")


def test_day_orders_expire_at_the_close() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    paper.submit(req, ny(10), quote(ask="10.50", at=ny(10)))
    assert not paper.on_clock(ny(15, 59, 59))
    expired = only_order(paper.on_clock(ny(16)).orders)
    assert expired.status is OrderStatus.EXPIRED
    assert expired.status_reason == "expired: a day order not filled by the close at 16:00 ET on Tue 11 Mar 2025"
    assert paper.open_orders == ()


def test_day_orders_expire_at_an_early_close() -> None:
    paper = engine()
    day = date(2025, 11, 28)
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    paper.submit(req, ny(10, day=day), quote(ask="11", at=ny(10, day=day)))
    assert only_order(paper.on_clock(ny(13, day=day)).orders).status is OrderStatus.EXPIRED


def test_a_day_order_placed_after_the_close_is_for_the_next_session() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    assert only_order(paper.submit(req, ny(17), None).orders).status_reason == (
        "waiting for the market to open at 09:30 ET on Wed 12 Mar 2025"
    )
    assert not any(o.status is OrderStatus.EXPIRED for o in paper.on_clock(ny(18)).orders)
    next_close = ny(16, day=date(2025, 3, 12))
    assert only_order(paper.on_clock(next_close).orders).status is OrderStatus.EXPIRED


def test_after_a_restart_the_next_morning_yesterdays_day_order_expires_instead_of_filling() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    paper.submit(req, ny(10), quote(ask="10.50", at=ny(10)))
    restored = PaperEngine(
        paper.settings, cash=paper.cash, positions=paper.positions.values(), orders=paper.orders.values()
    )
    next_morning = ny(9, 45, day=date(2025, 3, 12))
    update = restored.on_quote(quote(ask="9.00", at=next_morning), next_morning)
    assert not update.fills
    assert only_order(update.orders).status is OrderStatus.EXPIRED
    assert restored.cash == D(100000)


def test_gtc_orders_survive_the_close_and_fill_the_next_day() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00", tif=TimeInForce.GTC)
    paper.submit(req, ny(10), quote(ask="10.50", at=ny(10)))
    overnight = only_order(paper.on_clock(ny(16, 30)).orders)
    assert overnight.status is OrderStatus.NEW
    assert overnight.status_reason == "waiting for the market to open at 09:30 ET on Wed 12 Mar 2025"
    tomorrow = ny(10, day=date(2025, 3, 12))
    assert paper.on_quote(quote(ask="9.95", at=tomorrow), tomorrow).fills[0].price == D("9.95")


def test_extended_hours_limit_orders_trade_in_the_pre_market() -> None:
    paper = engine()
    extended = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00", extended=True)
    regular = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    book = quote(ask="9.90", at=ny(7))
    assert paper.submit(extended, ny(7), book).fills[0].price == D("9.90")
    assert only_order(paper.submit(regular, ny(7), book).orders).status_reason == (
        "waiting for the market to open at 09:30 ET on Tue 11 Mar 2025"
    )


def test_extended_hours_orders_wait_for_the_pre_market_and_expire_after_the_post_market() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00", extended=True)
    assert only_order(paper.submit(req, ny(3), None).orders).status_reason == (
        "waiting for the pre-market to open at 04:00 ET on Tue 11 Mar 2025"
    )
    assert not any(o.status is OrderStatus.EXPIRED for o in paper.on_clock(ny(19, 59)).orders)
    expired = only_order(paper.on_clock(ny(20)).orders)
    assert expired.status is OrderStatus.EXPIRED
    assert "end of the post-market at 20:00 ET" in expired.status_reason


def test_option_orders_expire_with_the_option_and_expired_options_are_refused() -> None:
    paper = engine()
    expiry = date(2025, 3, 21)
    req = request(Side.BUY, 1, OrderType.LIMIT, symbol=OPTION, limit="1.00", tif=TimeInForce.GTC)
    paper.submit(req, ny(10), quote(OPTION, ask="1.50", at=ny(10)))
    expired = only_order(paper.on_clock(ny(16, day=expiry)).orders)
    assert expired.status is OrderStatus.EXPIRED
    assert expired.status_reason == "expired with the option at 16:00 ET on Fri 21 Mar 2025"
    late = only_order(paper.submit(request(Side.BUY, 1, symbol=OPTION), ny(16, 1, day=expiry), None).orders)
    assert late.status is OrderStatus.REJECTED
    assert late.status_reason == f"{OPTION} expired at 16:00 ET on Fri 21 Mar 2025; it no longer trades."


def test_cancel_a_working_order() -> None:
    paper = engine()
    req = request(Side.BUY, 1, OrderType.LIMIT, limit="10.00")
    paper.submit(req, ny(10), quote(ask="10.50", at=ny(10)))
    canceled = only_order(paper.cancel(req.client_order_id, ny(10, 1)).orders)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.updated_at == ny(10, 1)
    assert not paper.on_quote(quote(ask="9.00", at=ny(10, 2)), ny(10, 2))


def test_cancel_refuses_unknown_and_finished_orders() -> None:
    paper = engine()
    with pytest.raises(PaperError, match="no working paper order with id nope"):
        paper.cancel("nope", ny(10))
    req = request(Side.BUY, 1)
    paper.submit(req, ny(10), quote(ask="10", at=ny(10)))
    with pytest.raises(PaperError, match=f"no working paper order with id {req.client_order_id}"):
        paper.cancel(req.client_order_id, ny(10, 1))
    assert paper.cash == D("99990")


def test_finished_orders_are_released_after_the_update_that_finishes_them() -> None:
    paper = engine()
    resting = request(Side.BUY, 1, OrderType.LIMIT, limit="9.00", tif=TimeInForce.GTC)
    paper.submit(resting, ny(10), quote(ask="10", at=ny(10)))
    filled = request(Side.BUY, 1)
    assert paper.submit(filled, ny(10, 1), None).fills
    assert set(paper.orders) == {resting.client_order_id}
    assert only_order(paper.cancel(resting.client_order_id, ny(10, 2)).orders).status is OrderStatus.CANCELED
    assert paper.orders == {} and paper.open_orders == () and paper.symbols_to_watch() == frozenset({"AAPL"})


def test_a_client_order_id_is_used_once() -> None:
    paper = engine()
    req = request(Side.BUY, 1)
    paper.submit(req, ny(10), None)
    with pytest.raises(PaperError, match="already exists"):
        paper.submit(req, ny(10, 1), None)


def test_a_malformed_request_is_recorded_as_rejected() -> None:
    paper = engine()
    req = request(Side.BUY, "1.5", OrderType.LIMIT)
    order = only_order(paper.submit(req, ny(10), quote(ask="10", at=ny(10))).orders)
    assert order.status is OrderStatus.REJECTED
    assert order.status_reason == (
        "Trade whole shares: fractional quantities are not supported. A limit order needs a limit price."
    )
    # The update is the record (the journal keeps it); the engine holds working orders only.
    assert req.client_order_id not in paper.orders


def test_times_must_be_aware_and_quotes_must_match_the_order() -> None:
    paper = engine()
    with pytest.raises(ValueError, match="timezone-aware"):
        paper.on_clock(datetime(2025, 3, 11, 10))
    with pytest.raises(ValueError, match="cannot price"):
        paper.submit(request(symbol="MSFT"), ny(10), quote("AAPL", ask="1"))


def test_now_may_be_given_in_utc() -> None:
    paper = engine()
    now = datetime(2025, 3, 11, 14, 0, tzinfo=timezone.utc)
    assert paper.submit(request(Side.BUY, 1), now, quote(ask="10", at=now)).fills


def test_restored_engine_keeps_working_resting_orders() -> None:
    paper = engine(allow_shorting=True)
    buy = request(Side.BUY, 10)
    paper.submit(buy, ny(10), quote(ask="20.00", at=ny(10)))
    stop = request(Side.SELL, 10, OrderType.STOP_LIMIT, stop="19.00", limit="18.50", tif=TimeInForce.GTC)
    update = paper.submit(stop, ny(10, 1), quote(bid="18.40", ask="19.40", last="18.95", at=ny(10, 1)))
    assert only_order(update.orders).stop_triggered
    restored = PaperEngine(
        paper.settings, cash=paper.cash, positions=paper.positions.values(), orders=paper.orders.values()
    )
    assert restored.open_orders == paper.open_orders
    assert restored.symbols_to_watch() == frozenset({"AAPL"})
    # The stop was triggered before the restart; the limit alone decides now.
    later = ny(11, day=date(2025, 3, 12))
    update = restored.on_quote(quote(bid="18.60", ask="18.80", last="19.50", at=later), later)
    assert update.fills[0].price == D("18.60")
    assert restored.positions["AAPL"].quantity == 0
    assert restored.summary({}).realized_pnl == D("-14.00")


def test_symbols_to_watch_and_reset() -> None:
    paper = engine()
    paper.submit(request(Side.BUY, 1, symbol="MSFT"), ny(10), quote("MSFT", ask="400", at=ny(10)))
    paper.submit(request(Side.BUY, 1, OrderType.LIMIT, symbol="IBM", limit="1.00"), ny(10), None)
    assert paper.symbols_to_watch() == frozenset({"MSFT", "IBM"})
    paper.reset(paper.settings)
    assert (paper.cash, paper.positions, paper.orders, paper.symbols_to_watch()) == (D(100000), {}, {}, frozenset())


def test_submit_without_a_quote_uses_the_latest_quote_the_engine_has_seen() -> None:
    paper = engine()
    paper.submit(request(Side.BUY, 1, OrderType.LIMIT, limit="1.00", tif=TimeInForce.GTC), ny(10), None)
    paper.on_quote(quote(bid="10.00", ask="10.05", at=ny(10, 1)), ny(10, 1))
    assert paper.submit(request(Side.BUY, 1), ny(10, 2), None).fills[0].price == D("10.05")
