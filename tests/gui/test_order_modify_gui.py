"""Modify a working paper order from the orders table's menu: prefilled dialog, errors by field, history, restart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QTableView

from app.ui.orders_menus import order_menu
from tests.conftest import QtLoop, until
from tests.gui.desktop_support import start, stop, texts


def _menu_action(menu, name: str):
    found = [a for a in menu.actions() if a.objectName() == name]
    assert found, f"{name} not in {[a.objectName() for a in menu.actions()]}"
    return found[0]


def _type(qtbot, field: QLineEdit, value: str) -> None:
    field.clear()
    qtbot.keyClicks(field, value)


def _row_of(table: QTableView, order_id: str) -> int:
    row = table.model().row_of_key(order_id)
    assert row is not None
    return row


def test_modify_from_the_menu_changes_the_paper_order_in_place(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        pane = window.orders_pane
        order_id = await services.paper.submit(
            {"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "limit", "limit_price": "180.00"}
        )
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: orders.model().rowCount() == 1)
        power_before = services.paper.engine.buying_power

        modify = _menu_action(order_menu(pane, 0), "orders.menu.modify")
        assert modify.isEnabled() and modify.text() == "Modify…"
        modify.trigger()
        dialog = window.findChild(QDialog, "order_modify.dialog")
        await until(lambda: dialog.isVisible())
        quantity = dialog.findChild(QLineEdit, "order_modify.quantity")
        limit = dialog.findChild(QLineEdit, "order_modify.limit_price")
        stop_price = dialog.findChild(QLineEdit, "order_modify.stop_price")
        submit = dialog.findChild(QPushButton, "order_modify.submit")
        assert (quantity.text(), limit.text()) == ("10", "180.00")
        assert not stop_price.isEnabled()
        assert "Buy 10 AAPL" in dialog.findChild(QLabel, "order_modify.heading").text()

        # Bad input: said next to its field, the dialog stays, the order is untouched.
        _type(qtbot, quantity, "ten")
        _type(qtbot, limit, "180.001")
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        quantity_error = dialog.findChild(QLabel, "order_modify.quantity_error")
        await until(lambda: quantity_error.isVisible(), message="no error for a bad quantity")
        assert quantity_error.text() == "'ten' is not a number: type digits 0-9, e.g. 100 or 12.50."
        assert "not a valid price" in dialog.findChild(QLabel, "order_modify.limit_price_error").text()
        assert dialog.isVisible() and submit.isEnabled()
        order = services.paper.engine.orders[order_id]
        assert (order.request.quantity, order.request.limit_price) == (Decimal(10), Decimal("180.00"))

        # Past a pre-trade limit: a change passes the same risk checks as a new order.
        _type(qtbot, quantity, "100000")
        _type(qtbot, limit, "180.00")
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        general = dialog.findChild(QLabel, "order_modify.error")
        await until(lambda: general.isVisible())
        assert general.text() == "Quantity 100,000 shares exceeds your 5,000 per-order limit."
        assert services.paper.engine.buying_power == power_before

        _type(qtbot, quantity, "20")
        _type(qtbot, limit, "185.00")
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        await until(lambda: not dialog.isVisible(), message="the dialog did not close after the change")
        row = _row_of(orders, order_id)
        assert orders.model().text(row, "qty") == "20"
        assert orders.model().text(row, "limit") == "185.00"
        assert orders.model().rowCount() == 1
        assert window.findChild(QLabel, "orders.message").text() == (
            f"Order {order_id} changed: qty 10 → 20, limit 180.00 → 185.00."
        )
        assert services.paper.engine.buying_power == power_before - Decimal("1900.00")

        window.orders_pane.details_requested.emit(order_id)
        await until(lambda: window.findChild(QDialog, "order_details") is not None
                    and window.findChild(QDialog, "order_details").isVisible())
        details = window.findChild(QDialog, "order_details")
        history = details.findChild(QTableView, "order_details.history")
        await until(lambda: history.model().rowCount() == 2)
        assert texts(history, "change") == ["Placed", "Modified: qty 10 → 20, limit 180.00 → 185.00"]
        details.close()

        # A limit moved through the market fills; a filled order can't be modified.
        clock.now += timedelta(minutes=1)
        modify = _menu_action(order_menu(pane, _row_of(orders, order_id)), "orders.menu.modify")
        modify.trigger()
        await until(lambda: dialog.isVisible())
        _type(qtbot, limit, "190.00")
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        await until(lambda: texts(orders, "status") == ["Filled"], message="the crossing change did not fill")
        assert not dialog.isVisible()
        assert not _menu_action(order_menu(pane, 0), "orders.menu.modify").isEnabled()
        assert services.paper.engine.positions["AAPL"].quantity == Decimal(20)
        await stop(services)

    qt_loop.run(scenario())


def test_a_modified_order_comes_back_changed_with_its_queue_place_after_a_restart(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def first_run() -> str:
        services = await start(qtbot, app_paths, feed, clock)
        order_id = await services.paper.submit(
            {"symbol": "MSFT", "side": "buy", "quantity": "8", "order_type": "stop_limit", "limit_price": "420.00",
             "stop_price": "415.00", "time_in_force": "gtc"}
        )
        clock.now += timedelta(minutes=3)
        assert await services.paper.change(order_id, {"quantity": "6", "limit_price": "420.00", "stop_price": "416.50"})
        assert services.paper.engine.orders[order_id].queued_at == clock.now
        assert not await services.paper.change(order_id, {"quantity": "6", "limit_price": "420", "stop_price": "416.5"})
        await stop(services)
        return order_id

    order_id = qt_loop.run(first_run())

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        order = services.paper.engine.orders[order_id]
        assert (order.request.quantity, order.request.stop_price) == (Decimal(6), Decimal("416.50"))
        # Its place in the queue is the change's, not the placement's.
        assert order.queue_time == clock.now and order.created_at == clock.now - timedelta(minutes=3)
        orders = services.window.findChild(QTableView, "orders.table")
        await until(lambda: orders.model().rowCount() == 1)
        assert texts(orders, "qty") == ["6"]
        await stop(services)

    qt_loop.run(second_run())
