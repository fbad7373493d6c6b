"""The fakes' shared test API (tests/fakes/__init__.py), driven through each broker's real connector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from app.brokers.base import Broker, BrokerError, BrokerUnavailable, Environment, OrderRef, OutcomeUnknown
from app.brokers.ibkr.connector import IbkrBroker, IbkrTimeouts, ReconnectPolicy
from app.brokers.registry import get_spec
from app.domain.models import OrderChange, OrderRequest, OrderStatus, OrderType, Side
from app.domain.symbols import parse_symbol
from tests.contract.harness import eventually
from tests.fakes import BROKERS, make_fake
from tests.fakes.control import FakeBroker


def _limit(symbol: str, qty: str, limit: str, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(instrument=parse_symbol(symbol), side=side, quantity=Decimal(qty), order_type=OrderType.LIMIT,
                        limit_price=Decimal(limit))


def _connector(name: str, fake: FakeBroker, environment: Environment = Environment.PAPER) -> Broker:
    if name == "ibkr":
        # The app's own defaults, with quicker reconnects so "broker back" shows within the test.
        return IbkrBroker(fake.credentials(), environment, base_url=fake.address,
                          reconnect=ReconnectPolicy(first_delay=0.05, max_delay=0.3),
                          timeouts=IbkrTimeouts(connect=3.0, request=3.0, order_ack=5.0, quotes=3.0, reconnect_wait=3.0))
    return get_spec(name).factory(fake.credentials(), environment, base_url=fake.address)


@pytest.fixture(params=BROKERS)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeBroker, Broker]]:
    fake = make_fake(request.param)
    fake.serve_in_background()
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    fake.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    connector = _connector(request.param, fake)
    try:
        yield fake, connector
    finally:
        await connector.close()
        await asyncio.to_thread(fake.shut_down)


async def _status(broker: Broker, coid: str, status: OrderStatus):
    return await eventually(lambda: broker.get_order(coid), lambda o: o is not None and o.status is status)


async def test_partial_then_full_fill_reach_the_connector_and_positions(pair) -> None:
    fake, broker = pair
    await broker.verify()
    request = _limit("AAPL", "3", "150.00")
    placed = await broker.place_order(request)
    fake.fill(request.client_order_id, qty=Decimal(1))
    partial = await _status(broker, request.client_order_id, OrderStatus.PARTIALLY_FILLED)
    assert partial.filled_quantity == Decimal(1)
    fake.fill(placed.broker_order_id, price=Decimal("148.50"))
    filled = await _status(broker, request.client_order_id, OrderStatus.FILLED)
    assert filled.filled_quantity == Decimal(3)
    assert filled.average_fill_price == Decimal("149.00")
    positions = {p.symbol: p.quantity for p in await broker.positions()}
    assert positions["AAPL"] == Decimal(3)
    (view,) = fake.order_views()
    assert (view.client_order_id, view.filled_quantity, view.is_open) == (request.client_order_id, Decimal(3), False)


async def test_cancel_at_the_broker_and_external_orders_are_seen(pair) -> None:
    fake, broker = pair
    await broker.verify()
    request = _limit("MSFT", "2", "300.00")
    await broker.place_order(request)
    fake.cancel_external(request.client_order_id)
    await _status(broker, request.client_order_id, OrderStatus.CANCELED)
    external_id = fake.add_external_order("AAPL", "buy", Decimal(4), Decimal("120.00"))
    listed = {o.broker_order_id: o for o in await broker.list_orders()}
    assert external_id in listed
    assert listed[external_id].status is OrderStatus.NEW
    # Adopted with what was ordered: an outside buy is never shown as a sell (or the other way round).
    assert listed[external_id].side is Side.BUY
    assert listed[external_id].quantity == Decimal(4)
    assert listed[external_id].order_type is OrderType.LIMIT
    assert listed[external_id].limit_price == Decimal("120.00")
    assert listed[external_id].client_order_id != request.client_order_id
    assert fake.order_count() == 1


async def test_positions_and_cash_set_on_the_fake_are_the_brokers(pair) -> None:
    fake, broker = pair
    fake.set_position("MSFT", Decimal(7), Decimal("400.00"))
    fake.set_cash(Decimal("25000"))
    info = await broker.verify()
    assert info.cash == Decimal("25000")
    (position,) = await broker.positions()
    assert (position.symbol, position.quantity, position.average_cost) == ("MSFT", Decimal(7), Decimal("400.00"))
    fake.set_position("MSFT", Decimal(0), Decimal(0))
    assert await broker.positions() == []


async def test_order_requests_separate_reads_from_order_changes(pair) -> None:
    fake, broker = pair
    await broker.verify()
    await broker.positions()
    await broker.quotes(["AAPL"])
    assert [c for c in fake.order_requests() if c.changes_orders] == []
    request = _limit("AAPL", "1", "100.00")
    await broker.place_order(request)
    changes = [c for c in fake.order_requests() if c.changes_orders]
    assert [c.client_order_id for c in changes] == [request.client_order_id]


async def test_dropped_answer_leaves_one_order_found_by_client_order_id(pair) -> None:
    fake, broker = pair
    await broker.verify()
    fake.drop_next_order_response()
    request = _limit("AAPL", "1", "100.00")
    with pytest.raises(OutcomeUnknown):
        await broker.place_order(request)
    assert fake.order_count() == 1
    found = await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o is not None)
    assert found.status is OrderStatus.NEW
    assert fake.order_count() == 1


async def test_held_answer_is_booked_before_it_is_released(pair) -> None:
    fake, broker = pair
    await broker.verify()
    hang = fake.hang_next_order_response()
    request = _limit("AAPL", "2", "100.00")
    placing = asyncio.ensure_future(broker.place_order(request))
    assert await asyncio.to_thread(hang.wait_received, 10)
    assert [v.client_order_id for v in fake.order_views()] == [request.client_order_id]
    assert not placing.done()
    hang.release()
    placed = await placing
    assert placed.client_order_id == request.client_order_id
    assert fake.order_count() == 1


async def test_broker_gone_then_back(pair) -> None:
    fake, broker = pair
    await broker.verify()
    fake.go_down()
    with pytest.raises(BrokerUnavailable):
        await broker.positions()
    fake.come_back()
    info = await eventually(broker.verify, lambda i: i is not None)
    assert info.is_paper


async def test_dropped_cancel_answer_still_cancels_at_the_broker(pair) -> None:
    fake, broker = pair
    await broker.verify()
    request = _limit("MSFT", "1", "300.00")
    placed = await broker.place_order(request)
    fake.drop_next_order_response("cancel")
    with pytest.raises(BrokerError):
        await broker.cancel_order(OrderRef.of(placed))
    await _status(broker, request.client_order_id, OrderStatus.CANCELED)
    assert [c.method for c in fake.order_requests() if c.changes_orders][1:] in (["DELETE"], ["cancelOrder"])


@pytest.mark.parametrize("name", BROKERS)
async def test_a_live_money_fake_is_reached_by_a_live_connection(name: str) -> None:
    fake = make_fake(name, live=True)
    fake.serve_in_background()
    connector = _connector(name, fake, Environment.LIVE)
    try:
        info = await connector.verify()
        assert info.is_paper is False
        fields = fake.credentials()
        expected = fields.get("account_number") or fields.get("account") or getattr(fake, "account_number", "")
        assert info.account_number == expected
    finally:
        await connector.close()
        await asyncio.to_thread(fake.shut_down)


async def test_held_answer_to_a_change_is_booked_first_then_delivered(pair) -> None:
    fake, broker = pair
    await broker.verify()
    request = _limit("MSFT", "2", "300.00")
    placed = await broker.place_order(request)
    hang = fake.hang_next_order_response("replace")
    changing = asyncio.ensure_future(broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("301.00"))))
    assert await asyncio.to_thread(hang.wait_received, 10)
    (working,) = [v for v in fake.order_views() if v.is_open]
    assert working.limit_price == Decimal("301.00")
    hang.release()
    changed = await changing
    assert changed.client_order_id == request.client_order_id
