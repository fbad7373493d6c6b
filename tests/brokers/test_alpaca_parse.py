"""Alpaca's pure parsers and request builders, fed with recorded payloads (tests/fixtures/alpaca/SOURCES.md)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import app.brokers.alpaca.sdk  # noqa: F401 - loads alpaca-py with its import-time warning filtered
from alpaca.trading.enums import OrderStatus as SdkOrderStatus
from app.brokers.alpaca.orders import build_order_request, estimate_preview, resolve_position_intent
from app.brokers.alpaca.parse import (
    ORDER_STATUS_MAP,
    AlpacaParseError,
    looks_like_paper_account,
    parse_alpaca_account,
    parse_alpaca_option_snapshots,
    parse_alpaca_order,
    parse_alpaca_orders,
    parse_alpaca_positions,
    parse_alpaca_quotes,
    parse_error_body,
    parse_timestamp,
    to_decimal,
)
from app.brokers.base import AccountType
from app.domain.models import (
    AssetClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEffect,
    Quote,
    Side,
    TimeInForce,
)
from app.domain.symbols import parse_symbol

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alpaca"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# -- account ----------------------------------------------------------------------------------


def test_account_fixture_becomes_account_info_with_decimals() -> None:
    info = parse_alpaca_account(load("account_get_v2_account.json"), is_paper=False)
    assert info.account_number == "010203ABCD"
    assert info.buying_power == Decimal("262113.632")
    assert info.cash == Decimal("-23140.2")
    assert info.equity == Decimal("103820.56")
    assert info.currency == "USD"
    assert info.is_paper is False
    # multiplier "4": pattern-day-trader margin.
    assert info.account_type is AccountType.MARGIN
    assert "4x" in info.account_type_label


@pytest.mark.parametrize(
    ("multiplier", "expected"),
    [("1", AccountType.CASH), ("2", AccountType.MARGIN), ("4", AccountType.MARGIN), (2, AccountType.MARGIN),
     (None, AccountType.UNKNOWN), ("3", AccountType.UNKNOWN)],
)
def test_account_type_comes_from_the_multiplier(multiplier: Any, expected: AccountType) -> None:
    raw = dict(load("account_get_v2_account.json"))
    raw.pop("multiplier")
    if multiplier is not None:
        raw["multiplier"] = multiplier
    assert parse_alpaca_account(raw, is_paper=True).account_type is expected


def test_account_without_the_day_trading_fields_removed_in_2026_still_parses() -> None:
    raw = dict(load("account_get_v2_account.json"))
    for key in ("daytrading_buying_power", "pattern_day_trader", "daytrade_count"):
        raw.pop(key)
    assert parse_alpaca_account(raw, is_paper=True).buying_power == Decimal("262113.632")


def test_account_without_buying_power_is_an_error_not_a_zero() -> None:
    raw = dict(load("account_get_v2_account.json"))
    raw.pop("buying_power")
    with pytest.raises(AlpacaParseError):
        parse_alpaca_account(raw, is_paper=True)


def test_paper_accounts_are_recognised_by_their_pa_prefix() -> None:
    assert looks_like_paper_account("PA3G5ZX0M9BV")
    assert not looks_like_paper_account("010203ABCD")


# -- orders -----------------------------------------------------------------------------------


def test_accepted_market_order_fixture() -> None:
    order = parse_alpaca_order(load("order_post_market_accepted.json"))
    assert order.broker_order_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert order.client_order_id == "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"
    assert order.symbol == "SPY"
    assert order.raw_status == "accepted"
    assert order.status is OrderStatus.PENDING_SUBMIT
    assert order.quantity == Decimal(1)  # a JSON number in this mock; strings on the real API
    assert order.filled_quantity == Decimal(0)
    assert order.average_fill_price is None
    assert order.updated_at == datetime(2021, 3, 16, 18, 38, 1, 942282, tzinfo=timezone.utc)


def test_order_list_fixture_reports_no_fill_price_before_a_fill() -> None:
    (order,) = parse_alpaca_orders(load("orders_get_list.json"))
    assert order.status is OrderStatus.NEW
    # The mock sends filled_avg_price 0 with filled_qty 0: that is not a price.
    assert order.average_fill_price is None


def _order(**changes: Any) -> dict[str, Any]:
    return {**load("order_post_limit_accepted.json"), **changes}


def test_filled_order_with_string_numbers() -> None:
    order = parse_alpaca_order(
        _order(
            status="filled", qty="3", filled_qty="3", filled_avg_price="189.6",
            updated_at="2024-05-01T14:02:43.651613184Z",
        )
    )
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal(3)
    assert order.average_fill_price == Decimal("189.6")
    assert order.updated_at == datetime(2024, 5, 1, 14, 2, 43, 651613, tzinfo=timezone.utc)


def test_every_sdk_order_status_has_a_mapping() -> None:
    assert {status.value for status in SdkOrderStatus} <= set(ORDER_STATUS_MAP)


@pytest.mark.parametrize(
    ("raw_status", "filled", "expected"),
    [
        ("new", "0", OrderStatus.NEW),
        ("new", "1", OrderStatus.PARTIALLY_FILLED),
        ("partially_filled", "1", OrderStatus.PARTIALLY_FILLED),
        ("done_for_day", "2", OrderStatus.PARTIALLY_FILLED),
        ("pending_new", "0", OrderStatus.PENDING_SUBMIT),
        ("pending_cancel", "0", OrderStatus.PENDING_CANCEL),
        ("canceled", "0", OrderStatus.CANCELED),
        ("expired", "0", OrderStatus.EXPIRED),
        ("rejected", "0", OrderStatus.REJECTED),
        ("held", "0", OrderStatus.NEW),
        ("something_new_from_alpaca", "0", OrderStatus.UNKNOWN),
    ],
)
def test_status_table(raw_status: str, filled: str, expected: OrderStatus) -> None:
    order = parse_alpaca_order(_order(status=raw_status, filled_qty=filled))
    assert order.status is expected
    assert order.raw_status == raw_status


def test_replaced_order_is_cancelled_and_names_its_successor() -> None:
    order = parse_alpaca_order(_order(status="replaced", replaced_by="0b11f089-722d-4ced-9beb-e2eeed3637dc"))
    assert order.status is OrderStatus.CANCELED
    assert "0b11f089" in order.reason


def test_rejected_order_has_a_reason() -> None:
    assert parse_alpaca_order(_order(status="rejected")).reason


def test_order_without_ids_is_an_error() -> None:
    raw = _order()
    raw.pop("client_order_id")
    with pytest.raises(AlpacaParseError):
        parse_alpaca_order(raw)


# -- positions --------------------------------------------------------------------------------


def test_positions_fixture() -> None:
    (position,) = parse_alpaca_positions(load("positions_get_list.json"))
    assert position.symbol == "AAPL"
    assert position.asset_class is AssetClass.EQUITY
    assert position.quantity == Decimal(5)
    assert position.average_cost == Decimal("100.0")
    assert position.market_value == Decimal("600.0")


def test_short_option_and_crypto_positions() -> None:
    long_stock = load("positions_get_list.json")[0]
    short_stock = {**long_stock, "qty": "5", "side": "short"}
    option = {**long_stock, "symbol": "AAPL250117C00150000", "asset_class": "us_option", "avg_entry_price": "1.10"}
    crypto = {**long_stock, "symbol": "BTCUSD", "asset_class": "crypto"}
    parsed = parse_alpaca_positions([short_stock, option, crypto])
    assert [p.symbol for p in parsed] == ["AAPL", "AAPL250117C00150000"]
    assert parsed[0].quantity == Decimal(-5)
    assert parsed[1].asset_class is AssetClass.OPTION
    assert parsed[1].average_cost == Decimal("1.10")  # per share of premium, as quoted


# -- quotes -----------------------------------------------------------------------------------


def test_latest_quotes_and_trades_fixtures_merge_per_symbol() -> None:
    quotes = parse_alpaca_quotes(
        load("data_latest_quotes_multi.json")["quotes"], load("data_latest_trades_multi.json")["trades"]
    )
    aapl = quotes["AAPL"]
    assert (aapl.bid, aapl.ask, aapl.last) == (Decimal("161.1"), Decimal("161.11"), Decimal("161.2958"))
    assert (aapl.bid_size, aapl.ask_size) == (Decimal(2), Decimal(13))
    assert aapl.timestamp == datetime(2022, 3, 18, 14, 2, 43, 651613, tzinfo=timezone.utc)
    # TSLA has a trade but no quote in these payloads: a last price, no invented book.
    tsla = quotes["TSLA"]
    assert (tsla.bid, tsla.ask, tsla.last) == (None, None, Decimal("720.19"))


def test_a_zero_price_is_a_missing_side_of_the_book() -> None:
    quotes = parse_alpaca_quotes({"XYZ": {"t": "2024-01-02T15:00:00Z", "bp": 0, "ap": 1.25, "bs": 0, "as": 3}}, {})
    assert quotes["XYZ"].bid is None
    assert quotes["XYZ"].ask == Decimal("1.25")


def test_option_snapshot_fixtures() -> None:
    chain = parse_alpaca_option_snapshots(load("options_snapshots_chain.json")["snapshots"])
    put = chain["AAPL240503P00155000"]
    assert (put.bid, put.ask, put.last) == (Decimal("0.32"), Decimal("0.35"), Decimal("0.34"))
    quote_only = parse_alpaca_option_snapshots(load("options_snapshot_quote_only.json")["snapshots"])
    assert quote_only["AAPL240126P00050000"].last is None
    assert quote_only["AAPL240126P00050000"].bid == Decimal("0.48")


def test_empty_market_data_answers() -> None:
    assert parse_alpaca_quotes({}, {}) == {}
    assert parse_alpaca_option_snapshots({}) == {}


# -- errors and scalars -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("error_403_insufficient_buying_power.json", 40310000, "insufficient buying power"),
        ("error_422_unprocessable.json", 40010001, "order_id is missing"),
        ("error_404_order_not_found.json", 40410000, "order not found"),
        ("error_401_unauthorized.json", 40110000, "request is not authorized"),
    ],
)
def test_error_body_fixtures(name: str, code: int, message: str) -> None:
    assert parse_error_body((FIXTURES / name).read_text()) == (code, message)


def test_html_and_empty_error_bodies_give_no_message() -> None:
    assert parse_error_body("<html><head><title>403 Forbidden</title></head></html>") == (None, "")
    assert parse_error_body("") == (None, "")
    assert parse_error_body("rate limit exceeded") == (None, "rate limit exceeded")


def test_decimals_from_strings_and_json_numbers() -> None:
    assert to_decimal("262113.632") == Decimal("262113.632")
    assert to_decimal(161.11) == Decimal("161.11")
    assert to_decimal(None) is None
    for bad in (True, "NaN", "abc"):
        with pytest.raises(AlpacaParseError):
            to_decimal(bad)


def test_timestamps_are_aware_utc() -> None:
    assert parse_timestamp("2024-01-05T10:30:00-05:00") == datetime(2024, 1, 5, 15, 30, tzinfo=timezone.utc)
    expected = datetime(2024, 2, 2, 17, 29, 53, 552404, tzinfo=timezone.utc)
    assert parse_timestamp("2024-02-02T17:29:53.55240448Z") == expected
    with pytest.raises(AlpacaParseError):
        parse_timestamp("yesterday")


# -- order requests ---------------------------------------------------------------------------


def _request(symbol: str, order_type: OrderType, **kwargs: Any) -> OrderRequest:
    return OrderRequest(instrument=parse_symbol(symbol), side=kwargs.pop("side", Side.BUY),
                        quantity=Decimal(kwargs.pop("qty", "2")), order_type=order_type, **kwargs)


@pytest.mark.parametrize(
    ("order_type", "prices", "expected"),
    [
        (OrderType.MARKET, {}, {}),
        (OrderType.LIMIT, {"limit_price": Decimal("189.55")}, {"limit_price": 189.55}),
        (OrderType.STOP, {"stop_price": Decimal("180")}, {"stop_price": 180.0}),
        (OrderType.STOP_LIMIT, {"stop_price": Decimal("180"), "limit_price": Decimal("179.5")},
         {"stop_price": 180.0, "limit_price": 179.5}),
    ],
)
def test_order_request_carries_our_client_order_id(order_type: OrderType, prices: dict, expected: dict) -> None:
    request = _request("AAPL", order_type, time_in_force=TimeInForce.GTC, **prices)
    fields = build_order_request(request).to_request_fields()
    assert fields == {
        "symbol": "AAPL", "qty": 2.0, "side": "buy", "type": order_type.value, "time_in_force": "gtc",
        "client_order_id": request.client_order_id, **expected,
    }


def test_option_request_carries_the_position_intent() -> None:
    request = _request("AAPL250117C00150000", OrderType.LIMIT, limit_price=Decimal("1.05"), qty="1")
    intent = resolve_position_intent(Side.BUY, PositionEffect.AUTO, Decimal(0))
    fields = build_order_request(request, intent).to_request_fields()
    assert fields["symbol"] == "AAPL250117C00150000"
    assert fields["position_intent"] == "buy_to_open"


@pytest.mark.parametrize(
    ("side", "effect", "held", "intent"),
    [
        (Side.BUY, PositionEffect.AUTO, "0", "buy_to_open"),
        (Side.BUY, PositionEffect.AUTO, "-2", "buy_to_close"),
        (Side.SELL, PositionEffect.AUTO, "3", "sell_to_close"),
        (Side.SELL, PositionEffect.AUTO, "0", "sell_to_open"),
        (Side.SELL, PositionEffect.OPEN, "3", "sell_to_open"),
        (Side.BUY, PositionEffect.CLOSE, "0", "buy_to_close"),
    ],
)
def test_position_intent_resolution(side: Side, effect: PositionEffect, held: str, intent: str) -> None:
    assert resolve_position_intent(side, effect, Decimal(held)).value == intent


def test_missing_limit_price_is_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        build_order_request(_request("AAPL", OrderType.LIMIT))


def test_preview_estimate_uses_the_far_side_and_warns_past_buying_power() -> None:
    quote = Quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"), datetime.now(timezone.utc))
    account = {"buying_power": "300.00", "options_buying_power": "300.00"}
    preview = estimate_preview(_request("AAPL", OrderType.MARKET), account, quote)
    assert preview.estimated_cost == Decimal("379.20")
    assert preview.buying_power_effect == Decimal("-379.20")
    assert preview.commission == Decimal(0)
    assert any("exceeds your buying power" in w for w in preview.warnings)
    option = estimate_preview(_request("AAPL250117C00150000", OrderType.LIMIT, limit_price=Decimal("1.05"), qty="1"),
                              account, None)
    assert option.estimated_cost == Decimal("105.00")
    assert not any("exceeds" in w for w in option.warnings)
