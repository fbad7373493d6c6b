"""Tastytrade pure parsers and request builders, fed with recorded payloads (tests/fixtures/tastytrade)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.brokers.base import AccountType
from app.brokers.tastytrade.parse import (
    STATUS_MAP,
    build_order_body,
    has_more_pages,
    items_of,
    order_of,
    parse_error,
    parse_tastytrade_account,
    parse_tastytrade_order,
    parse_tastytrade_positions,
    parse_tastytrade_preview,
    parse_tastytrade_quotes,
    preview_errors,
    quote_request_params,
    resolve_position_effect,
    to_datetime,
    to_decimal,
    unwrap,
)
from app.domain.models import AssetClass, OrderRequest, OrderStatus, OrderType, PositionEffect, Side, TimeInForce
from app.domain.symbols import parse_symbol

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tastytrade"

#: Every status of tastyware's ``OrderStatus`` enum (the documented set).
DOCUMENTED_STATUSES = (
    "Received", "Cancelled", "Filled", "Expired", "Live", "Rejected", "Contingent", "Routed",
    "In Flight", "Cancel Requested", "Replace Requested", "Removed", "Partially Removed",
)  # fmt: skip


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def request(symbol: str, side: Side, qty: str, kind: OrderType, **kw: Any) -> OrderRequest:
    return OrderRequest(instrument=parse_symbol(symbol), side=side, quantity=Decimal(qty), order_type=kind, **kw)


# --- accounts --------------------------------------------------------------------------------


def test_account_types_from_recorded_accounts() -> None:
    accounts = {e["account"]["account-number"]: e["account"] for e in items_of(fixture("customers_me_accounts.json"))}
    balances = unwrap(fixture("account_balances.json"))
    kinds = {
        number: parse_tastytrade_account(account, balances, is_paper=False).account_type
        for number, account in accounts.items()
    }
    assert kinds == {"5YZ55555": AccountType.IRA, "5WW55555": AccountType.MARGIN, "5WZ55555": AccountType.CASH}


def test_account_info_money_and_label_from_balances() -> None:
    roth = items_of(fixture("customers_me_accounts.json"))[0]["account"]
    info = parse_tastytrade_account(roth, unwrap(fixture("account_balances.json")), is_paper=True)
    assert info.account_number == "5YZ55555"
    assert info.buying_power == Decimal("20078.762")
    assert info.cash == Decimal("51600.762")
    assert info.equity == Decimal("543557.677")
    assert info.is_paper is True
    assert info.account_type_label == "Roth IRA · Cash"


def test_limited_authority_shows_in_the_label_and_unknown_kind_is_unknown() -> None:
    account = {"account-number": "5WT00009", "account-type-name": "Trust", "margin-or-cash": "Portfolio"}
    info = parse_tastytrade_account(account, {}, is_paper=False, authority_level="read-only")
    assert info.account_type is AccountType.UNKNOWN
    assert info.account_type_label == "Trust · Portfolio · read-only access"
    assert info.buying_power == 0 and isinstance(info.buying_power, Decimal)


@pytest.mark.parametrize("name", ["Traditional IRA", "SEP IRA", "Beneficiary Roth IRA", "Rollover IRA"])
def test_every_ira_kind_is_ira(name: str) -> None:
    account = {"account-number": "1", "account-type-name": name, "margin-or-cash": "Margin"}
    assert parse_tastytrade_account(account, {}, is_paper=False).account_type is AccountType.IRA


# --- positions -------------------------------------------------------------------------------


def test_short_option_position_is_negative_with_compact_symbol() -> None:
    [position] = parse_tastytrade_positions(items_of(fixture("account_positions.json")))
    assert position.symbol == "RIVN230609P00014000"
    assert position.asset_class is AssetClass.OPTION
    assert position.quantity == Decimal(-40)
    assert position.average_cost == Decimal("0.79")


def test_positions_skip_other_instruments_and_flat_lines() -> None:
    items = [
        {"symbol": "/ESZ5", "instrument-type": "Future", "quantity": 1, "quantity-direction": "Long"},
        {"symbol": "AAPL", "instrument-type": "Equity", "quantity": "0", "quantity-direction": "Zero"},
        {"symbol": "MSFT", "instrument-type": "Equity", "quantity": "12.5", "quantity-direction": "Long",
         "average-open-price": "401.125"},
    ]  # fmt: skip
    [position] = parse_tastytrade_positions(items)
    assert (position.symbol, position.quantity, position.average_cost) == ("MSFT", Decimal("12.5"), Decimal("401.125"))


# --- orders ----------------------------------------------------------------------------------


def test_placed_order_from_recorded_post_answer() -> None:
    order = parse_tastytrade_order(order_of(fixture("order_post_ok.json")))
    assert order.broker_order_id == "272985726"
    assert order.symbol == "RIVN230623C00015000"
    assert order.status is OrderStatus.NEW and order.raw_status == "Contingent"
    assert order.quantity == Decimal(1)
    assert order.filled_quantity == 0 and order.average_fill_price is None
    # updated-at is epoch milliseconds in real payloads.
    assert order.updated_at == datetime(2023, 6, 13, 20, 25, 43, 220000, tzinfo=UTC)
    assert order.client_order_id == ""


def test_cancel_answer_is_the_order_itself() -> None:
    order = parse_tastytrade_order(order_of(fixture("order_delete_cancelled.json")))
    assert order.status is OrderStatus.CANCELED
    assert order.broker_order_id == "68677"
    assert order.symbol == "AAPL"


def test_docs_live_orders_single_leg_and_spread() -> None:
    live, spread = (parse_tastytrade_order(raw) for raw in items_of(fixture("orders_live_docs_example.json")))
    assert live.symbol == "QQQ191115C00187000" and live.status is OrderStatus.NEW
    assert live.updated_at.tzinfo is not None
    assert spread.symbol == "SPY" and spread.status is OrderStatus.CANCELED
    assert spread.quantity == Decimal(1)


def test_recorded_live_list_parses() -> None:
    [order] = [parse_tastytrade_order(raw) for raw in items_of(fixture("orders_live.json"))]
    assert order.broker_order_id == "272985726"


def test_status_table_covers_every_documented_status() -> None:
    assert set(STATUS_MAP) == set(DOCUMENTED_STATUSES)
    expected = {
        "Received": OrderStatus.PENDING_SUBMIT, "Routed": OrderStatus.PENDING_SUBMIT,
        "In Flight": OrderStatus.PENDING_SUBMIT, "Live": OrderStatus.NEW, "Contingent": OrderStatus.NEW,
        "Replace Requested": OrderStatus.NEW, "Cancel Requested": OrderStatus.PENDING_CANCEL,
        "Filled": OrderStatus.FILLED, "Cancelled": OrderStatus.CANCELED, "Expired": OrderStatus.EXPIRED,
        "Rejected": OrderStatus.REJECTED, "Removed": OrderStatus.CANCELED, "Partially Removed": OrderStatus.CANCELED,
    }  # fmt: skip
    assert dict(STATUS_MAP) == expected


def _order(status: str, fills: list[tuple[str, str]], quantity: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "id": 1, "status": status, "size": quantity, "external-identifier": "tb-1",
        "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": quantity, "action": "Buy to Open",
                  "fills": [{"fill-id": f"f{i}", "quantity": q, "fill-price": p,
                             "filled-at": "2026-03-02T15:00:00.000+00:00"} for i, (q, p) in enumerate(fills)]}],
        **extra,
    }  # fmt: skip


def test_partial_fill_averages_the_leg_fills() -> None:
    order = parse_tastytrade_order(_order("Live", [("2", "10.00"), ("1", "10.30")]))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal(3)
    assert order.average_fill_price == Decimal("10.1")
    assert order.client_order_id == "tb-1"


def test_partially_removed_keeps_its_fills_and_rejection_keeps_its_reason() -> None:
    removed = parse_tastytrade_order(_order("Partially Removed", [("2", "10")]))
    assert (removed.status, removed.filled_quantity) == (OrderStatus.CANCELED, Decimal(2))
    rejected = parse_tastytrade_order(_order("Rejected", [], **{"reject-reason": "Insufficient shares"}))
    assert (rejected.status, rejected.reason) == (OrderStatus.REJECTED, "Insufficient shares")


def test_unknown_status_is_unknown_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.brokers.tastytrade.parse"):
        order = parse_tastytrade_order(_order("Teleported", []))
    assert order.status is OrderStatus.UNKNOWN
    assert "Teleported" in caplog.text


def test_filled_spread_reports_net_price_per_unit() -> None:
    raw = {
        "id": 9, "status": "Filled", "size": 2, "underlying-symbol": "SPY",
        "legs": [
            {"instrument-type": "Equity Option", "symbol": "SPY   260320C00500000", "quantity": 2,
             "action": "Buy to Open", "fills": [{"quantity": "2", "fill-price": "3.10"}]},
            {"instrument-type": "Equity Option", "symbol": "SPY   260320C00510000", "quantity": 2,
             "action": "Sell to Open", "fills": [{"quantity": "2", "fill-price": "1.00"}]},
        ],
    }  # fmt: skip
    order = parse_tastytrade_order(raw)
    assert (order.symbol, order.filled_quantity, order.average_fill_price) == ("SPY", Decimal(2), Decimal("2.10"))


# --- request bodies --------------------------------------------------------------------------


def test_equity_limit_body_matches_the_documented_request() -> None:
    req = request("AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal("150.25"))
    body = build_order_body(req, PositionEffect.OPEN)
    assert body.pop("external-identifier") == req.client_order_id
    assert body == fixture("order_post_request_equity_limit.json")


def test_option_stop_limit_sell_to_close_body() -> None:
    req = request(
        "AAPL250117C00150000", Side.SELL, "3", OrderType.STOP_LIMIT,
        limit_price=Decimal("1.05"), stop_price=Decimal("1.10"), time_in_force=TimeInForce.GTC,
    )  # fmt: skip
    body = build_order_body(req, PositionEffect.CLOSE)
    assert body["order-type"] == "Stop Limit" and body["time-in-force"] == "GTC"
    assert (body["price"], body["price-effect"], body["stop-trigger"]) == ("1.05", "Credit", "1.10")
    assert body["legs"] == [
        {
            "instrument-type": "Equity Option",
            "symbol": "AAPL  250117C00150000",
            "quantity": 3,
            "action": "Sell to Close",
        }
    ]


def test_market_and_stop_bodies_carry_no_price() -> None:
    market = build_order_body(request("MSFT", Side.SELL, "0.5", OrderType.MARKET), PositionEffect.OPEN)
    assert "price" not in market and "price-effect" not in market and "stop-trigger" not in market
    assert market["legs"][0]["quantity"] == "0.5"
    stop_request = request("MSFT", Side.SELL, "2", OrderType.STOP, stop_price=Decimal("400"))
    stop = build_order_body(stop_request, PositionEffect.CLOSE)
    assert stop["stop-trigger"] == "400" and "price" not in stop


@pytest.mark.parametrize(
    ("tif", "extended", "wire"),
    [(TimeInForce.DAY, False, "Day"), (TimeInForce.GTC, False, "GTC"), (TimeInForce.DAY, True, "Ext"),
     (TimeInForce.GTC, True, "GTC Ext")],
)  # fmt: skip
def test_time_in_force_with_extended_hours(tif: TimeInForce, extended: bool, wire: str) -> None:
    req = request(
        "AAPL", Side.BUY, "1", OrderType.LIMIT, limit_price=Decimal(1), time_in_force=tif, extended_hours=extended
    )
    assert build_order_body(req, PositionEffect.OPEN)["time-in-force"] == wire


def test_missing_prices_are_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        build_order_body(request("AAPL", Side.BUY, "1", OrderType.LIMIT), PositionEffect.OPEN)
    with pytest.raises(ValueError):
        build_order_body(request("AAPL", Side.BUY, "1", OrderType.STOP), PositionEffect.OPEN)


@pytest.mark.parametrize(
    ("side", "held", "effect"),
    [(Side.BUY, "0", PositionEffect.OPEN), (Side.BUY, "5", PositionEffect.OPEN),
     (Side.BUY, "-2", PositionEffect.CLOSE), (Side.SELL, "0", PositionEffect.OPEN),
     (Side.SELL, "3", PositionEffect.CLOSE), (Side.SELL, "-1", PositionEffect.OPEN)],
)  # fmt: skip
def test_auto_position_effect_from_holdings(side: Side, held: str, effect: PositionEffect) -> None:
    req = request("AAPL250117C00150000", side, "1", OrderType.MARKET)
    assert resolve_position_effect(req, Decimal(held)) is effect


def test_explicit_position_effect_wins_over_holdings() -> None:
    req = request("AAPL", Side.SELL, "1", OrderType.MARKET, position_effect=PositionEffect.OPEN)
    assert resolve_position_effect(req, Decimal(10)) is PositionEffect.OPEN


# --- previews and errors ---------------------------------------------------------------------


def test_market_dry_run_preview() -> None:
    market = request("AAPL", Side.BUY, "1", OrderType.MARKET)
    preview = parse_tastytrade_preview(fixture("order_dry_run_market_ok.json"), market)
    assert preview.estimated_cost is None
    assert preview.commission == Decimal("0.001")
    assert preview.buying_power_effect == Decimal("-183.081")
    assert preview.warnings == ()


def test_gtc_limit_sell_dry_run_preview() -> None:
    req = request("GOOGL", Side.SELL, "1", OrderType.LIMIT, limit_price=Decimal("124.55"))
    preview = parse_tastytrade_preview(fixture("order_dry_run_limit_gtc_ok.json"), req)
    assert preview.estimated_cost == Decimal("124.55")
    assert preview.buying_power_effect == Decimal("124.538855")
    assert preview.commission == Decimal("0.011145")


def test_preflight_failure_reason_is_the_inner_message() -> None:
    body = fixture("order_dry_run_preflight_failure.json")
    info = parse_error(body, 422)
    assert info.code == "preflight_check_failure"
    assert info.reason == "Account does not have sufficient buying power available for this order."
    assert preview_errors({"data": {"errors": [{"code": "x", "message": "Closing only"}]}}) == ("Closing only",)


def test_error_shapes() -> None:
    assert parse_error(fixture("error_not_permitted.json"), 403).reason == "User not permitted access"
    assert parse_error(fixture("error_401_unauthorized.json"), 401).code == "unauthorized"
    assert parse_error({"error": "invalid_grant", "error_description": "revoked"}, 400).code == "invalid_grant"
    assert parse_error(None, 401).code == "401"


# --- quotes and helpers ----------------------------------------------------------------------


def test_docs_market_data_item() -> None:
    quotes = parse_tastytrade_quotes(items_of(fixture("market_data_by_type_docs_example.json")))
    quote = quotes["BTC/USD"]
    assert (quote.bid, quote.ask, quote.last) == (Decimal("94005.47"), Decimal("94966.14"), Decimal("94485.81"))
    assert (quote.bid_size, quote.ask_size) == (Decimal("0.022"), Decimal("0.0"))
    assert quote.timestamp == datetime(2025, 4, 29, 21, 33, 25, 130000, tzinfo=UTC)


def test_quote_params_split_by_type_and_pad_options() -> None:
    params, asked = quote_request_params(["AAPL", "aapl", "AAPL250117C00150000", "not a symbol!", "MSFT"])
    assert params == {"equity": "AAPL,MSFT", "equity-option": "AAPL  250117C00150000"}
    assert asked == {"AAPL": "AAPL", "AAPL250117C00150000": "AAPL250117C00150000", "MSFT": "MSFT"}


def test_scalar_helpers() -> None:
    assert to_decimal(0.1) == Decimal("0.1") and to_decimal("NaN") is None and to_decimal("") is None
    assert to_datetime(0) is None and to_datetime("garbage") is None
    assert to_datetime("2023-06-08T16:30:18.889+00:00") == datetime(2023, 6, 8, 16, 30, 18, 889000, tzinfo=UTC)
    assert to_datetime("2023-06-08T16:30:18").tzinfo is UTC
    assert has_more_pages({"pagination": {"page-offset": 0, "total-pages": 2}})
    assert not has_more_pages({"pagination": {"page-offset": 1, "total-pages": 2}})
    assert not has_more_pages({"data": {"items": []}})
