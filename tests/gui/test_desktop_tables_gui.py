"""Fills, positions and orders tables: fills as they are booked, sort by value, CSV export, right-click menus."""

from __future__ import annotations

import csv
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QDockWidget, QLineEdit, QPushButton, QScrollArea, QTableView

from tests.conftest import QtLoop, until
from tests.gui.desktop_support import start, stop, texts


def _menu_action(menu, name: str):
    found = [a for a in menu.actions() if a.objectName() == name]
    assert found, f"{name} not in {[a.objectName() for a in menu.actions()]}"
    return found[0]


def _read_csv(path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_fills_table_shows_each_execution_and_comes_back_after_restart(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        fills = window.findChild(QTableView, "fills.table")
        assert window.findChild(QDockWidget, "dock.fills") is not None
        order_id = await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"})
        await until(lambda: fills.model().rowCount() == 1, message="no fill shown")
        assert texts(fills, "symbol") == ["AAPL"]
        assert texts(fills, "side") == ["Buy"]
        assert texts(fills, "qty") == ["10"]
        assert texts(fills, "price") == ["189.60"]
        assert texts(fills, "commission") == ["$0.00"]
        assert texts(fills, "order") == [order_id]
        assert texts(fills, "time")[0].split()[-1].isalpha()  # the time carries its zone
        clock.now += timedelta(minutes=1)
        await services.paper.submit({"symbol": "AAPL", "side": "sell", "quantity": "4", "order_type": "market"})
        await until(lambda: fills.model().rowCount() == 2)
        assert texts(fills, "side") == ["Sell", "Buy"]  # newest first
        await stop(services)

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        fills = services.window.findChild(QTableView, "fills.table")
        assert texts(fills, "qty") == ["4", "10"]
        # A paper reset takes the paper fills away with the orders.
        await services.paper.reset()
        await until(lambda: fills.model().rowCount() == 0, message="fills stayed after a reset")
        await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())


def test_positions_sort_by_value_and_export_what_is_shown(qtbot, qt_loop: QtLoop, app_paths, feed, clock, tmp_path):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    feed.set("F", bid="11.00", ask="11.02", last="11.01")
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")
    target = tmp_path / "positions.csv"

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        for symbol, qty in (("AAPL", "10"), ("F", "1000"), ("MSFT", "1")):
            await services.paper.submit({"symbol": symbol, "side": "buy", "quantity": qty, "order_type": "market"})
        positions = window.findChild(QTableView, "positions.table")
        await until(lambda: positions.model().rowCount() == 3)
        column = positions.model().sourceModel().column_keys().index("market_value")
        positions.sortByColumn(column, Qt.SortOrder.DescendingOrder)
        # By value: $11,010 > $1,895.50 > $410.20 (as text "$410.20" would sort above "$11,010.00").
        assert texts(positions, "symbol") == ["F", "AAPL", "MSFT"]
        positions.sortByColumn(column, Qt.SortOrder.AscendingOrder)
        assert texts(positions, "symbol") == ["MSFT", "AAPL", "F"]

        window.ask_save_path = lambda _title, name: str(target) if name.endswith("positions.csv") else ""
        qtbot.mouseClick(window.findChild(QPushButton, "positions.export"), Qt.MouseButton.LeftButton)
        rows = _read_csv(target)
        assert rows[0][:3] == ["Symbol", "Qty", "Avg cost"]
        assert [r[0] for r in rows[1:]] == ["MSFT", "AAPL", "F"]
        assert rows[3][1] == "1,000"
        await stop(services)

    qt_loop.run(scenario())


def test_orders_and_fills_export_buttons_write_their_tables(qtbot, qt_loop: QtLoop, app_paths, feed, clock, tmp_path):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "3", "order_type": "market"})
        await until(lambda: window.findChild(QTableView, "fills.table").model().rowCount() == 1)
        window.ask_save_path = lambda _title, name: str(tmp_path / name)
        qtbot.mouseClick(window.findChild(QPushButton, "orders.export"), Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.findChild(QPushButton, "fills.export"), Qt.MouseButton.LeftButton)
        orders = _read_csv(tmp_path / "tradebridge-orders.csv")
        fills = _read_csv(tmp_path / "tradebridge-fills.csv")
        assert orders[1][orders[0].index("Status")] == "Filled"
        assert fills[0] == ["Time", "Mode", "Symbol", "Side", "Qty", "Price", "Commission", "Order"]
        assert fills[1][2:7] == ["AAPL", "Buy", "3", "189.60", "$0.00"]
        await stop(services)

    qt_loop.run(scenario())


def test_order_menu_cancels_copies_to_ticket_and_copies_details(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        pane = window.orders_pane
        order_id = await services.paper.submit(
            {"symbol": "MSFT", "side": "buy", "quantity": "7", "order_type": "limit", "limit_price": "400.50",
             "time_in_force": "gtc"}
        )
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: orders.model().rowCount() == 1)

        from app.ui.orders_menus import order_menu

        menu = order_menu(pane, 0)
        assert _menu_action(menu, "orders.menu.cancel").isEnabled()
        _menu_action(menu, "orders.menu.copy_to_ticket").trigger()
        assert window.findChild(QLineEdit, "ticket.symbol").text() == "MSFT"
        assert window.findChild(QLineEdit, "ticket.quantity").text() == "7"
        assert window.findChild(QLineEdit, "ticket.limit_price").text() == "400.50"
        assert window.findChild(QComboBox, "ticket.order_type").currentData() == "limit"
        assert window.findChild(QComboBox, "ticket.tif").currentData() == "gtc"
        assert orders.model().rowCount() == 1  # copying sends nothing

        _menu_action(menu, "orders.menu.copy_details").trigger()
        copied = QGuiApplication.clipboard().text()
        assert copied.startswith("Buy 7 MSFT limit limit 400.50 GTC — New")
        assert order_id in copied

        requested: list[str] = []
        pane.details_requested.connect(requested.append)
        _menu_action(menu, "orders.menu.details").trigger()
        assert requested == [order_id]

        _menu_action(menu, "orders.menu.cancel").trigger()
        await until(lambda: texts(orders, "status") == ["Canceled"], message="cancel from the menu did nothing")
        assert not _menu_action(order_menu(pane, 0), "orders.menu.cancel").isEnabled()
        await stop(services)

    qt_loop.run(scenario())


def test_position_menu_prepares_the_closing_order(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "25", "order_type": "market"})
        positions = window.findChild(QTableView, "positions.table")
        await until(lambda: positions.model().rowCount() == 1)
        from app.ui.orders_menus import position_menu

        menu = position_menu(window.orders_pane, 0)
        _menu_action(menu, "positions.menu.close").trigger()
        assert window.findChild(QLineEdit, "ticket.symbol").text() == "AAPL"
        assert window.findChild(QComboBox, "ticket.side").currentData() == "sell"
        assert window.findChild(QLineEdit, "ticket.quantity").text() == "25"
        assert window.findChild(QComboBox, "ticket.order_type").currentData() == "market"
        _menu_action(menu, "positions.menu.copy_details").trigger()
        assert QGuiApplication.clipboard().text().startswith("AAPL: 25 at 189.60 average cost")
        assert window.findChild(QTableView, "orders.table").model().rowCount() == 1
        await stop(services)

    qt_loop.run(scenario())


def test_double_click_on_an_order_asks_for_its_details(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        order_id = await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market"})
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: orders.model().rowCount() == 1)
        requested: list[str] = []
        window.orders_pane.details_requested.connect(requested.append)
        orders.doubleClicked.emit(orders.model().index(0, 3))
        assert requested == [order_id]
        await stop(services)

    qt_loop.run(scenario())


def test_nothing_in_the_ticket_is_cut_off_at_800_by_600(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        window.resize(800, 600)
        window.orders_pane.ticket.load_values({"symbol": "MSFT", "quantity": "20", "order_type": "limit", "limit_price": "405"})
        await until(lambda: window.findChild(QLineEdit, "ticket.symbol").width() > 0)
        scroll = window.findChild(QScrollArea, "ticket.scroll")
        viewport = scroll.viewport()
        for name in ("ticket.symbol", "ticket.quantity", "ticket.limit_price", "ticket.submit"):
            widget = window.findChild(QLineEdit, name) or window.findChild(QPushButton, name)
            right = widget.mapTo(viewport, widget.rect().topRight()).x()
            assert right <= viewport.width(), f"{name} is cut off ({right} > {viewport.width()})"
        await stop(services)

    qt_loop.run(scenario())
