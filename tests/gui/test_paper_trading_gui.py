"""The paper-trading journey through the real window: ticket -> fill -> tables -> restart.

Each scenario runs as one coroutine on the qasync loop, as the app does: clicks, async slots and
database writes interleave on the same loop.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QTableView

from app.main import AppServices
from app.storage.schema import OrderRow
from tests.conftest import QtLoop, until
from tests.gui.desktop_support import start, stop, texts


def _fill_ticket(qtbot, window, **fields: str) -> None:
    for name, value in fields.items():
        combo = window.findChild(QComboBox, f"ticket.{name}")
        if combo is not None:
            combo.setCurrentIndex(combo.findData(value))
            continue
        line = window.findChild(QLineEdit, f"ticket.{name}")
        assert line is not None, name
        line.clear()
        qtbot.keyClicks(line, value)


async def _order_count(services: AppServices) -> int:
    """Read through the app's database worker, the only thread that owns SQLite connections."""
    return await services.worker.run(lambda s: s.query(OrderRow).count())


def test_paper_order_fills_and_shows_in_orders_positions_and_account(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        assert window.findChild(QLabel, "mode_badge").text() == "PAPER"

        _fill_ticket(qtbot, window, symbol="aapl", side="buy", quantity="10", order_type="market")
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)

        orders = window.findChild(QTableView, "orders.table")
        positions = window.findChild(QTableView, "positions.table")
        await until(lambda: texts(orders, "status") == ["Filled"], message="order did not fill")
        assert texts(orders, "symbol") == ["AAPL"]
        assert texts(orders, "avg_price") == ["189.60"]
        await until(lambda: texts(positions, "symbol") == ["AAPL"])
        assert texts(positions, "qty") == ["10"]
        assert texts(positions, "avg_cost") == ["189.60"]
        assert window.findChild(QLabel, "account.cash").text() == "$98,104.00"
        assert window.findChild(QLineEdit, "ticket.symbol").text() == ""
        assert services.paper.engine.cash == Decimal("98104.00")
        await stop(services)

    qt_loop.run(scenario())


def test_invalid_ticket_shows_errors_and_creates_no_order(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        _fill_ticket(qtbot, window, symbol="NOT A SYMBOL!", quantity="-5", order_type="limit", limit_price="abc")
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
        await until(lambda: window.findChild(QLabel, "ticket.error.symbol").isVisible())

        for field in ("symbol", "quantity", "limit_price"):
            assert window.findChild(QLabel, f"ticket.error.{field}").text(), field
        assert window.findChild(QTableView, "orders.table").model().rowCount() == 0
        assert await _order_count(services) == 0
        assert services.paper.engine.orders == {}
        await stop(services)

    qt_loop.run(scenario())


def test_controller_refuses_bad_input_even_if_the_view_lets_it_through(qtbot, qt_loop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        rejected: list[dict] = []
        services.paper.ticket_rejected.connect(rejected.append)
        result = await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "0", "order_type": "market"})
        assert result is None
        assert "quantity" in rejected[0]
        assert await _order_count(services) == 0
        await stop(services)

    qt_loop.run(scenario())


def test_an_unknown_symbol_is_refused_at_entry_and_nothing_is_booked(qtbot, qt_loop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        _fill_ticket(qtbot, window, symbol="ZZZZZZ", side="buy", quantity="1", order_type="market")
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
        error = window.findChild(QLabel, "ticket.error.symbol")
        await until(lambda: error.isVisible(), message="the unknown symbol was not refused")
        assert "ZZZZZZ is not a symbol test feed knows" in error.text()
        assert services.paper.engine.orders == {}
        assert await _order_count(services) == 0
        assert services.paper.engine.cash == Decimal("100000")
        await stop(services)

    qt_loop.run(scenario())


def test_restart_on_the_same_data_dir_shows_the_same_state(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")
    before: dict[str, object] = {}

    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "5", "order_type": "market"})
        before["resting"] = await services.paper.submit(
            {"symbol": "MSFT", "side": "buy", "quantity": "2", "order_type": "limit", "limit_price": "400.00",
             "time_in_force": "gtc"}
        )
        before["statuses"] = texts(services.window.findChild(QTableView, "orders.table"), "status")
        before["cash"] = services.window.findChild(QLabel, "account.cash").text()
        await stop(services)

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        orders = window.findChild(QTableView, "orders.table")
        assert sorted(texts(orders, "status")) == sorted(before["statuses"]) == ["Filled", "New"]
        assert window.findChild(QLabel, "account.cash").text() == before["cash"]
        assert texts(window.findChild(QTableView, "positions.table"), "qty") == ["5"]

        # The resting order keeps working after the restart: the market comes down to its limit.
        resting = str(before["resting"])
        feed.set("MSFT", bid="399.80", ask="399.90", last="399.85")
        await until(lambda: texts(orders, "status") == ["Filled", "Filled"])
        assert "399.90" in texts(orders, "avg_price")
        # A filled order is released by the engine; the journal keeps it.
        assert resting not in services.paper.engine.orders
        await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())


def test_cancel_selected_order(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        await services.paper.submit(
            {"symbol": "MSFT", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "400.00"}
        )
        orders = window.findChild(QTableView, "orders.table")
        orders.selectRow(0)
        cancel = window.findChild(QPushButton, "orders.cancel")
        assert cancel.isEnabled()
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
        await until(lambda: texts(orders, "status") == ["Canceled"])
        assert not cancel.isEnabled()
        await stop(services)

    qt_loop.run(scenario())


def test_rejected_order_says_why_and_keeps_the_ticket(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        _fill_ticket(qtbot, window, symbol="AAPL", side="sell", quantity="5", order_type="market")
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
        message = window.findChild(QLabel, "orders.message")
        await until(lambda: message.text().startswith("Order rejected"), message=message.text())
        assert "short" in message.text()
        assert window.findChild(QLineEdit, "ticket.quantity").text() == "5"
        orders = window.findChild(QTableView, "orders.table")
        assert texts(orders, "status") == ["Rejected"]
        assert services.paper.engine.cash == Decimal("100000")
        await stop(services)

    qt_loop.run(scenario())


def test_double_click_places_one_order(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        _fill_ticket(qtbot, window, symbol="AAPL", side="buy", quantity="1", order_type="market")
        submit = window.findChild(QPushButton, "ticket.submit")
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        assert not submit.isEnabled()
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        await until(lambda: submit.isEnabled())
        assert services.paper.engine.positions["AAPL"].quantity == Decimal(1)
        assert await _order_count(services) == 1
        await stop(services)

    qt_loop.run(scenario())


def test_the_qt_thread_never_touches_the_database(qtbot, qt_loop, app_paths, feed, clock) -> None:
    import threading

    from sqlalchemy import event

    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    threads: set[str] = set()
    written: set[str] = set()

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        event.listen(services.worker.database.engine, "checkout", lambda *_: threads.add(threading.current_thread().name))
        # The journal's writes run on a connection of their own: SQLite's trace names the thread of each statement.
        writes = services.worker.database.writes
        await services.worker.call(
            lambda: writes.connection().set_trace_callback(lambda _sql: written.add(threading.current_thread().name))
        )
        window = services.window
        _fill_ticket(qtbot, window, symbol="AAPL", side="buy", quantity="2", order_type="limit", limit_price="175")
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: orders.model().rowCount() == 1)
        orders.selectRow(0)
        qtbot.mouseClick(window.findChild(QPushButton, "orders.cancel"), Qt.MouseButton.LeftButton)
        await until(lambda: texts(orders, "status") == ["Canceled"])
        await asyncio.sleep(0.2)  # a few quote/clock cycles of the poller
        await stop(services)

    qt_loop.run(scenario())
    assert threads, "no database work was observed"
    assert written, "no journal write was observed"
    assert all(name.startswith("tradebridge-db") for name in threads | written), threads | written
