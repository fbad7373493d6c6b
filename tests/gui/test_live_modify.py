"""Modify a working live order end to end against the brokers' fakes: the modify dialog, the old → new
confirmation, one replace request in the broker's wire format, the order followed to the end."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QTableView

from app.domain.live_orders import CHANGE_CHECKING_REASON
from app.domain.models import Order, OrderStatus
from app.storage.order_events import load_events
from app.domain.order_history import describe_event
from app.ui.orders_menus import order_menu
from tests.conftest import until
from tests.gui.live_support import BrokerRig, fill_rows, go_live, journal, live_app, place_live, until_status

pytestmark = pytest.mark.slow


def _type(qtbot, field: QLineEdit, value: str) -> None:
    field.clear()
    qtbot.keyClicks(field, value)


def _replaces(rig: BrokerRig) -> list[str]:
    """The replace requests that reached the fake (PATCH at Alpaca, PUT at Tradier and Tastytrade, a re-placed
    placeOrder at the fake TWS)."""
    return [f"{c.method} {c.path}" for c in rig.order_changes() if c.method in ("PATCH", "PUT")]


async def _live_order(qtbot, services, rig: BrokerRig) -> str:
    await go_live(qtbot, services, rig)
    cid = await place_live(qtbot, services, "AAPL", "buy", "3", "175")
    await until_status(services, cid, "new")
    table = services.window.findChild(QTableView, "orders.table")
    await until(lambda: table.model().row_of_key(cid) is not None, message="live order not in the table")
    return cid


async def _open_modify(services, cid: str) -> QDialog:
    pane = services.window.orders_pane
    table = services.window.findChild(QTableView, "orders.table")
    menu = order_menu(pane, table.model().row_of_key(cid))
    (modify,) = [a for a in menu.actions() if a.objectName() == "orders.menu.modify"]
    assert modify.isEnabled()
    modify.trigger()
    dialog = services.window.findChild(QDialog, "order_modify.dialog")
    await until(dialog.isVisible, message="no modify dialog")
    return dialog


async def _until_changed(services, cid: str, limit: Decimal, timeout: float = 30) -> Order:
    """The journal row once it carries the new limit and is working: from the broker's answer, or, when the answer
    was slow and the change went unknown, from the follower's next read of the broker."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        order = await journal(services, cid)
        if order is not None and order.request.limit_price == limit and order.status is OrderStatus.NEW:
            return order
        if loop.time() > deadline:
            raise AssertionError(f"{cid} never showed the change: {order}")
        await asyncio.sleep(0.05)


async def _history(services, cid: str) -> list[str]:
    events = await services.worker.run(lambda s: load_events(s, cid))
    return [describe_event(e, events[i - 1] if i else None) for i, e in enumerate(events)]


@pytest.mark.parametrize("broker", ["alpaca", "tastytrade"])
def test_a_live_order_is_replaced_after_confirming_old_to_new_and_followed_to_its_fill(
    broker, qtbot, qt_loop, app_paths, feed, clock
) -> None:
    """Alpaca and Tastytrade replace by a new order: ours stays one row, following the working order's id.
    Tastytrade changes prices only, so its quantity stays."""
    size = "5" if broker == "alpaca" else "3"
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, broker) as (services, rig):
            window = services.window
            cid = await _live_order(qtbot, services, rig)
            before = await journal(services, cid)
            sent_before = len(rig.order_changes())
            dialog = await _open_modify(services, cid)
            quantity = dialog.findChild(QLineEdit, "order_modify.quantity")
            limit = dialog.findChild(QLineEdit, "order_modify.limit_price")
            assert (quantity.text(), Decimal(limit.text())) == ("3", Decimal("175"))

            # Bad input is refused in the dialog; nothing reaches the broker.
            _type(qtbot, limit, "abc")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            error = dialog.findChild(QLabel, "order_modify.limit_price_error")
            await until(error.isVisible)
            assert error.text().startswith("'abc' is not a number")
            assert len(rig.order_changes()) == sent_before

            # The same pre-trade limits as a new order: a price far from the market is refused before asking.
            _type(qtbot, limit, "150.00")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            general = dialog.findChild(QLabel, "order_modify.error")
            await until(general.isVisible, timeout=15)
            assert "your price band allows 10%" in general.text()
            assert not window.findChild(QDialog, "order_change_confirm_dialog").isVisible()
            assert len(rig.order_changes()) == sent_before

            # A good change asks first, showing old → new; declining sends nothing.
            # Tastytrade changes prices only: its form greys the quantity out.
            assert quantity.isEnabled() is (broker == "alpaca")
            if quantity.isEnabled():
                _type(qtbot, quantity, size)
            _type(qtbot, limit, "176.00")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            confirm = window.findChild(QDialog, "order_change_confirm_dialog")
            await until(confirm.isVisible, timeout=15, message="no confirmation of the change")
            assert not dialog.isVisible()
            summary = confirm.findChild(QLabel, "order_change_confirm.summary").text()
            assert ("Quantity: 3 → 5" in summary) is (size == "5") and "Limit price: 175.00 → 176.00" in summary
            assert f"…{rig.account_last4}" in summary and "new one" in summary
            qtbot.mouseClick(confirm.findChild(QPushButton, "order_change_confirm.cancel"), Qt.MouseButton.LeftButton)
            await until(lambda: "not sent" in window.orders_pane.message.text())
            assert len(rig.order_changes()) == sent_before

            dialog = await _open_modify(services, cid)
            if broker == "alpaca":
                _type(qtbot, dialog.findChild(QLineEdit, "order_modify.quantity"), size)
            _type(qtbot, dialog.findChild(QLineEdit, "order_modify.limit_price"), "176.00")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            await until(confirm.isVisible, timeout=15, message="no confirmation of the change")
            qtbot.mouseClick(confirm.findChild(QPushButton, "order_change_confirm.submit"), Qt.MouseButton.LeftButton)
            changed = await _until_changed(services, cid, Decimal("176.00"))
            assert changed.request.quantity == Decimal(size)
            assert changed.status is OrderStatus.NEW
            assert changed.broker_order_id and changed.broker_order_id != before.broker_order_id
            assert len(_replaces(rig)) == 1, _replaces(rig)
            views = {v.broker_order_id: v for v in rig.fake.order_views()}
            assert not views[before.broker_order_id].is_open
            assert views[changed.broker_order_id].is_open and views[changed.broker_order_id].quantity == Decimal(size)
            history = await _history(services, cid)
            modified = "qty 3 → 5, limit 175.00 → 176.00" if size == "5" else "limit 175.00 → 176.00"
            assert any(h.startswith(f"Modified: {modified}") for h in history), history

            # The working (replacing) order fills; the fill lands on our order, once.
            rig.fake.fill(changed.broker_order_id, Decimal(size), Decimal("176"))
            for _ in range(200):
                rig.settle()
                if (await journal(services, cid)).status is OrderStatus.FILLED:
                    break
                await asyncio.sleep(0.05)
            filled = await until_status(services, cid, "filled")
            assert filled.filled_quantity == Decimal(size)
            assert sum(r.quantity for r in await fill_rows(services, cid)) == Decimal(size)
            assert len(_replaces(rig)) == 1

    qt_loop.run(scenario(), timeout=120)


def test_tradier_changes_prices_in_place_and_refuses_a_new_quantity_before_asking(
    qtbot, qt_loop, app_paths, feed, clock
) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "tradier") as (services, rig):
            window = services.window
            cid = await _live_order(qtbot, services, rig)
            before = await journal(services, cid)
            sent_before = len(rig.order_changes())
            # The form says at once that Tradier can't change the size; a size change sent anyway is refused
            # before any confirmation, and nothing reaches the broker.
            dialog = await _open_modify(services, cid)
            quantity = dialog.findChild(QLineEdit, "order_modify.quantity")
            assert not quantity.isEnabled() and quantity.text() == "3"
            assert "Tradier can't change a working order's quantity" in dialog.findChild(QLabel, "order_modify.note").text()
            refused: list[dict] = []
            services.router.change_rejected.connect(refused.append)
            assert not await services.live_change.request_change(cid, {"quantity": "4", "limit_price": "175"})
            assert refused[-1] == {
                "quantity": "Tradier can change a working order's prices but not its quantity; cancel it and place a new order."
            }
            assert not window.findChild(QDialog, "order_change_confirm_dialog").isVisible()
            assert len(rig.order_changes()) == sent_before

            _type(qtbot, dialog.findChild(QLineEdit, "order_modify.limit_price"), "177.50")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            confirm = window.findChild(QDialog, "order_change_confirm_dialog")
            await until(confirm.isVisible, timeout=15, message="no confirmation of the change")
            summary = confirm.findChild(QLabel, "order_change_confirm.summary").text()
            assert "Limit price: 175.00 → 177.50" in summary and "Quantity" not in summary
            assert "in place" in summary
            qtbot.mouseClick(confirm.findChild(QPushButton, "order_change_confirm.submit"), Qt.MouseButton.LeftButton)
            changed = await _until_changed(services, cid, Decimal("177.50"))
            assert changed.broker_order_id == before.broker_order_id
            assert _replaces(rig) == [f"PUT /v1/accounts/{_account_path(rig)}/orders/{before.broker_order_id}"]
            (view,) = [v for v in rig.fake.order_views() if v.broker_order_id == before.broker_order_id]
            assert view.limit_price == Decimal("177.50") and view.is_open

    qt_loop.run(scenario(), timeout=120)


def test_ibkr_modifies_size_and_price_in_place_under_the_same_order_id(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "ibkr") as (services, rig):
            window = services.window
            cid = await _live_order(qtbot, services, rig)
            before = await journal(services, cid)
            placed = [c for c in rig.order_changes() if c.method == "placeOrder"]
            dialog = await _open_modify(services, cid)
            _type(qtbot, dialog.findChild(QLineEdit, "order_modify.quantity"), "4")
            _type(qtbot, dialog.findChild(QLineEdit, "order_modify.limit_price"), "177.50")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            confirm = window.findChild(QDialog, "order_change_confirm_dialog")
            await until(confirm.isVisible, timeout=15, message="no confirmation of the change")
            summary = confirm.findChild(QLabel, "order_change_confirm.summary").text()
            assert "Quantity: 3 → 4" in summary and "Limit price: 175.00 → 177.50" in summary
            qtbot.mouseClick(confirm.findChild(QPushButton, "order_change_confirm.submit"), Qt.MouseButton.LeftButton)
            changed = await _until_changed(services, cid, Decimal("177.50"))
            assert changed.request.quantity == Decimal(4)
            assert changed.broker_order_id == before.broker_order_id
            assert len([c for c in rig.order_changes() if c.method == "placeOrder"]) == len(placed) + 1
            (view,) = [v for v in rig.fake.order_views() if v.client_order_id == cid]
            assert (view.quantity, view.limit_price, view.is_open) == (Decimal(4), Decimal("177.50"), True)
            # The follower's next reads agree with TWS (its reports carry the size and prices now).
            reported = await services.live.follower.session.broker.get_order(cid)
            assert (reported.quantity, reported.limit_price) == (Decimal(4), Decimal("177.5"))
            await asyncio.sleep(0.5)
            again = await journal(services, cid)
            assert (again.request.quantity, again.request.limit_price) == (Decimal(4), Decimal("177.50"))

    qt_loop.run(scenario(), timeout=120)


def test_a_change_without_an_answer_stays_unknown_until_the_broker_shows_it_and_is_never_resent(
    qtbot, qt_loop, app_paths, feed, clock
) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            window = services.window
            cid = await _live_order(qtbot, services, rig)
            before = await journal(services, cid)
            unknown: list[str] = []
            services.live.follower.orders_upserted.connect(
                lambda orders: unknown.extend(o.status_reason for o in orders if o.status is OrderStatus.UNKNOWN)
            )
            rig.fake.drop_next_order_response("replace")
            dialog = await _open_modify(services, cid)
            _type(qtbot, dialog.findChild(QLineEdit, "order_modify.limit_price"), "174.00")
            qtbot.mouseClick(dialog.findChild(QPushButton, "order_modify.submit"), Qt.MouseButton.LeftButton)
            confirm = window.findChild(QDialog, "order_change_confirm_dialog")
            await until(confirm.isVisible, timeout=15, message="no confirmation of the change")
            qtbot.mouseClick(confirm.findChild(QPushButton, "order_change_confirm.submit"), Qt.MouseButton.LeftButton)
            await until(lambda: CHANGE_CHECKING_REASON in unknown, timeout=20, message="the change never became unknown")
            assert "will not be sent again" in window.orders_pane.message.text()

            resolved = await until_status(services, cid, "new", timeout=30)
            assert resolved.request.limit_price == Decimal("174.00")
            assert resolved.broker_order_id != before.broker_order_id
            assert len(_replaces(rig)) == 1, _replaces(rig)

    qt_loop.run(scenario(), timeout=120)


def _account_path(rig: BrokerRig) -> str:
    (account,) = {c.path.split("/")[3] for c in rig.order_changes() if c.path.startswith("/v1/accounts/")}
    return account
