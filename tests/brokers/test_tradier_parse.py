"""Tradier's pure parsers and order-form builder, fed with recorded payloads (tests/fixtures/tradier)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from app.brokers.base import AccountType, OrderRejected
from app.brokers.tradier.parse import (
    STATUS_MAP,
    as_list,
    error_messages,
    order_form,
    parse_tradier_account,
    parse_tradier_order,
    parse_tradier_orders,
    parse_tradier_positions,
    parse_tradier_preview,
    parse_tradier_quotes,
    profile_accounts,
    tradier_side,
    unmatched_symbols,
)
from app.domain.models import AssetClass, OrderRequest, OrderStatus, OrderType, PositionEffect, Side, TimeInForce
from app.domain.symbols import parse_symbol

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tradier"
NOW = datetime(2024, 1, 12, 16, 0, tzinfo=UTC)


def load(name: str) -> Any:
    # Same decoding as the connector: exact decimals, never floats.
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def _request(symbol: str, side: Side, order_type: OrderType, **kwargs: Any) -> OrderRequest:
    quantity = Decimal(kwargs.pop("quantity", "1"))
    return OrderRequest(instrument=parse_symbol(symbol), side=side, quantity=quantity, order_type=order_type, **kwargs)


# ----------------------------------------------------------------------------- quirks


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("null", []),
        (None, []),
        ("", []),
        ({"a": 1}, [{"a": 1}]),
        ([{"a": 1}, {"a": 2}], [{"a": 1}, {"a": 2}]),
        ("X", ["X"]),
    ],
)
def test_as_list_normalises_every_collection_shape(value: Any, expected: list[Any]) -> None:
    assert as_list(value) == expected


def test_errors_payload_as_list_or_single_string() -> None:
    assert error_messages(load("error_errors_list.json")) == ["type is invalid for class option"]
    assert error_messages(load("error_errors_single_string.json")) == ["Invalid parameter, ^TNX: symbol not found."]
    assert error_messages(load("order_post_ok.json")) == []


# ----------------------------------------------------------------------------- orders


def test_order_fields_from_recorded_single_order() -> None:
    order = parse_tradier_order(load("order_get_single.json")["order"])
    assert order.broker_order_id == "123456"
    assert order.symbol == "SPY180720C00274000"  # the option symbol, not the underlying
    assert order.status is OrderStatus.EXPIRED
    assert order.raw_status == "expired"
    assert order.quantity == Decimal(1)
    assert order.filled_quantity == Decimal(0)
    assert order.average_fill_price is None  # 0.0 with nothing executed is no price
    assert order.updated_at == datetime(2018, 6, 6, 20, 16, 17, 357000, tzinfo=UTC)
    assert order.client_order_id == ""


@pytest.mark.parametrize("name", ["orders_get_one_element_object.json", "orders_get_many_array.json"])
def test_orders_envelope_object_or_array(name: str) -> None:
    orders = parse_tradier_orders(load(name))
    expected = 1 if "one_element" in name else 2
    assert [o.broker_order_id for o in orders] == ["123456", "123457"][:expected]


def test_orders_null_string_is_empty() -> None:
    assert parse_tradier_orders(load("orders_get_empty_null_string.json")) == []


def test_every_documented_status_is_mapped() -> None:
    documented = {"open", "partially_filled", "filled", "expired", "canceled", "pending", "rejected", "error"}
    assert set(STATUS_MAP) == documented
    assert OrderStatus.UNKNOWN not in STATUS_MAP.values()
    assert STATUS_MAP["pending"] is OrderStatus.PENDING_SUBMIT
    assert STATUS_MAP["open"] is OrderStatus.NEW
    assert STATUS_MAP["error"] is OrderStatus.REJECTED


def test_unknown_status_stays_unknown_with_raw_text(caplog: pytest.LogCaptureFixture) -> None:
    order = parse_tradier_order({"id": 7, "status": "held", "symbol": "AAPL", "tag": "tb-1"})
    assert order.status is OrderStatus.UNKNOWN
    assert order.raw_status == "held"
    assert "unknown status" in caplog.text


def test_filled_equity_order_with_tag_and_rejection_reason() -> None:
    raw = {
        "id": 8255194,
        "type": "market",
        "symbol": "CF",
        "side": "buy",
        "quantity": Decimal("10.0"),
        "status": "partially_filled",
        "avg_fill_price": Decimal("87.39"),
        "exec_quantity": Decimal("4.0"),
        "create_date": "2023-09-26T14:45:00.155Z",
        "transaction_date": "2023-09-26T14:45:00.216Z",
        "class": "equity",
        "tag": "tb-018c2b1f0a3-1a2b3c4d",
    }
    order = parse_tradier_order(raw)
    assert order.client_order_id == "tb-018c2b1f0a3-1a2b3c4d"
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal(4)
    assert order.average_fill_price == Decimal("87.39")
    rejected = parse_tradier_order({**raw, "status": "rejected", "reason_description": "Not enough buying power"})
    assert rejected.status is OrderStatus.REJECTED and rejected.reason == "Not enough buying power"


# ----------------------------------------------------------------------------- account


@pytest.mark.parametrize(
    ("name", "buying_power"),
    [("balances_margin.json", "12727.72"), ("balances_pdt.json", "12727.72"), ("balances_cash.json", "4343.38")],
)
def test_buying_power_by_account_kind(name: str, buying_power: str) -> None:
    info = parse_tradier_account("VA00000000", load(name), None, is_paper=True)
    assert info.buying_power == Decimal(buying_power)
    assert info.cash == Decimal("6363.86")
    assert info.equity == Decimal("17798.36")
    assert info.is_paper is True


def test_account_type_from_balances_without_profile() -> None:
    cash = parse_tradier_account("VA0", load("balances_cash.json"), None, is_paper=True)
    assert cash.account_type is AccountType.CASH
    pdt = parse_tradier_account("VA0", load("balances_pdt.json"), None, is_paper=True)
    assert pdt.account_type is AccountType.MARGIN
    assert "pattern day trader" in pdt.account_type_label


def test_account_type_from_profile_classification() -> None:
    accounts = {a["account_number"]: a for a in profile_accounts(load("user_profile.json"))}
    margin = load("balances_margin.json")
    individual = parse_tradier_account("VA000001", margin, accounts["VA000001"], is_paper=False)
    assert individual.account_type is AccountType.MARGIN
    assert individual.account_type_label == "Individual (margin)"
    assert individual.is_paper is False
    ira = parse_tradier_account("VA000002", margin, accounts["VA000002"], is_paper=False)
    assert ira.account_type is AccountType.IRA
    assert ira.account_type_label == "Traditional IRA"
    rollover = parse_tradier_account("VA000003", load("balances_cash.json"), accounts["VA000003"], is_paper=False)
    assert rollover.account_type is AccountType.IRA


def test_profile_single_account_object() -> None:
    payload = {"profile": {"account": {"account_number": "VA9", "type": "cash"}, "id": "x", "name": "n"}}
    assert [a["account_number"] for a in profile_accounts(payload)] == ["VA9"]


def test_account_repr_shows_last_four_only() -> None:
    info = parse_tradier_account("VA12345678", load("balances_margin.json"), None, is_paper=True)
    assert "VA1234" not in repr(info) and "5678" in repr(info)


# ----------------------------------------------------------------------------- positions


def test_positions_many_one_and_null() -> None:
    many = parse_tradier_positions(load("positions_get_many_array.json"))
    assert [p.symbol for p in many] == ["AAPL", "AMZN", "CAH", "FB"]
    assert many[1].average_cost == Decimal("1870.7")
    assert [p.symbol for p in parse_tradier_positions(load("positions_get_one_element_object.json"))] == ["AAPL"]
    assert parse_tradier_positions(load("positions_get_empty_null_string.json")) == []


def test_position_average_cost_is_per_share_or_per_contract_share() -> None:
    payload = {
        "positions": {
            "position": [
                {"cost_basis": Decimal("-1500.00"), "quantity": Decimal("-10.0"), "symbol": "XYZ", "id": 1},
                {"cost_basis": Decimal("210.00"), "quantity": Decimal("2.0"), "symbol": "AAPL250117C00150000", "id": 2},
            ]
        }
    }
    short, option = parse_tradier_positions(payload)
    assert short.quantity == Decimal(-10) and short.average_cost == Decimal(150)
    assert option.asset_class is AssetClass.OPTION
    assert option.average_cost == Decimal("1.05")


# ----------------------------------------------------------------------------- quotes and preview


def test_quotes_many_with_exact_decimals_and_millisecond_times() -> None:
    quotes = parse_tradier_quotes(load("quotes_get_many_array.json"), NOW)
    assert set(quotes) == {"AAPL", "TSLA240119P00250000"}
    aapl = quotes["AAPL"]
    assert aapl.last == Decimal("185.565")
    assert (aapl.bid, aapl.ask) == (Decimal("185.54"), Decimal("185.55"))
    assert aapl.bid_size == Decimal(2) and aapl.ask_size == Decimal(3)
    assert aapl.timestamp == datetime.fromtimestamp(1705075279, tz=UTC)
    assert quotes["TSLA240119P00250000"].ask == Decimal("29.3")


def test_quotes_single_partial_and_all_unmatched() -> None:
    assert set(parse_tradier_quotes(load("quotes_get_one_element_object.json"), NOW)) == {"AAPL"}
    partial = load("quotes_get_partial_unmatched.json")
    assert set(parse_tradier_quotes(partial, NOW)) == {"AAPL"}
    assert unmatched_symbols(partial) == ["SEFDF"]
    none = load("quotes_get_all_unmatched.json")
    assert parse_tradier_quotes(none, NOW) == {}
    assert unmatched_symbols(none) == ["SEFDF"]


def test_quote_without_times_uses_the_fallback() -> None:
    quotes = parse_tradier_quotes({"quotes": {"quote": {"symbol": "X", "bid": None, "ask": 0, "last": None}}}, NOW)
    assert quotes["X"].timestamp == NOW
    assert quotes["X"].bid is None and quotes["X"].ask == Decimal(0)


def test_preview_costs() -> None:
    preview = parse_tradier_preview(load("order_post_preview.json"))
    assert preview.estimated_cost == Decimal("34.715100000000")
    assert preview.commission == Decimal("3.49000000")
    assert preview.buying_power_effect == Decimal(0)


def test_preview_with_false_result_is_a_rejection() -> None:
    with pytest.raises(OrderRejected):
        parse_tradier_preview({"order": {"status": "ok", "result": False}})


# ----------------------------------------------------------------------------- order forms


def test_equity_limit_form_matches_the_documented_body() -> None:
    documented = dict(parse_qsl((FIXTURES / "order_post_request_equity_limit.form").read_text().strip()))
    request = _request(
        "SPY", Side.BUY, OrderType.LIMIT, quantity="10", limit_price=Decimal("1.00"), client_order_id="my-tag-example-1"
    )
    assert order_form(request, "buy") == documented


def test_option_stop_limit_gtc_form() -> None:
    request = _request(
        "AAPL250117C00150000",
        Side.SELL,
        OrderType.STOP_LIMIT,
        quantity="2",
        limit_price=Decimal("1.05"),
        stop_price=Decimal("1.10"),
        time_in_force=TimeInForce.GTC,
    )
    form = order_form(request, "sell_to_close", preview=True)
    assert form == {
        "class": "option",
        "symbol": "AAPL",
        "option_symbol": "AAPL250117C00150000",
        "side": "sell_to_close",
        "quantity": "2",
        "type": "stop_limit",
        "duration": "gtc",
        "price": "1.05",
        "stop": "1.10",
        "tag": request.client_order_id,
        "preview": "true",
    }


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"client_order_id": "bad_tag"}, "cannot be a Tradier tag"),
        ({"client_order_id": "x" * 256}, "cannot be a Tradier tag"),
        ({"quantity": Decimal("1.5")}, "whole shares"),
        ({"quantity": Decimal(0)}, "whole shares"),
        ({"extended_hours": True}, "Extended-hours"),
    ],
)
def test_orders_tradier_would_refuse_are_stopped_before_sending(changes: dict[str, Any], text: str) -> None:
    request = dataclasses.replace(_request("AAPL", Side.BUY, OrderType.MARKET), **changes)
    with pytest.raises(OrderRejected, match=text):
        order_form(request, "buy")


def test_limit_order_without_price_is_stopped() -> None:
    with pytest.raises(OrderRejected, match="limit price"):
        order_form(_request("AAPL", Side.BUY, OrderType.LIMIT), "buy")


@pytest.mark.parametrize(
    ("symbol", "side", "effect", "held", "expected"),
    [
        ("AAPL", Side.BUY, PositionEffect.AUTO, "0", "buy"),
        ("AAPL", Side.BUY, PositionEffect.AUTO, "-5", "buy_to_cover"),
        ("AAPL", Side.SELL, PositionEffect.AUTO, "5", "sell"),
        ("AAPL", Side.SELL, PositionEffect.AUTO, "0", "sell_short"),
        ("AAPL", Side.SELL, PositionEffect.OPEN, "5", "sell_short"),
        ("AAPL", Side.BUY, PositionEffect.CLOSE, "0", "buy_to_cover"),
        ("AAPL250117C00150000", Side.BUY, PositionEffect.AUTO, "0", "buy_to_open"),
        ("AAPL250117C00150000", Side.BUY, PositionEffect.AUTO, "-1", "buy_to_close"),
        ("AAPL250117C00150000", Side.SELL, PositionEffect.AUTO, "2", "sell_to_close"),
        ("AAPL250117C00150000", Side.SELL, PositionEffect.AUTO, "0", "sell_to_open"),
        ("AAPL250117C00150000", Side.SELL, PositionEffect.CLOSE, "0", "sell_to_close"),
        ("AAPL250117C00150000", Side.BUY, PositionEffect.OPEN, "-1", "buy_to_open"),
    ],
)
def test_side_words(symbol: str, side: Side, effect: PositionEffect, held: str, expected: str) -> None:
    assert tradier_side(parse_symbol(symbol), side, effect, Decimal(held)) == expected
