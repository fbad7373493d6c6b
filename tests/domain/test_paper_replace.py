"""Changing a working paper order: in place under the same id, time priority as a broker keeps it, refusals change nothing."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from app.domain.models import OrderChange, OrderStatus, OrderType, Position, AssetClass, Side, TimeInForce
from app.domain.order_change import build_order_change, change_summary, order_change_from_form
from app.domain.paper_engine import PaperEngine, PaperError, PaperSettings
from app.domain.validation import TicketError
from tests.domain.paper_support import D, engine, ny, only_order, open_order, quote, request


def _resting_limit(paper: PaperEngine, qty: int = 10, limit: str = "180.00", side: Side = Side.BUY, at: int = 10):
    req = request(side, qty, OrderType.LIMIT, limit=limit)
    update = paper.submit(req, ny(at), quote(bid="189.90", ask="190.00", last="189.95", at=ny(at)))
    assert only_order(update.orders).status is OrderStatus.NEW
    return req.client_order_id


def test_a_new_limit_changes_the_order_in_place_and_recomputes_the_reserve() -> None:
    paper = engine("10000")
    coid = _resting_limit(paper)
    assert paper.buying_power == D("8200.00")
    update = paper.replace(coid, OrderChange(quantity=D(20), limit_price=D("185.00")), ny(10, 5))
    changed = only_order(update.orders)
    assert changed.client_order_id == coid and changed.status is OrderStatus.NEW
    assert (changed.request.quantity, changed.request.limit_price) == (D(20), D("185.00"))
    assert changed.created_at == ny(10) and changed.updated_at == ny(10, 5)
    assert paper.orders[coid].request.limit_price == D("185.00")
    assert paper.buying_power == D("10000") - D("3700.00")
    assert paper.cash == D("10000") and update.fills == ()


def test_a_limit_moved_through_the_market_fills_at_once() -> None:
    paper = engine()
    coid = _resting_limit(paper)
    update = paper.replace(coid, OrderChange(limit_price=D("190.50")), ny(10, 1))
    filled = only_order(update.orders)
    assert filled.status is OrderStatus.FILLED and filled.request.limit_price == D("190.50")
    (fill,) = update.fills
    assert fill.price == D("190.00") and fill.quantity == D(10)
    assert paper.orders == {}


def test_a_change_that_no_longer_fits_the_buying_power_is_refused_and_changes_nothing() -> None:
    paper = engine("10000")
    coid = _resting_limit(paper)
    before = paper.orders[coid]
    with pytest.raises(PaperError, match=r"Not enough buying power for the change: the order would need \$18,000.00"):
        paper.replace(coid, OrderChange(quantity=D(100)), ny(10, 1))
    assert paper.orders[coid] == before and paper.buying_power == D("8200.00")


def test_a_smaller_change_always_fits_even_when_buying_power_is_short() -> None:
    paper = engine("10000")
    coid = _resting_limit(paper, qty=50)
    update = paper.replace(coid, OrderChange(quantity=D(40)), ny(10, 1))
    assert only_order(update.orders).request.quantity == D(40)
    assert paper.buying_power == D("10000") - D("7200.00")


def test_a_new_price_loses_time_priority_and_a_smaller_size_keeps_it() -> None:
    paper = engine()
    first = _resting_limit(paper, limit="180.00", at=10)
    second = _resting_limit(paper, limit="180.00", at=11)
    paper.replace(first, OrderChange(quantity=D(5)), ny(11, 30))
    assert [o.client_order_id for o in paper.open_orders] == [first, second]
    assert paper.orders[first].queue_time == ny(10)
    paper.replace(first, OrderChange(limit_price=D("181.00")), ny(12))
    assert [o.client_order_id for o in paper.open_orders] == [second, first]
    assert paper.orders[first].queue_time == ny(12) and paper.orders[first].created_at == ny(10)


def test_a_sell_changed_to_more_than_is_held_is_refused_with_short_selling_off() -> None:
    # 100 held and sold in one order: it may shrink, but growing past 100 would open a short.
    held = Position("AAPL", AssetClass.EQUITY, D(100), D("150"))
    paper = PaperEngine(PaperSettings(allow_shorting=False), cash=D(100_000), positions=[held])
    first = request(Side.SELL, 100, OrderType.LIMIT, limit="200.00")
    paper.submit(first, ny(10), quote(bid="189.90", ask="190.00", at=ny(10)))
    second = paper.submit(request(Side.SELL, 100, OrderType.LIMIT, limit="201.00"), ny(10, 1), None)
    assert "would sell short" in only_order(second.orders).status_reason
    smaller = paper.replace(first.client_order_id, OrderChange(quantity=D(60)), ny(10, 2))
    assert only_order(smaller.orders).request.quantity == D(60)
    with pytest.raises(PaperError, match="would sell short"):
        paper.replace(first.client_order_id, OrderChange(quantity=D(150)), ny(10, 3))
    assert paper.orders[first.client_order_id].request.quantity == D(60)


def test_the_quantity_cannot_go_to_or_below_what_already_filled() -> None:
    part = replace(
        open_order(request(Side.BUY, 10, OrderType.LIMIT, limit="180.00")),
        status=OrderStatus.PARTIALLY_FILLED,
        filled_quantity=D(4),
    )
    paper = PaperEngine(PaperSettings(), cash=D(100_000), orders=[part])
    with pytest.raises(PaperError, match="4 already filled: the new quantity must be more than that"):
        paper.replace(part.client_order_id, OrderChange(quantity=D(4)), ny(10, 1))
    update = paper.replace(part.client_order_id, OrderChange(quantity=D(6)), ny(10, 1))
    assert only_order(update.orders).remaining_quantity == D(2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (OrderChange(stop_price=D("170.00")), "A limit order has no stop price to change."),
        (OrderChange(limit_price=D("180.001")), "not a valid price"),
        (OrderChange(quantity=D("2.5")), "Trade whole shares"),
        (OrderChange(quantity=D(10), limit_price=D("180.00")), "Nothing changed"),
    ],
)
def test_impossible_changes_are_refused_in_trader_words(change: OrderChange, message: str) -> None:
    paper = engine()
    coid = _resting_limit(paper)
    before = paper.orders[coid]
    with pytest.raises(PaperError, match=message):
        paper.replace(coid, change, ny(10, 1))
    assert paper.orders[coid] == before


def test_an_order_that_is_no_longer_working_cannot_be_changed() -> None:
    paper = engine()
    coid = _resting_limit(paper)
    paper.cancel(coid, ny(10, 1))
    with pytest.raises(PaperError, match="no working paper order .* can't be changed"):
        paper.replace(coid, OrderChange(limit_price=D("181.00")), ny(10, 2))


def test_a_day_order_past_its_close_is_not_changed_but_left_to_expire() -> None:
    paper = engine()
    coid = _resting_limit(paper)
    with pytest.raises(PaperError, match="expired: a day order not filled by the close"):
        paper.replace(coid, OrderChange(limit_price=D("181.00")), ny(16, 1))
    (expired,) = paper.on_clock(ny(16, 1)).orders
    assert expired.status is OrderStatus.EXPIRED and expired.request.limit_price == D("180.00")


def test_a_triggered_stop_keeps_its_stop_price() -> None:
    req = request(Side.BUY, 10, OrderType.STOP_LIMIT, limit="195.00", stop="190.00", tif=TimeInForce.GTC)
    paper = PaperEngine(PaperSettings(), cash=D(100_000), orders=[open_order(req, triggered=True)])
    with pytest.raises(PaperError, match="The stop already triggered"):
        paper.replace(req.client_order_id, OrderChange(stop_price=D("191.00")), ny(10, 1))
    update = paper.replace(req.client_order_id, OrderChange(limit_price=D("194.00")), ny(10, 1))
    assert only_order(update.orders).stop_triggered


def test_the_modify_form_reads_only_what_changed_and_names_each_bad_field() -> None:
    order = open_order(request(Side.BUY, 10, OrderType.STOP_LIMIT, limit="195.00", stop="190.00"))
    change = build_order_change(order, quantity="10", limit_price="196.00", stop_price="190")
    assert change == OrderChange(limit_price=D("196.00"))
    assert change_summary(order, change) == "limit 195.00 → 196.00"
    with pytest.raises(TicketError) as bad:
        build_order_change(order, quantity="ten", limit_price="", stop_price="-1")
    assert bad.value.errors["quantity"].startswith("'ten' is not a number")
    assert bad.value.errors["limit_price"] == "Enter a limit price."
    assert set(bad.value.errors) == {"quantity", "limit_price", "stop_price"}
    with pytest.raises(TicketError, match="Nothing changed"):
        build_order_change(order, quantity="10", limit_price="195", stop_price="190.00")
    market = open_order(request(Side.BUY, 10, OrderType.MARKET))
    with pytest.raises(TicketError) as priced:
        build_order_change(market, quantity="5", limit_price="100")
    assert priced.value.errors == {"limit_price": "A market order takes no limit price; leave it empty."}


def test_the_modify_forms_values_read_as_typed_with_absent_and_empty_fields_alike() -> None:
    order = open_order(request(Side.BUY, 10, OrderType.LIMIT, limit="195.00"))
    assert order_change_from_form(order, {"quantity": "12", "limit_price": "195.00", "stop_price": None}) == OrderChange(
        quantity=D(12)
    )
    with pytest.raises(TicketError) as missing:
        order_change_from_form(order, {"limit_price": "194.50"})
    assert missing.value.errors == {"quantity": "Enter a quantity."}
