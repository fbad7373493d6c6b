"""Pure functions behind replace_order, per broker, fed with recorded (or documented, derived) payloads."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.brokers.alpaca.parse import fold_replacement_chain, fold_replacements, replaced_by
from app.brokers.base import OrderRejected, check_change
from app.brokers.ibkr.parse import modified_fields
from app.brokers.tastytrade.parse import fold_replacements as fold_tastytrade
from app.brokers.tastytrade.parse import items_of, replacement_body
from app.brokers.tradier.parse import modify_form
from app.domain.models import OrderChange, OrderStatus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
COID = "tb-0190a1b2c3d4e-5f6a7b8c"


def load(broker: str, name: str) -> Any:
    return json.loads((FIXTURES / broker / name).read_text(), parse_float=Decimal)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (OrderChange(), "nothing to change"),
        (OrderChange(quantity=Decimal(0)), "quantity must be more than zero"),
        (OrderChange(limit_price=Decimal("-0.01")), "limit price must be more than zero"),
        (OrderChange(stop_price=Decimal(0)), "stop price must be more than zero"),
    ],
)
def test_changes_that_cannot_be_made_are_refused_in_trader_words(change: OrderChange, message: str) -> None:
    with pytest.raises(OrderRejected, match=message):
        check_change(change, broker="Any broker")


def test_a_quantity_change_is_refused_where_the_broker_has_none() -> None:
    with pytest.raises(OrderRejected, match="Tradier can change a working order's prices but not its quantity"):
        check_change(OrderChange(quantity=Decimal(3)), broker="Tradier", quantity_allowed=False)
    check_change(OrderChange(limit_price=Decimal("1.5")), broker="Tradier", quantity_allowed=False)


def test_alpaca_chain_is_one_order_under_our_id_with_every_fill() -> None:
    old, new = load("alpaca", "orders_replace_chain.json")
    assert replaced_by(old) == new["id"]
    assert replaced_by(new) is None
    order = fold_replacement_chain([old, new])
    assert order.client_order_id == COID
    assert order.broker_order_id == new["id"]
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert (order.filled_quantity, order.quantity) == (Decimal(3), Decimal(5))
    assert order.average_fill_price == (2 * Decimal("299.5") + Decimal(301)) / 3


def test_alpaca_listing_folds_chains_whatever_the_order_of_the_list() -> None:
    old, new = load("alpaca", "orders_replace_chain.json")
    for listed in ([old, new], [new, old]):
        (order,) = fold_replacements(listed)
        assert (order.client_order_id, order.broker_order_id) == (COID, new["id"])
    alone = fold_replacements([new])
    assert alone[0].client_order_id == new["client_order_id"]


def test_tastytrade_cancel_replace_folds_into_the_working_order() -> None:
    items = items_of(load("tastytrade", "orders_live_replaced.json"))
    (order,) = fold_tastytrade(items)
    assert (order.client_order_id, order.broker_order_id) == (COID, "272985727")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert (order.filled_quantity, order.quantity, order.average_fill_price) == (Decimal(1), Decimal(3), Decimal("0.04"))


def test_tastytrade_replacement_body_carries_terms_not_legs() -> None:
    live = items_of(load("tastytrade", "orders_live_replaced.json"))[1]
    body = replacement_body(live, OrderChange(limit_price=Decimal("0.06")))
    assert body == {
        "time-in-force": "GTC", "order-type": "Limit", "external-identifier": COID, "price": "0.06",
        "price-effect": "Debit",
    }
    with pytest.raises(ValueError, match="no stop price"):
        replacement_body(live, OrderChange(stop_price=Decimal("0.01")))


def test_tradier_modify_form_keeps_what_the_change_leaves_alone() -> None:
    recorded = load("tradier", "order_get_single.json")["order"]
    limit = {**recorded, "type": "stop_limit", "price": Decimal("1.25"), "stop_price": Decimal("1.10")}
    assert modify_form(limit, OrderChange(limit_price=Decimal("1.30"))) == {
        "type": "stop_limit", "duration": "pre", "price": "1.30", "stop": "1.10",
    }
    with pytest.raises(OrderRejected, match="market order has no limit price"):
        modify_form(recorded, OrderChange(limit_price=Decimal("1.30")))


def test_ibkr_modification_checks_type_fills_and_whole_units() -> None:
    fields = modified_fields("STP LMT", Decimal(2), OrderChange(quantity=Decimal(5), stop_price=Decimal("99.5")))
    assert (fields.quantity, fields.limit_price, fields.aux_price) == (Decimal(5), None, Decimal("99.5"))
    with pytest.raises(ValueError, match="no limit price"):
        modified_fields("STP", Decimal(0), OrderChange(limit_price=Decimal(1)))
    with pytest.raises(ValueError, match="already filled"):
        modified_fields("LMT", Decimal(4), OrderChange(quantity=Decimal(4)))
    with pytest.raises(ValueError, match="whole shares"):
        modified_fields("LMT", Decimal(0), OrderChange(quantity=Decimal("2.5")))
