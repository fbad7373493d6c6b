"""Pure IBKR mappings: connection settings, paper/live checks, contracts, orders, statuses and account values."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from app.brokers.base import (
    AccountType,
    AuthError,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
)
from app.brokers.ibkr.parse import (
    OrderReport,
    account_info,
    asset_class_of,
    choose_account,
    contract_fields,
    fill_totals,
    ib_decimal,
    ib_price,
    is_order_failure,
    merge_report,
    order_fields,
    order_status,
    parse_endpoint,
    per_unit_cost,
    rejection_reason,
    symbol_of,
    order_prices,
)
from app.domain.models import AssetClass, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from app.domain.symbols import parse_symbol

TRANSCRIPT = Path(__file__).parents[1] / "fixtures" / "ibkr" / "wire_transcript_ib_insync_0.9.86_server176.json"
NOW = datetime(2025, 1, 2, 14, 30, tzinfo=timezone.utc)


def test_endpoint_defaults_host_and_reads_port_client_and_account() -> None:
    endpoint = parse_endpoint({"port": "7497", "client_id": "7", "account": " du1234567 "})
    assert (endpoint.host, endpoint.port, endpoint.client_id, endpoint.account) == ("127.0.0.1", 7497, 7, "DU1234567")
    assert endpoint.address == "127.0.0.1:7497"


def test_endpoint_base_url_overrides_host_and_port() -> None:
    endpoint = parse_endpoint({"host": "10.0.0.5", "port": "4001", "client_id": "3"}, "tcp://127.0.0.1:4002")
    assert (endpoint.host, endpoint.port) == ("127.0.0.1", 4002)


@pytest.mark.parametrize(
    ("credentials", "base_url", "words"),
    [
        ({"port": "", "client_id": "1"}, None, "port"),
        ({"port": "70000", "client_id": "1"}, None, "port"),
        ({"port": "7497", "client_id": "one"}, None, "client id"),
        ({"port": "7497", "client_id": "1"}, "http://127.0.0.1:7497", "tcp://host:port"),
    ],
)
def test_endpoint_rejects_bad_settings_with_a_readable_message(credentials, base_url, words) -> None:
    with pytest.raises(BrokerError, match=words):
        parse_endpoint(credentials, base_url)


def test_single_managed_account_is_chosen_when_none_is_configured() -> None:
    assert choose_account(["DU1234567"], "", Environment.PAPER) == "DU1234567"


def test_configured_account_must_be_managed_and_the_message_masks_numbers() -> None:
    with pytest.raises(AuthError) as raised:
        choose_account(["DU1234567", "DU7654321"], "DU0000001", Environment.PAPER)
    message = str(raised.value)
    assert "…0001" in message and "…4567" in message and "…4321" in message
    assert "DU1234567" not in message and "DU0000001" not in message


def test_several_accounts_need_the_account_field() -> None:
    with pytest.raises(BrokerError, match="several accounts"):
        choose_account(["DU1234567", "DU7654321"], "", Environment.PAPER)


def test_paper_connection_refuses_a_live_account() -> None:
    with pytest.raises(EnvironmentMismatch, match="paper connection.*live account …4567"):
        choose_account(["U1234567"], "", Environment.PAPER)


def test_live_connection_refuses_a_paper_account() -> None:
    with pytest.raises(EnvironmentMismatch, match="live connection.*paper account …4567"):
        choose_account(["DU1234567"], "", Environment.LIVE)


def test_no_accounts_is_unavailable() -> None:
    with pytest.raises(BrokerUnavailable):
        choose_account([], "", Environment.PAPER)


def test_stock_contract_uses_ticker_and_ib_share_class_spelling() -> None:
    assert contract_fields(parse_symbol("AAPL")).symbol == "AAPL"
    fields = contract_fields(parse_symbol("BRK.B"))
    assert (fields.sec_type, fields.symbol, fields.exchange, fields.currency) == ("STK", "BRK B", "SMART", "USD")


def test_option_contract_is_named_by_its_padded_occ_local_symbol_only() -> None:
    fields = contract_fields(parse_symbol("SPXW250117P05000000"))
    assert fields.sec_type == "OPT"
    assert fields.local_symbol == "SPXW  250117P05000000"
    assert fields.symbol == ""


def test_symbols_come_back_from_tws_contracts() -> None:
    assert symbol_of("OPT", "AAPL", "AAPL  250117C00150000") == "AAPL250117C00150000"
    assert symbol_of("STK", "BRK B", "BRK B") == "BRK.B"
    assert symbol_of("STK", "MSFT", "MSFT") == "MSFT"


def _request(order_type: OrderType, **kwargs) -> OrderRequest:
    return OrderRequest(
        instrument=parse_symbol("AAPL"), side=kwargs.pop("side", Side.BUY), quantity=Decimal("3"),
        order_type=order_type, **kwargs,
    )


@pytest.mark.parametrize(
    ("order_type", "limit", "stop", "ib_type", "lmt", "aux"),
    [
        (OrderType.MARKET, None, None, "MKT", None, None),
        (OrderType.LIMIT, Decimal("101.25"), None, "LMT", Decimal("101.25"), None),
        (OrderType.STOP, None, Decimal("95.10"), "STP", None, Decimal("95.10")),
        (OrderType.STOP_LIMIT, Decimal("95.00"), Decimal("95.10"), "STP LMT", Decimal("95.00"), Decimal("95.10")),
    ],
)
def test_order_types_map_to_tws_types_and_price_fields(order_type, limit, stop, ib_type, lmt, aux) -> None:
    fields = order_fields(_request(order_type, limit_price=limit, stop_price=stop), "DU1234567")
    assert (fields.order_type, fields.limit_price, fields.aux_price) == (ib_type, lmt, aux)


def test_order_carries_our_id_in_order_ref_with_tif_side_and_extended_hours() -> None:
    request = _request(OrderType.LIMIT, side=Side.SELL, limit_price=Decimal("1"), time_in_force=TimeInForce.GTC,
                       extended_hours=True)
    fields = order_fields(request, "DU1234567")
    assert fields.order_ref == request.client_order_id
    assert (fields.action, fields.tif, fields.outside_rth, fields.account) == ("SELL", "GTC", True, "DU1234567")


def test_order_without_its_price_is_refused() -> None:
    with pytest.raises(BrokerError, match="limit price"):
        order_fields(_request(OrderType.LIMIT), "DU1234567")


@pytest.mark.parametrize(
    ("ib_status", "filled", "expected"),
    [
        ("PendingSubmit", "0", OrderStatus.PENDING_SUBMIT),
        ("PreSubmitted", "0", OrderStatus.NEW),
        ("Submitted", "0", OrderStatus.NEW),
        ("Submitted", "1", OrderStatus.PARTIALLY_FILLED),
        ("PendingCancel", "0", OrderStatus.PENDING_CANCEL),
        ("Cancelled", "0", OrderStatus.CANCELED),
        ("ApiCancelled", "0", OrderStatus.CANCELED),
        ("Filled", "3", OrderStatus.FILLED),
        ("Inactive", "0", OrderStatus.REJECTED),
        ("SomethingNew", "0", OrderStatus.UNKNOWN),
    ],
)
def test_tws_statuses(ib_status, filled, expected) -> None:
    assert order_status(ib_status, Decimal(filled)) is expected


def _report(status: str, filled: str = "0", **kwargs) -> OrderReport:
    return OrderReport(order_ref="tb-1", perm_id=kwargs.pop("perm_id", 1001), symbol="AAPL", ib_status=status,
                       filled=Decimal(filled), **kwargs)


def test_first_report_builds_the_order() -> None:
    order = merge_report(None, _report("Submitted", quantity=Decimal(3)), NOW)
    assert (order.client_order_id, order.broker_order_id, order.status, order.quantity) == (
        "tb-1", "1001", OrderStatus.NEW, Decimal(3))
    assert order.average_fill_price is None


def test_rejection_is_not_overwritten_by_the_cancel_that_follows() -> None:
    rejected = BrokerOrder("tb-1", "1001", "AAPL", OrderStatus.REJECTED, Decimal(0), None, NOW, reason="margin",
                           raw_status="Error 201")
    after = merge_report(rejected, _report("Cancelled"), NOW)
    assert (after.status, after.reason, after.raw_status) == (OrderStatus.REJECTED, "margin", "Error 201")


def test_finished_order_is_not_revived_by_a_late_working_report() -> None:
    filled = merge_report(None, _report("Filled", "3", avg_fill_price=Decimal("10.5")), NOW)
    late = merge_report(filled, _report("Submitted", "1"), NOW)
    assert (late.status, late.filled_quantity, late.average_fill_price) == (OrderStatus.FILLED, Decimal(3), Decimal("10.5"))


def test_partial_fill_then_fill_keeps_the_price_and_moves_forward() -> None:
    partial = merge_report(None, _report("Submitted", "1", avg_fill_price=Decimal("10.5")), NOW)
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    done = merge_report(partial, _report("Filled", "3", avg_fill_price=Decimal("10.6")), NOW)
    assert (done.status, done.filled_quantity, done.average_fill_price) == (OrderStatus.FILLED, Decimal(3), Decimal("10.6"))


def test_tws_numbers_become_exact_decimals_and_unset_markers_none() -> None:
    assert ib_decimal(189.6) == Decimal("189.6")
    assert ib_decimal(0.1 + 0.2) == Decimal("0.30000000000000004")
    assert ib_decimal(1.7976931348623157e308) is None
    assert ib_decimal(float("nan")) is None
    assert ib_decimal(2**31 - 1) is None
    assert ib_decimal("") is None
    assert ib_decimal("1234.5") == Decimal("1234.5")
    assert ib_price(-1.0) is None
    assert ib_price(0.0) is None
    assert ib_price(1.05) == Decimal("1.05")


def test_option_average_cost_is_kept_per_share() -> None:
    assert per_unit_cost(Decimal("105"), "OPT", "100") == Decimal("1.05")
    assert per_unit_cost(Decimal("105"), "OPT", "") == Decimal("1.05")
    assert per_unit_cost(Decimal("150.25"), "STK", "") == Decimal("150.25")


def test_error_codes_that_kill_an_order() -> None:
    assert is_order_failure(201) and is_order_failure(133) and is_order_failure(200)
    assert not is_order_failure(202)
    assert not is_order_failure(2104)
    assert not is_order_failure(10167)
    assert not is_order_failure(399)


def test_rejection_reason_keeps_ibs_words_without_the_prefix() -> None:
    assert rejection_reason(201, "Order rejected - reason:Not enough margin") == "Not enough margin"
    assert rejection_reason(133, "Submit new order failed.") == "Submit new order failed. (IB error 133)"


def test_fill_totals_weight_prices_by_shares() -> None:
    assert fill_totals([(Decimal(1), Decimal("10")), (Decimal(3), Decimal("11"))]) == (Decimal(4), Decimal("10.75"))
    assert fill_totals([]) == (Decimal(0), None)


def test_account_summary_rows_from_the_recorded_session_build_account_info() -> None:
    transcript = json.loads(TRANSCRIPT.read_text())
    rows = [m["fields"] for m in transcript["messages"] if m["dir"] == "S>C" and m["fields"][0] == "63"]
    info = account_info("DU1234567", [(tag, value, currency) for _, _, _, _, tag, value, currency in rows])
    assert info.is_paper and info.account_last4 == "4567"
    assert (info.equity, info.cash, info.buying_power) == (Decimal("100000.00"), Decimal("100000.00"), Decimal("400000.00"))
    assert info.account_type is AccountType.UNKNOWN and info.account_type_label == "INDIVIDUAL"
    assert info.currency == "USD"
    assert "DU1234567" not in repr(info)


def test_ira_accounts_are_recognised_and_missing_values_are_an_error() -> None:
    rows = [("AccountType", "IRA", ""), ("NetLiquidation", "5", "USD"), ("TotalCashValue", "5", "USD"), ("BuyingPower", "5", "USD")]
    assert account_info("U1234567", rows).account_type is AccountType.IRA
    with pytest.raises(BrokerUnavailable, match="BuyingPower"):
        account_info("U1234567", rows[:3])


def test_asset_class_of_positions() -> None:
    assert asset_class_of("OPT") is AssetClass.OPTION
    assert asset_class_of("STK") is AssetClass.EQUITY


@pytest.mark.parametrize(
    ("order_type", "lmt", "aux", "expected"),
    [
        ("LMT", 175.5, 1.7976931348623157e308, (Decimal("175.5"), None)),
        ("STP LMT", 180.0, 179.25, (Decimal("180.0"), Decimal("179.25"))),
        ("STP", 0.0, 190.0, (None, Decimal("190.0"))),
        ("MKT", 1.7976931348623157e308, 0.0, (None, None)),
    ],
)
def test_an_orders_limit_and_stop_come_from_the_fields_its_type_uses(order_type, lmt, aux, expected) -> None:
    assert order_prices(order_type, lmt, aux) == expected


def test_a_report_carries_the_orders_prices_and_a_later_one_without_them_keeps_them() -> None:
    first = merge_report(None, _report("Submitted", quantity=Decimal(3), limit_price=Decimal("175")), NOW)
    assert first.limit_price == Decimal("175")
    modified = merge_report(first, _report("Submitted", quantity=Decimal(4), limit_price=Decimal("177.5")), NOW)
    assert (modified.quantity, modified.limit_price) == (Decimal(4), Decimal("177.5"))
    status_only = merge_report(modified, _report("Submitted", filled="1"), NOW)
    assert (status_only.quantity, status_only.limit_price) == (Decimal(4), Decimal("177.5"))
