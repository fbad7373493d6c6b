"""``replace_order`` (base.py contract) proven for every connector against its fake's real endpoint."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.brokers.base import Broker, OrderNotFound, OrderRef, OrderRejected, OutcomeUnknown
from app.brokers.registry import get_spec
from app.domain.models import OrderChange, OrderRequest, OrderStatus, OrderType, Side
from app.domain.symbols import parse_symbol
from tests.contract.harness import eventually


def _limit(symbol: str, qty: str, limit: str) -> OrderRequest:
    return OrderRequest(instrument=parse_symbol(symbol), side=Side.BUY, quantity=Decimal(qty),
                        order_type=OrderType.LIMIT, limit_price=Decimal(limit))


@pytest.fixture
async def broker(harness):
    harness.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    harness.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    connector = harness.connector()
    await connector.verify()
    try:
        yield connector
    finally:
        await connector.close()


def _working(harness, coid: str):
    """The fake's one working order with our id (a replacing broker keeps the old one as replaced)."""
    (view,) = [v for v in harness.fake.order_views() if v.client_order_id.startswith(coid) and v.is_open]
    return view


def _changes(harness) -> list[str]:
    return [c.method for c in harness.fake.order_requests() if c.changes_orders]


async def test_every_broker_declares_it_can_replace(harness) -> None:
    capabilities = get_spec(harness.name).capabilities
    assert capabilities.replace is True
    assert capabilities.replace_quantity is (harness.name in ("alpaca", "ibkr"))


async def test_new_limit_price_reaches_the_broker_and_the_order_keeps_our_id(broker: Broker, harness) -> None:
    request = _limit("MSFT", "2", "350.00")
    placed = await broker.place_order(request)
    changed = await broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("355.25")))
    assert changed.client_order_id == request.client_order_id
    assert changed.status in (OrderStatus.NEW, OrderStatus.PENDING_SUBMIT)
    assert _working(harness, request.client_order_id).limit_price == Decimal("355.25")
    found = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.NEW
    )
    assert found.broker_order_id == changed.broker_order_id
    assert found.quantity == Decimal(2)
    listed = [o for o in await broker.list_orders() if o.client_order_id == request.client_order_id]
    assert [o.broker_order_id for o in listed] == [changed.broker_order_id]
    assert harness.order_count() == 1


async def test_a_price_that_crosses_fills_the_changed_order(broker: Broker, harness) -> None:
    request = _limit("AAPL", "3", "180.00")
    placed = await broker.place_order(request)
    await broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("190.00")))
    filled = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.FILLED
    )
    assert (filled.filled_quantity, filled.average_fill_price) == (Decimal(3), Decimal("190.00"))


async def test_quantity_changes_where_the_broker_allows_it(broker: Broker, harness) -> None:
    request = _limit("MSFT", "2", "350.00")
    placed = await broker.place_order(request)
    change = OrderChange(quantity=Decimal(5), limit_price=Decimal("351.00"))
    if not get_spec(harness.name).capabilities.replace_quantity:
        sent = _changes(harness)
        with pytest.raises(OrderRejected, match="not its quantity"):
            await broker.replace_order(OrderRef.of(placed), change)
        assert _changes(harness) == sent
        return
    changed = await broker.replace_order(OrderRef.of(placed), change)
    assert changed.quantity == Decimal(5)
    view = _working(harness, request.client_order_id)
    assert (view.quantity, view.limit_price) == (Decimal(5), Decimal("351.00"))


async def test_part_filled_order_changes_without_growing(broker: Broker, harness) -> None:
    request = _limit("MSFT", "5", "350.00")
    placed = await broker.place_order(request)
    harness.fake.fill(request.client_order_id, qty=Decimal(2), price=Decimal("350.00"))
    await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o.filled_quantity == 2)
    changed = await broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("352.00")))
    assert changed.client_order_id == request.client_order_id
    assert (changed.filled_quantity, changed.quantity) == (Decimal(2), Decimal(5))
    found = await broker.get_order(request.client_order_id)
    assert (found.status, found.filled_quantity, found.quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(2), Decimal(5))
    view = _working(harness, request.client_order_id)
    assert view.quantity - view.filled_quantity == Decimal(3)


async def test_finished_and_unknown_orders_are_refused_and_nothing_is_sent(broker: Broker, harness) -> None:
    request = _limit("AAPL", "1", "190.00")  # crosses: fills at once
    placed = await broker.place_order(request)
    await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o.status is OrderStatus.FILLED)
    sent = _changes(harness)
    with pytest.raises(OrderRejected, match="filled"):
        await broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("191.00")))
    with pytest.raises(OrderNotFound):
        await broker.replace_order(OrderRef("tb-0000000000000-deadbeef"), OrderChange(limit_price=Decimal("1.00")))
    with pytest.raises(OrderRejected, match="nothing to change"):
        await broker.replace_order(OrderRef.of(placed), OrderChange())
    with pytest.raises(OrderRejected, match="more than zero"):
        await broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("-1")))
    assert _changes(harness) == sent


async def test_lost_answer_to_a_change_is_outcome_unknown_and_never_resent(broker: Broker, harness) -> None:
    request = _limit("MSFT", "2", "350.00")
    placed = await broker.place_order(request)
    harness.fake.drop_next_order_response("replace")
    with pytest.raises(OutcomeUnknown) as raised:
        await broker.replace_order(OrderRef.of(placed), OrderChange(limit_price=Decimal("356.00")))
    assert raised.value.client_order_id == request.client_order_id
    found = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.NEW
    )
    assert found.client_order_id == request.client_order_id
    assert _working(harness, request.client_order_id).limit_price == Decimal("356.00")
    replaces = [c for c in harness.fake.order_requests() if c.changes_orders and c.method not in ("POST", "placeOrder")]
    replaces += [c for c in harness.fake.order_requests() if c.method == "placeOrder"][1:]
    assert len(replaces) == 1
    assert harness.order_count() == 1
