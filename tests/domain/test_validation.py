"""Order-ticket validation: every field's rules, and that bad input builds nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.models import AssetClass, OrderType, Side, TimeInForce
from app.domain.validation import TicketError, build_order_request, order_request_from_ticket


def ticket(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"}
    values.update(overrides)
    return values


def errors_for(**overrides: object) -> dict[str, str]:
    with pytest.raises(TicketError) as caught:
        build_order_request(**ticket(**overrides))  # type: ignore[arg-type]
    return caught.value.errors


def test_a_good_equity_limit_ticket_builds_the_request() -> None:
    request = build_order_request(
        symbol=" aapl ", side="Buy", quantity="1,000", order_type="limit", limit_price="$189.50", time_in_force="GTC"
    )
    assert request.instrument.symbol == "AAPL"
    assert request.instrument.asset_class is AssetClass.EQUITY
    assert request.side is Side.BUY
    assert request.quantity == Decimal(1000)
    assert request.order_type is OrderType.LIMIT
    assert request.limit_price == Decimal("189.50")
    assert request.stop_price is None
    assert request.time_in_force is TimeInForce.GTC
    assert request.client_order_id.startswith("tb-")


def test_an_option_ticket_uses_the_occ_symbol() -> None:
    request = build_order_request(
        symbol="AAPL  250117C00150000", side="sell", quantity="2", order_type="stop-limit",
        limit_price="3.10", stop_price="3.20",
    )
    assert request.instrument.symbol == "AAPL250117C00150000"
    assert request.instrument.is_option
    assert request.order_type is OrderType.STOP_LIMIT
    assert (request.stop_price, request.limit_price) == (Decimal("3.20"), Decimal("3.10"))


def test_whole_quantity_written_with_decimals_is_accepted_as_whole() -> None:
    assert build_order_request(**ticket(quantity="10.0")).quantity == Decimal(10)  # type: ignore[arg-type]


def test_every_bad_field_is_reported_at_once() -> None:
    errors = errors_for(symbol="123", side="hold", quantity="", order_type="trailing", time_in_force="ioc")
    assert set(errors) == {"symbol", "side", "quantity", "order_type", "time_in_force"}
    assert errors["side"] == "Choose buy or sell."
    assert errors["quantity"] == "Enter a quantity."


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "at least 1"),
        ("-5", "at least 1"),
        ("2.5", "whole shares"),
        ("1,5", "not a number"),
        ("1e3", "not a number"),
        ("abc", "not a number"),
        ("1000001", "At most 1,000,000 shares"),
    ],
)
def test_quantity_rules(quantity: str, message: str) -> None:
    assert message in errors_for(quantity=quantity)["quantity"]


def test_option_quantity_has_its_own_maximum() -> None:
    errors = errors_for(symbol="AAPL250117C00150000", quantity="10001")
    assert errors["quantity"] == "At most 10,000 contracts per order; split larger orders."


def test_limit_price_is_required_for_limit_orders_and_refused_for_market_orders() -> None:
    assert errors_for(order_type="limit")["limit_price"] == "A limit order needs a limit price."
    assert errors_for(order_type="stop_limit", stop_price="10")["limit_price"] == (
        "A stop-limit order needs a limit price."
    )
    assert "takes no limit price" in errors_for(order_type="market", limit_price="10")["limit_price"]
    assert "takes no limit price" in errors_for(order_type="stop", stop_price="9", limit_price="10")["limit_price"]


def test_stop_price_is_required_for_stops_and_refused_otherwise() -> None:
    assert errors_for(order_type="stop")["stop_price"] == "A stop order needs a stop price."
    assert "takes no stop price" in errors_for(order_type="limit", limit_price="10", stop_price="9")["stop_price"]


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0", "must be more than zero"),
        ("-1.50", "must be more than zero"),
        ("189.123", "prices of $1.00 and above go in steps of $0.01"),
        ("0.12345", "prices below $1.00 go in steps of $0.0001"),
        ("2000000", "above the 1,000,000.00 maximum"),
    ],
)
def test_equity_price_rules(price: str, message: str) -> None:
    assert message in errors_for(order_type="limit", limit_price=price)["limit_price"]


def test_sub_dollar_prices_may_use_four_decimals() -> None:
    request = build_order_request(**ticket(order_type="limit", limit_price="0.1234"))  # type: ignore[arg-type]
    assert request.limit_price == Decimal("0.1234")


def test_option_prices_trade_in_cents() -> None:
    errors = errors_for(symbol="AAPL250117C00150000", order_type="limit", limit_price="0.555")
    assert "options trade in steps of $0.01" in errors["limit_price"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"order_type": "market"}, "must be limit orders"),
        ({"order_type": "limit", "limit_price": "10", "time_in_force": "gtc"}, "must be DAY orders"),
        ({"symbol": "AAPL250117C00150000", "order_type": "limit", "limit_price": "1"}, "Options trade only"),
    ],
)
def test_extended_hours_is_for_equity_day_limit_orders(overrides: dict[str, object], message: str) -> None:
    assert message in errors_for(extended_hours=True, **overrides)["extended_hours"]


def test_extended_hours_equity_day_limit_is_accepted() -> None:
    values = ticket(order_type="limit", limit_price="10", extended_hours=True)
    request = build_order_request(**values)  # type: ignore[arg-type]
    assert request.extended_hours


def test_expired_option_is_refused_when_today_is_known() -> None:
    errors = errors_for(symbol="AAPL250117C00150000", today=date(2025, 1, 18))
    assert errors["symbol"] == "AAPL250117C00150000 expired on 17 Jan 2025; it no longer trades."
    values = ticket(symbol="AAPL250117C00150000", today=date(2025, 1, 17))
    request = build_order_request(**values)  # type: ignore[arg-type]
    assert request.instrument.is_option


def test_ticket_error_message_reads_as_sentences() -> None:
    with pytest.raises(TicketError) as caught:
        build_order_request(**ticket(side="", quantity="0"))  # type: ignore[arg-type]
    assert str(caught.value) == "Choose buy or sell. Enter a quantity of at least 1 (shares)."


def test_the_order_tickets_values_build_the_request_paper_and_live_share() -> None:
    request = order_request_from_ticket(
        {"symbol": "msft", "side": "sell", "quantity": "5", "order_type": "stop", "stop_price": "401.25",
         "limit_price": None, "time_in_force": "gtc", "extended_hours": False}
    )
    assert (request.symbol, request.side, request.quantity) == ("MSFT", Side.SELL, Decimal(5))
    assert (request.order_type, request.stop_price, request.limit_price) == (OrderType.STOP, Decimal("401.25"), None)
    assert request.time_in_force is TimeInForce.GTC


def test_a_ticket_missing_fields_names_each_one_and_defaults_to_day() -> None:
    with pytest.raises(TicketError) as caught:
        order_request_from_ticket({"symbol": "AAPL"})
    assert set(caught.value.errors) == {"side", "quantity", "order_type"}
    assert order_request_from_ticket(ticket()).time_in_force is TimeInForce.DAY
