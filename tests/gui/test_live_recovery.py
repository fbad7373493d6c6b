"""Live trading when things go wrong: lost answers, a broker that stops answering, restarts and reconciliation."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QPushButton, QRadioButton

from app.domain.live_orders import CHECKING_REASON, NOT_FOLLOWED_REASON
from app.domain.models import OrderStatus, Side, TradingMode
from app.main import start_app
from tests.conftest import until
from tests.gui.live_support import (
    connect,
    fill_rows,
    go_live,
    journal,
    label,
    live_app,
    make_rig,
    place_live,
    running,
    start,
    stop,
    switch_to_live,
    until_status,
)

pytestmark = pytest.mark.slow


def test_a_lost_answer_becomes_unknown_then_resolved_and_is_never_resent(qtbot, qt_loop, app_paths, feed, clock):
    async def scenario() -> None:
        # Following is slow here so the unknown state can be looked at before the next cycle resolves it.
        async with live_app(qtbot, app_paths, feed, clock, "alpaca", live_poll_interval=60) as (services, rig):
            await go_live(qtbot, services, rig)
            rig.fake.drop_next_order_response("place")
            cid = await place_live(qtbot, services, "AAPL", "buy", "2", "175")
            unknown = await journal(services, cid)
            assert unknown.status is OrderStatus.UNKNOWN and unknown.status_reason == CHECKING_REASON
            table = services.window.orders_pane.orders_model
            await until(lambda: table.row_of_key(cid) is not None)
            assert table.text(table.row_of_key(cid), "status") == "Unknown"
            # The same ticket can't be sent again while the broker hasn't answered for it.
            rejected: list[str] = []
            services.live.order_rejected.connect(rejected.append)
            ticket = {"symbol": "AAPL", "side": "buy", "quantity": "2", "order_type": "limit", "limit_price": "175"}
            assert await services.live.submit(ticket) is None
            assert "still being checked" in rejected[-1]
            # The next cycle asks the broker by our client order id and finds the order.
            await services.live.follower.poll_once()
            resolved = await until_status(services, cid, "new")
            assert resolved.status_reason != CHECKING_REASON and resolved.broker_order_id
            assert rig.fake.order_count() == 1
            assert len([c for c in rig.order_changes() if c.method == "POST"]) == 1

    qt_loop.run(scenario(), timeout=90)


@pytest.mark.parametrize("broker", ["alpaca", "ibkr"])
def test_broker_gone_mid_session_blocks_live_and_goes_back_to_paper(broker, qtbot, qt_loop, app_paths, feed, clock):
    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, broker) as (services, rig):
            await go_live(qtbot, services, rig)
            assert label(services, "status.connection").startswith("Connected")
            cid = await place_live(qtbot, services, "AAPL", "buy", "1", "175")
            await until_status(services, cid, "new")
            status = services.window.status
            messages: list[str] = []
            connection_lines: list[str] = []
            show_message, show_connection = status.show_message, status.show_connection
            status.show_message = lambda text: (messages.append(text), show_message(text))[1]
            status.show_connection = lambda text: (connection_lines.append(text), show_connection(text))[1]
            states: list[str] = []
            services.connections.connection_state.connect(states.append)
            rig.fake.go_down()
            # Following the open order fails (or the session drops), the connection is checked, the truth shown.
            await until(lambda: services.mode.mode is TradingMode.PAPER, timeout=40, message="still live")
            await until(lambda: "Connection error" in label(services, "status.connection"), timeout=20)
            assert "Connection error" in label(services, "mode.connection")
            assert "Back to PAPER" in label(services, "mode.notice")
            assert not services.window.findChild(QRadioButton, "mode.live").isEnabled()
            assert label(services, "settings.broker_status") == "No broker connected"
            assert label(services, "mode_badge") == "PAPER"
            await until(
                lambda: services.window.orders_pane.orders_model.record(cid) is not None
                and services.window.orders_pane.orders_model.record(cid).status_reason == NOT_FOLLOWED_REASON,
                message="the open live order is not marked as not followed",
            )
            assert (await journal(services, cid)).status is OrderStatus.NEW
            # The connection's states go to its own status-bar field only, never into the message field.
            if broker == "ibkr":
                assert states, "TWS going away reported no connection state"
            assert all(state in connection_lines for state in states)
            assert not set(states) & set(messages), messages

    qt_loop.run(scenario(), timeout=90)


def test_restart_in_live_holds_entry_until_verified_and_reconciled(qtbot, qt_loop, app_paths, feed, clock):
    rig = make_rig("alpaca")

    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        await go_live(qtbot, services, rig)
        await stop(services)

    async def second_run() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True)
        qtbot.addWidget(services.window)
        try:
            # Before the vault has even opened: held, nothing can be sent.
            assert services.mode.held
            assert label(services, "mode_badge") == "LIVE · connecting…"
            assert not services.window.findChild(QPushButton, "ticket.submit").isEnabled()
            await until(lambda: services.mode.mode is TradingMode.LIVE, timeout=30, message=label(services, "mode.notice"))
            assert services.live.entry_enabled and not services.mode.held
            assert services.window.findChild(QPushButton, "ticket.submit").isEnabled()
            assert services.window.windowTitle() == f"TradeBridge — LIVE · SANDBOX · Alpaca …{rig.account_last4}"
        finally:
            await stop(services)

    async def third_run_broker_down() -> None:
        rig.fake.go_down()
        async with running(qtbot, app_paths, feed, clock) as services:
            await until(lambda: not services.mode.held, timeout=60)
            assert services.mode.mode is TradingMode.PAPER
            assert "Started in PAPER" in label(services, "mode.notice")
            assert label(services, "mode_badge") == "PAPER"

    try:
        qt_loop.run(first_run(), timeout=60)
        qt_loop.run(second_run(), timeout=60)
        qt_loop.run(third_run_broker_down(), timeout=90)
    finally:
        rig.stop()


def test_start_up_reconciliation_brings_the_journal_to_the_broker(qtbot, qt_loop, app_paths, feed, clock):
    """(a) unknown locally, (b) filled while away, (c) cancelled while away, (d) a position with no local trades,
    and an order placed outside the app adopted as external."""
    rig = make_rig("alpaca")
    ids: dict[str, str] = {}

    async def first_run() -> None:
        # Slow following so the unknown order is still unknown when this run ends.
        services = await start(qtbot, app_paths, feed, clock, live_poll_interval=60)
        await go_live(qtbot, services, rig)
        ids["filled"] = await place_live(qtbot, services, "AAPL", "buy", "2", "175")
        ids["cancelled"] = await place_live(qtbot, services, "AAPL", "buy", "1", "172")
        rig.fake.drop_next_order_response("place")
        ids["unknown"] = await place_live(qtbot, services, "AAPL", "buy", "4", "171")
        assert services.live.follower.is_unresolved(ids["unknown"])
        await stop(services)

    def while_away() -> None:
        rig.fake.fill(ids["filled"], Decimal(2), Decimal("175"))
        rig.fake.cancel_external(ids["cancelled"])
        rig.fake.set_position("MSFT", Decimal(10), Decimal("400"))
        ids["external"] = rig.fake.add_external_order("AAPL", "sell", Decimal(1), Decimal("250"))

    async def second_run() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            await until(lambda: services.live.entry_enabled, timeout=30, message="not reconciled")
            assert (await journal(services, ids["unknown"])).status is OrderStatus.NEW
            filled = await journal(services, ids["filled"])
            assert filled.status is OrderStatus.FILLED and filled.filled_quantity == Decimal(2)
            assert len(await fill_rows(services, ids["filled"])) == 1
            assert (await journal(services, ids["cancelled"])).status is OrderStatus.CANCELED
            external = [o for o in services.live.follower.followed() if o.external]
            assert len(external) == 1 and external[0].broker_order_id == ids["external"]
            assert external[0].request.side is Side.SELL and external[0].status is OrderStatus.NEW
            await switch_to_live(qtbot, services, rig)
            await until(lambda: services.mode.mode is TradingMode.LIVE)
            positions = services.window.orders_pane.positions_model
            await until(lambda: positions.row_of_key("MSFT") is not None, message="outside position not shown")
            assert positions.text(positions.row_of_key("MSFT"), "qty") == "10"
            assert positions.row_of_key("AAPL") is not None
            # Cancel all live orders never touches the outside order.
            assert await services.live.cancel_all_open() == 1
            await until_status(services, ids["unknown"], "canceled")
            assert (await journal(services, external[0].client_order_id)).status is OrderStatus.NEW
            assert rig.fake.order_count() == 3

    try:
        qt_loop.run(first_run(), timeout=90)
        while_away()
        qt_loop.run(second_run(), timeout=90)
    finally:
        rig.stop()


def test_following_stops_even_when_a_broker_call_swallows_the_cancellation(qtbot, qt_loop, app_paths, feed, clock):
    """A broker library that catches the cancellation meant for the follower must not keep it polling forever."""
    rig = make_rig("alpaca")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        follower = services.live.follower
        entered = asyncio.Event()

        async def swallowing_reconcile() -> bool:
            entered.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass  # as a misbehaving library would
            return False

        try:
            await connect(services, rig)
            follower.reconcile = swallowing_reconcile  # type: ignore[method-assign]
            follower._is_reconciled = False
            await asyncio.wait_for(entered.wait(), 10)
            await asyncio.wait_for(follower.stop(mark=False), 10)
            assert follower.session is None
        finally:
            await stop(services)
            rig.stop()

    qt_loop.run(scenario(), timeout=60)
