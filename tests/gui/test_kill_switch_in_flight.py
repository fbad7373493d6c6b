"""The kill switch against a live order already confirmed: refused if it is not sent yet, cancelled once if it is."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtGui import QAction

from app.domain.models import OrderStatus
from app.main import AppServices
from app.ui.live_dialogs import LiveDialogs
from tests.conftest import QtLoop, until
from tests.gui.live_support import go_live, journal, make_rig, running, until_status

pytestmark = pytest.mark.slow

LIMIT = {"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "175.00"}


async def _live(qtbot: Any, services: AppServices, rig: Any) -> None:
    await go_live(qtbot, services, rig)
    await until(lambda: services.live.entry_enabled)
    services.window.findChild(LiveDialogs).ask_order = lambda _order: None
    services.window.safety.confirm = lambda _title, _text: False


def _kill_switch(services: AppServices) -> None:
    services.window.findChild(QAction, "kill_switch").trigger()


def _run_live(qtbot: Any, qt_loop: QtLoop, app_paths: Any, feed: Any, clock: Any, steps: Any) -> None:
    """Run ``steps(services, rig)`` in the app, live on the Alpaca fake, with the confirmations answered."""
    rig = make_rig("alpaca")

    async def scenario() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            await _live(qtbot, services, rig)
            await steps(services, rig)

    try:
        qt_loop.run(scenario(), timeout=90)
    finally:
        rig.stop()


def test_a_confirmed_order_is_not_sent_when_the_kill_switch_is_pressed_during_its_journal_write(
    qtbot, qt_loop: QtLoop, app_paths, feed, clock
):
    async def steps(services: AppServices, rig: Any) -> None:
        follower = services.live.follower
        record = follower.record_pending

        async def record_then_halt(order: Any) -> None:
            await record(order)
            _kill_switch(services)
            await until(lambda: services.risk is not None and services.risk.halted)

        follower.record_pending = record_then_halt  # type: ignore[method-assign]
        cid = await services.live.submit(LIMIT)
        assert cid is not None
        order = await services.live.place(cid)
        assert order is not None and order.status is OrderStatus.REJECTED
        assert order.status_reason.startswith("Not sent: Trading is halted (kill switch")
        stored = await journal(services, cid)
        assert stored is not None and stored.status is OrderStatus.REJECTED
        assert [c for c in rig.order_changes() if c.method == "POST"] == []
        assert rig.fake.order_count() == 0

    _run_live(qtbot, qt_loop, app_paths, feed, clock, steps)


def test_an_order_on_its_way_when_the_kill_switch_is_pressed_is_cancelled_once_the_broker_has_it(
    qtbot, qt_loop: QtLoop, app_paths, feed, clock
):
    async def steps(services: AppServices, rig: Any) -> None:
        cid = await services.live.submit(LIMIT)
        assert cid is not None
        hang = rig.fake.hang_next_order_response("place")
        placing = asyncio.ensure_future(services.live.place(cid))
        assert await asyncio.to_thread(hang.wait_received, 10), "the order never reached the broker"

        assert services.risk is not None
        said: list[str] = []
        services.risk.status.connect(said.append)
        _kill_switch(services)
        await until(lambda: any(m.startswith("Kill switch:") for m in said), message="the kill switch never finished")
        assert said[-1].startswith("Kill switch: trading halted; 1 open live order cancelled.")
        # Nothing is cancelled before the broker has answered: the cancel waits for the order to exist there.
        assert [c for c in rig.order_changes() if c.method == "DELETE"] == []

        hang.release()
        await placing
        await until_status(services, cid, "canceled")
        cancels = [c.client_order_id for c in rig.order_changes() if c.method == "DELETE"]
        assert cancels == [cid]
        assert len([c for c in rig.order_changes() if c.method == "POST"]) == 1

    _run_live(qtbot, qt_loop, app_paths, feed, clock, steps)


async def _order_with_an_unknown_outcome(services: AppServices, rig: Any) -> str:
    """An order the broker booked but never answered: unknown here until the follower finds it."""
    rig.fake.drop_next_order_response("place")
    cid = await services.live.submit(LIMIT)
    assert cid is not None
    order = await services.live.place(cid)
    assert order is not None and order.status is OrderStatus.UNKNOWN
    return cid


async def _until_canceled(services: AppServices, rig: Any, cid: str) -> None:
    for _ in range(100):
        rig.settle()
        stored = await journal(services, cid)
        if stored is not None and stored.status is OrderStatus.CANCELED:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{cid} was never cancelled")


@pytest.mark.parametrize("how", ["kill switch", "cancel all"])
def test_an_order_of_unknown_outcome_when_all_are_cancelled_is_cancelled_once_the_broker_shows_it_working(
    qtbot, qt_loop: QtLoop, app_paths, feed, clock, how: str
):
    async def steps(services: AppServices, rig: Any) -> None:
        cid = await _order_with_an_unknown_outcome(services, rig)
        said: list[str] = []
        services.live.message.connect(said.append)
        if how == "kill switch":
            _kill_switch(services)
            await until(lambda: services.risk is not None and services.risk.halted)
        else:
            await services.live.cancel_all_open()
        await until(lambda: any("without a clear answer from the broker" in m for m in said))
        # Nothing can be cancelled while the outcome is unknown.
        assert [c for c in rig.order_changes() if c.method == "DELETE"] == []

        await services.live.follower.poll_once()
        await _until_canceled(services, rig, cid)
        assert [c.client_order_id for c in rig.order_changes() if c.method == "DELETE"] == [cid]
        assert len([c for c in rig.order_changes() if c.method == "POST"]) == 1
        assert any(m.startswith(f"Order {cid} turned out to be working") for m in said)

    _run_live(qtbot, qt_loop, app_paths, feed, clock, steps)


def test_an_order_of_unknown_outcome_that_turns_out_working_is_left_working_when_nothing_was_cancelled(
    qtbot, qt_loop: QtLoop, app_paths, feed, clock
):
    async def steps(services: AppServices, rig: Any) -> None:
        cid = await _order_with_an_unknown_outcome(services, rig)
        await services.live.follower.poll_once()
        await until_status(services, cid, "new")
        await asyncio.sleep(0.2)
        assert [c for c in rig.order_changes() if c.method == "DELETE"] == []
        stored = await journal(services, cid)
        assert stored is not None and stored.status is OrderStatus.NEW

    _run_live(qtbot, qt_loop, app_paths, feed, clock, steps)
