"""The IBKR connector driving the real ib_insync client against the fake TWS over loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from app.brokers.base import (
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
)
from app.brokers.ibkr.connector import (
    ConnectionEvent,
    ConnectionState,
    IbkrBroker,
    IbkrTimeouts,
    ReconnectPolicy,
)
from app.domain.models import AssetClass, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from app.domain.symbols import parse_symbol
from tests.contract.harness import eventually
from tests.fakes.tws import FakeTws

ACCOUNT = "DU1234567"
FAST = ReconnectPolicy(first_delay=0.05, max_delay=0.2)
TIMEOUTS = IbkrTimeouts(connect=3.0, request=3.0, order_ack=2.0, quotes=3.0, reconnect_wait=8.0)
Connect = Callable[..., IbkrBroker]


def _order(symbol: str, side: Side, qty: str, order_type: OrderType, limit: str | None = None) -> OrderRequest:
    return OrderRequest(
        instrument=parse_symbol(symbol), side=side, quantity=Decimal(qty), order_type=order_type,
        limit_price=Decimal(limit) if limit else None,
    )


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _states(broker: IbkrBroker) -> list[ConnectionEvent]:
    events: list[ConnectionEvent] = []
    broker.add_connection_listener(events.append)
    return events


def _sent(tws: FakeTws, client_id: int) -> list[list[str]]:
    return [fields for sender, fields in tws.received if sender == client_id]


@pytest.fixture
async def tws() -> AsyncIterator[FakeTws]:
    fake = FakeTws((ACCOUNT,))
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    fake.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    fake.set_quote("SPY", Decimal("512.40"), Decimal("512.45"), Decimal("512.42"), live=False)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def connect(tws: FakeTws) -> AsyncIterator[Connect]:
    made: list[IbkrBroker] = []

    def make(*, client_id: int = 7, environment: Environment = Environment.PAPER, account: str = ACCOUNT,
             port: int | None = None) -> IbkrBroker:
        credentials = {"host": "127.0.0.1", "port": str(port or tws.port), "client_id": str(client_id), "account": account}
        broker = IbkrBroker(credentials, environment, reconnect=FAST, timeouts=TIMEOUTS)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        await broker.close()


async def test_verify_reads_the_account_and_asks_for_delayed_data_where_unsubscribed(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    events = _states(broker)
    info = await broker.verify()
    assert (info.account_number, info.is_paper, info.account_type_label) == (ACCOUNT, True, "INDIVIDUAL")
    assert (info.buying_power, info.cash, info.equity) == (Decimal("400000.00"), Decimal("100000.00"), Decimal("100000.00"))
    assert [e.state for e in events] == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    assert "account …4567 (paper)" in events[-1].message
    assert ["59", "1", "3"] in _sent(tws, 7)


async def test_paper_connection_to_a_live_login_is_closed_before_any_request(connect: Connect) -> None:
    live = FakeTws(("U7654321",))
    await live.start()
    try:
        broker = connect(account="", port=live.port)
        with pytest.raises(EnvironmentMismatch) as raised:
            await broker.verify()
        assert "paper connection" in str(raised.value) and "…4321" in str(raised.value)
        assert "U7654321" not in str(raised.value)
        assert broker.connection_state is ConnectionState.FAILED
        await _until(lambda: live.connections == 0)
        with pytest.raises(EnvironmentMismatch):
            await broker.place_order(_order("AAPL", Side.BUY, "1", OrderType.MARKET))
        # Only the handshake's startApi ever reached the live login: no sync, no query, no order.
        assert {fields[0] for _, fields in live.received} == {"71"}
        assert live.accepted == 0
    finally:
        await live.stop()


async def test_live_connection_to_a_paper_login_is_refused(connect: Connect) -> None:
    broker = connect(environment=Environment.LIVE)
    with pytest.raises(EnvironmentMismatch, match="live connection.*paper account …4567"):
        await broker.verify()


async def test_refused_connection_asks_whether_tws_listens_on_the_port(connect: Connect) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = connect(port=port)
    with pytest.raises(BrokerUnavailable, match=f"running with the API enabled on port {port}"):
        await broker.verify()
    assert broker.connection_state is ConnectionState.DISCONNECTED


async def test_client_id_in_use_is_named_without_waiting_for_the_connect_timeout(tws: FakeTws, connect: Connect) -> None:
    first = connect(client_id=7)
    await first.verify()
    second = connect(client_id=7)
    started = asyncio.get_running_loop().time()
    with pytest.raises(BrokerError, match="Client id 7 is already in use") as raised:
        await second.verify()
    assert not isinstance(raised.value, BrokerUnavailable)
    assert asyncio.get_running_loop().time() - started < TIMEOUTS.connect / 2
    assert (await first.verify()).account_number == ACCOUNT
    tws.hold_client_id(9)  # another application, not ours, holds id 9
    with pytest.raises(BrokerError, match="Client id 9 is already in use"):
        await connect(client_id=9).verify()


async def test_order_life_cycle_is_pushed_as_tws_reports_it(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    updates: list[BrokerOrder] = []
    broker.add_order_listener(updates.append)
    request = _order("AAPL", Side.BUY, "2", OrderType.LIMIT, "150.00")
    placed = await broker.place_order(request)
    booked = tws.order(request.client_order_id)
    assert (placed.status, placed.broker_order_id, placed.quantity) == (OrderStatus.NEW, str(booked.perm_id), Decimal(2))

    tws.fill(request.client_order_id, price=Decimal("150.00"))
    # TWS sends the execution's commission report after its status: pushed as one more update.
    await _until(lambda: updates[-1].commission is not None)
    assert [u.status for u in updates] == [OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.FILLED]
    assert [u.commission for u in updates] == [None, None, sum(e.commission for e in tws.executions)]
    assert updates[-1].commission == Decimal("1.00")
    assert (updates[-1].filled_quantity, updates[-1].average_fill_price) == (Decimal(2), Decimal("150.00"))
    assert updates[-1].side is Side.BUY
    assert await broker.get_order(request.client_order_id) == updates[-1]


async def test_stop_limit_gtc_outside_hours_reaches_tws_with_exact_fields(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    request = OrderRequest(
        instrument=parse_symbol("MSFT"), side=Side.SELL, quantity=Decimal("5"), order_type=OrderType.STOP_LIMIT,
        time_in_force=TimeInForce.GTC, limit_price=Decimal("399.95"), stop_price=Decimal("400.05"), extended_hours=True,
    )
    placed = await broker.place_order(request)
    booked = tws.order(request.client_order_id)
    assert (booked.action, booked.quantity, booked.order_type, booked.tif, booked.outside_rth, booked.account) == (
        "SELL", Decimal("5"), "STP LMT", "GTC", True, ACCOUNT)
    assert (booked.limit_price, booked.aux_price) == (Decimal("399.95"), Decimal("400.05"))
    assert (placed.status, placed.raw_status) == (OrderStatus.NEW, "PreSubmitted")


async def test_cancel_is_confirmed_and_a_second_cancel_is_refused(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    request = _order("MSFT", Side.BUY, "1", OrderType.LIMIT, "300.00")
    placed = await broker.place_order(request)
    cancelled = await broker.cancel_order(OrderRef.of(placed))
    assert cancelled.status is OrderStatus.CANCELED
    assert tws.order(request.client_order_id).status == "Cancelled"
    with pytest.raises(OrderRejected, match="already canceled"):
        await broker.cancel_order(OrderRef.of(placed))


async def test_rejection_is_pushed_with_ibs_reason(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    updates: list[BrokerOrder] = []
    broker.add_order_listener(updates.append)
    tws.inject_fault("reject")
    request = _order("AAPL", Side.BUY, "1", OrderType.MARKET)
    with pytest.raises(OrderRejected, match="EQUITY WITH LOAN VALUE"):
        await broker.place_order(request)
    rejected = await broker.get_order(request.client_order_id)
    assert rejected is not None and rejected.status is OrderStatus.REJECTED and "INITIAL MARGIN" in rejected.reason
    assert updates[-1] == rejected


async def test_option_fills_show_in_positions_with_cost_per_share(tws: FakeTws, connect: Connect) -> None:
    tws.set_quote("AAPL250117C00150000", Decimal("1.00"), Decimal("1.10"), Decimal("1.05"))
    broker = connect()
    await broker.verify()
    request = _order("AAPL250117C00150000", Side.BUY, "2", OrderType.MARKET)
    await broker.place_order(request)
    await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o.status is OrderStatus.FILLED)
    positions = {p.symbol: p for p in await broker.positions()}
    option = positions["AAPL250117C00150000"]
    assert (option.asset_class, option.quantity, option.average_cost) == (AssetClass.OPTION, Decimal(2), Decimal("1.10"))
    assert tws.order(request.client_order_id).contract.local_symbol == "AAPL  250117C00150000"


async def test_reconnect_resyncs_by_order_ref_when_another_client_reuses_the_order_id(tws: FakeTws, connect: Connect) -> None:
    broker = connect(client_id=7)
    await broker.verify()
    request = _order("AAPL", Side.BUY, "2", OrderType.LIMIT, "150.00")
    await broker.place_order(request)
    ours = tws.order(request.client_order_id)
    events = _states(broker)

    await tws.pause()
    tws.drop_connections()
    await _until(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    # While the app is away our order fills, and API client 9 trades with the very same orderId.
    tws.fill(request.client_order_id, price=Decimal("150.00"))
    theirs = tws.submit_order(9, ours.order_id, "MSFT", "BUY", Decimal(7), Decimal("410.30"), order_ref="desk-9")
    tws.fill("desk-9", price=Decimal("410.30"))
    await _until(lambda: sum(e.state is ConnectionState.RECONNECTING for e in events) >= 2)
    await tws.resume()

    found = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.FILLED
    )
    assert (found.filled_quantity, found.average_fill_price, found.symbol) == (Decimal(2), Decimal("150.00"), "AAPL")
    assert found.broker_order_id == str(ours.perm_id)
    other = (await broker.list_orders())[-1]
    assert (other.client_order_id, other.broker_order_id, other.symbol, other.filled_quantity) == (
        "desk-9", str(theirs.perm_id), "MSFT", Decimal(7))
    assert events[0].state is ConnectionState.RECONNECTING and "Lost the connection" in events[0].message
    assert any("API enabled on port" in e.message for e in events[1:-1])
    assert events[-1].state is ConnectionState.CONNECTED
    assert tws.accepted == 1


async def test_order_lost_on_the_way_is_unknown_until_tws_proves_it_absent(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    updates: list[BrokerOrder] = []
    broker.add_order_listener(updates.append)
    tws.inject_fault("drop_request")
    request = _order("AAPL", Side.BUY, "1", OrderType.LIMIT, "100.00")
    with pytest.raises(OutcomeUnknown) as raised:
        await broker.place_order(request)
    assert raised.value.client_order_id == request.client_order_id
    assert updates[-1].status is OrderStatus.UNKNOWN
    assert await broker.get_order(request.client_order_id) is None
    assert tws.accepted == 0


async def test_lost_answer_is_resolved_from_executions_when_tws_replays_no_completed_orders(
    tws: FakeTws, connect: Connect
) -> None:
    broker = connect()
    await broker.verify()
    tws.completed_orders_replayed = False
    tws.inject_fault("drop_response")
    request = _order("AAPL", Side.BUY, "3", OrderType.LIMIT, "190.00")  # crosses: TWS fills it at once
    with pytest.raises(OutcomeUnknown):
        await broker.place_order(request)
    filled = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.FILLED
    )
    assert (filled.filled_quantity, filled.average_fill_price) == (Decimal(3), Decimal("190.00"))
    assert filled.broker_order_id == str(tws.order(request.client_order_id).perm_id)
    assert tws.accepted == 1


async def test_order_open_at_the_drop_and_filled_meanwhile_is_resolved_from_executions(
    tws: FakeTws, connect: Connect
) -> None:
    broker = connect()
    await broker.verify()
    request = _order("MSFT", Side.BUY, "2", OrderType.LIMIT, "400.00")
    await broker.place_order(request)
    tws.completed_orders_replayed = False
    tws.go_down()
    await _until(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    tws.fill(request.client_order_id, price=Decimal("399.50"))
    tws.come_back()
    filled = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.status is OrderStatus.FILLED
    )
    assert (filled.filled_quantity, filled.average_fill_price) == (Decimal(2), Decimal("399.50"))
    assert request.client_order_id in {o.client_order_id for o in await broker.list_orders()}


async def test_part_filled_then_cancelled_while_away_stays_visible_with_its_fills(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    request = _order("MSFT", Side.BUY, "5", OrderType.LIMIT, "400.00")
    await broker.place_order(request)
    tws.completed_orders_replayed = False
    tws.go_down()
    await _until(lambda: broker.connection_state is ConnectionState.RECONNECTING)
    tws.fill(request.client_order_id, Decimal(2), Decimal("399.00"))
    tws.cancel_external(request.client_order_id)
    tws.come_back()
    await _until(lambda: broker.connection_state is ConnectionState.CONNECTED)
    order = await eventually(
        lambda: broker.get_order(request.client_order_id), lambda o: o is not None and o.filled_quantity == 2
    )
    # Executions prove two filled; nothing TWS replayed says what became of the other three.
    assert order.status is OrderStatus.UNKNOWN
    assert order.average_fill_price == Decimal("399.00")
    assert "executions" in order.reason


async def test_a_new_session_finds_an_order_known_only_from_executions(tws: FakeTws, connect: Connect) -> None:
    first = connect(client_id=7)
    await first.verify()
    request = _order("AAPL", Side.BUY, "1", OrderType.LIMIT, "150.00")
    await first.place_order(request)
    await first.close()
    tws.fill(request.client_order_id, price=Decimal("150.00"))
    tws.completed_orders_replayed = False
    restarted = connect(client_id=7)
    await restarted.verify()
    found = await restarted.get_order(request.client_order_id)
    assert found is not None
    assert (found.filled_quantity, found.average_fill_price, found.symbol) == (Decimal(1), Decimal("150.00"), "AAPL")
    assert found.status is OrderStatus.UNKNOWN


async def test_ib_outage_is_shown_and_orders_resync_when_ib_returns(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    request = _order("AAPL", Side.BUY, "2", OrderType.LIMIT, "150.00")
    await broker.place_order(request)
    events = _states(broker)
    tws.broadcast(1100, "Connectivity between IB and Trader Workstation has been lost.")
    await _until(lambda: broker.connection_state is ConnectionState.IB_UNREACHABLE)
    tws.fill(request.client_order_id, price=Decimal("150.00"), notify=False)
    assert (await broker.get_order(request.client_order_id)).status is OrderStatus.NEW
    tws.broadcast(1102, "Connectivity between IB and Trader Workstation has been restored - data maintained.")
    filled = await eventually(lambda: broker.get_order(request.client_order_id), lambda o: o.status is OrderStatus.FILLED)
    assert filled.average_fill_price == Decimal("150.00")
    assert [e.state for e in events] == [ConnectionState.IB_UNREACHABLE, ConnectionState.CONNECTED]


async def test_reconnecting_to_a_live_login_stops_retrying_and_trading_stays_refused(tws: FakeTws, connect: Connect) -> None:
    broker = connect(account="")
    await broker.verify()
    events = _states(broker)
    tws.accounts = ("U7654321",)
    tws.drop_connections()
    await _until(lambda: broker.connection_state is ConnectionState.FAILED)
    assert "live account …4321" in events[-1].message
    with pytest.raises(EnvironmentMismatch):
        await broker.place_order(_order("AAPL", Side.BUY, "1", OrderType.MARKET))
    assert tws.accepted == 0


async def test_quotes_use_delayed_data_without_a_subscription_and_skip_unknowns(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    quotes = await broker.quotes(["AAPL", "SPY", "ZZZZQ", "not a symbol!"])
    assert set(quotes) == {"AAPL", "SPY"}
    spy = quotes["SPY"]
    assert (spy.bid, spy.ask, spy.last, spy.bid_size) == (Decimal("512.40"), Decimal("512.45"), Decimal("512.42"), Decimal(100))
    assert spy.timestamp.tzinfo is not None
    tws.set_quote("AAPL", Decimal("190.00"), Decimal("190.10"), Decimal("190.05"))
    assert (await broker.quotes(["AAPL"]))["AAPL"].ask == Decimal("190.10")


async def test_preview_reports_cost_commission_and_margin_and_refuses_what_tws_rejects(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    preview = await broker.preview_order(_order("AAPL", Side.BUY, "10", OrderType.LIMIT, "189.00"))
    assert (preview.estimated_cost, preview.commission, preview.buying_power_effect) == (
        Decimal("1890.00"), Decimal("1.00"), Decimal("472.50"))
    with pytest.raises(OrderRejected, match="EQUITY WITH LOAN VALUE"):
        await broker.preview_order(_order("AAPL", Side.BUY, "5000", OrderType.LIMIT, "189.00"))
    assert tws.accepted == 0


async def test_a_resent_client_order_id_is_refused_locally(tws: FakeTws, connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    request = _order("MSFT", Side.BUY, "1", OrderType.LIMIT, "300.00")
    await broker.place_order(request)
    with pytest.raises(BrokerError, match="already sent"):
        await broker.place_order(request)
    assert tws.accepted == 1


async def test_closed_connector_cannot_be_used(connect: Connect) -> None:
    broker = connect()
    await broker.verify()
    await broker.close()
    assert broker.connection_state is ConnectionState.DISCONNECTED
    with pytest.raises(BrokerError, match="closed"):
        await broker.positions()


def test_quote_without_a_tick_time_is_stamped_now() -> None:
    from types import SimpleNamespace

    from app.brokers.ibkr.parse import ticker_quote

    quote = ticker_quote("AAPL", SimpleNamespace(bid=189.5, ask=189.6, last=float("nan"), bidSize=100.0, askSize=200.0, time=None))
    assert quote is not None
    assert quote.timestamp.tzinfo is not None
    assert (quote.bid, quote.ask, quote.last) == (Decimal("189.5"), Decimal("189.6"), None)
