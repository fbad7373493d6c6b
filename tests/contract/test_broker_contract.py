"""The broker contract (app/brokers/base.py), proven for every connector against its fake server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerError,
    Broker,
    OrderNotFound,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
)
from app.domain.models import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from app.domain.symbols import parse_symbol
from tests.contract.harness import eventually


def _order(symbol: str, side: Side, qty: str, order_type: OrderType, limit: str | None = None) -> OrderRequest:
    return OrderRequest(
        instrument=parse_symbol(symbol),
        side=side,
        quantity=Decimal(qty),
        order_type=order_type,
        time_in_force=TimeInForce.DAY,
        limit_price=Decimal(limit) if limit else None,
    )


@pytest.fixture
async def broker(harness):
    harness.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    harness.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    connector = harness.connector()
    try:
        yield connector
    finally:
        await connector.close()


async def test_connector_implements_the_protocol(broker: Broker) -> None:
    assert isinstance(broker, Broker)


async def test_verify_returns_paper_account_with_decimal_money(broker: Broker) -> None:
    info = await broker.verify()
    assert isinstance(info, AccountInfo)
    assert info.is_paper is True
    assert len(info.account_number) >= 4
    assert isinstance(info.buying_power, Decimal) and info.buying_power > 0
    assert isinstance(info.cash, Decimal) and isinstance(info.equity, Decimal)


async def test_bad_credentials_raise_auth_error(harness) -> None:
    connector = harness.connector(valid_credentials=False)
    try:
        with pytest.raises(AuthError):
            await connector.verify()
    finally:
        await connector.close()


async def test_market_buy_fills_and_shows_in_positions(broker: Broker, harness) -> None:
    await broker.verify()
    request = _order("AAPL", Side.BUY, "3", OrderType.MARKET)
    placed = await broker.place_order(request)
    assert placed.client_order_id == request.client_order_id
    assert placed.broker_order_id
    filled = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.FILLED
    )
    assert filled.filled_quantity == Decimal(3)
    assert filled.average_fill_price == Decimal("189.60")
    positions = {p.symbol: p for p in await broker.positions()}
    assert positions["AAPL"].quantity == Decimal(3)
    assert isinstance(positions["AAPL"].average_cost, Decimal)


async def test_resting_limit_order_is_listed_then_cancelled(broker: Broker) -> None:
    await broker.verify()
    request = _order("MSFT", Side.BUY, "2", OrderType.LIMIT, limit="350.00")
    placed = await broker.place_order(request)
    resting = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.NEW
    )
    assert resting.filled_quantity == 0
    listed = await broker.list_orders()
    assert request.client_order_id in {o.client_order_id for o in listed}
    await broker.cancel_order(OrderRef(request.client_order_id, placed.broker_order_id))
    cancelled = await eventually(
        lambda: broker.get_order(request.client_order_id),
        lambda o: o is not None and o.status is OrderStatus.CANCELED,
    )
    assert cancelled.filled_quantity == 0


async def test_option_order_by_occ_symbol(broker: Broker) -> None:
    await broker.verify()
    request = _order("AAPL250117C00150000", Side.BUY, "1", OrderType.LIMIT, limit="1.05")
    placed = await broker.place_order(request)
    assert placed.client_order_id == request.client_order_id
    found = await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o is not None)
    assert found.symbol.replace(" ", "") == "AAPL250117C00150000"


async def test_unknown_client_order_id_is_none(broker: Broker) -> None:
    await broker.verify()
    assert await broker.get_order("tb-0000000000000-deadbeef") is None


async def test_cancel_unknown_order_raises_not_found(broker: Broker) -> None:
    await broker.verify()
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(OrderRef("tb-0000000000000-deadbeef", "999999"))


async def test_rejection_carries_the_broker_reason(broker: Broker, harness) -> None:
    await broker.verify()
    harness.inject_fault("reject")
    request = _order("AAPL", Side.BUY, "1", OrderType.MARKET)
    with pytest.raises(OrderRejected) as raised:
        placed = await broker.place_order(request)
        # Brokers that accept then reject asynchronously report it on the order.
        await eventually(
            lambda: broker.get_order(request.client_order_id),
            lambda o: o is not None and o.status is OrderStatus.REJECTED,
        )
        raise OrderRejected(placed.reason or "rejected")
    assert raised.value.reason


async def test_lost_response_is_outcome_unknown_and_never_duplicated(broker: Broker, harness) -> None:
    await broker.verify()
    harness.inject_fault("drop_response")
    request = _order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit="100.00")
    with pytest.raises(OutcomeUnknown) as raised:
        await broker.place_order(request)
    assert raised.value.client_order_id == request.client_order_id
    assert harness.order_count() == 1
    found = await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o is not None)
    assert found.client_order_id == request.client_order_id
    assert harness.order_count() == 1


async def test_server_error_on_order_is_not_retried(broker: Broker, harness) -> None:
    await broker.verify()
    harness.inject_fault("server_error")
    request = _order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit="100.00")
    with pytest.raises((OutcomeUnknown, OrderRejected)):
        await broker.place_order(request)
    assert harness.order_count() <= 1


async def test_quotes_for_several_symbols_skip_unknown(broker: Broker) -> None:
    await broker.verify()
    quotes = await broker.quotes(["AAPL", "MSFT", "ZZZZQ"])
    assert set(quotes) == {"AAPL", "MSFT"}
    assert quotes["AAPL"].bid == Decimal("189.50")
    assert quotes["AAPL"].ask == Decimal("189.60")
    assert quotes["MSFT"].ask == Decimal("410.30")
    assert quotes["AAPL"].timestamp.tzinfo is not None


async def test_every_call_after_close_raises_a_broker_error_and_sends_nothing(harness) -> None:
    connector = harness.connector()
    await connector.verify()
    await connector.close()
    before = harness.order_count()
    request = _order("AAPL", Side.BUY, "1", OrderType.LIMIT, limit="100.00")
    calls = {
        "verify": lambda: connector.verify(),
        "place_order": lambda: connector.place_order(request),
        "preview_order": lambda: connector.preview_order(request),
        "cancel_order": lambda: connector.cancel_order(OrderRef(request.client_order_id, "1")),
        "get_order": lambda: connector.get_order(request.client_order_id),
        "list_orders": lambda: connector.list_orders(),
        "positions": lambda: connector.positions(),
        "quotes": lambda: connector.quotes(["AAPL"]),
        "equity_history": lambda: connector.equity_history(datetime.now(UTC) - timedelta(days=30)),
    }
    for name, call in calls.items():
        with pytest.raises(BrokerError) as raised:
            await call()
        assert type(raised.value) is not BrokerError, f"{name} raised the bare base class"
        assert "closed" in str(raised.value), f"{name}: {raised.value}"
    assert harness.order_count() == before
