"""Order details with full history, settings errors by their fields, Display settings and notifications."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QLabel, QLineEdit, QPushButton, QTableView

from tests.conftest import QtLoop, until
from tests.gui.desktop_support import action, start, stop, texts


def _type(qtbot, field: QLineEdit, value: str) -> None:
    field.clear()
    qtbot.keyClicks(field, value)


def test_order_details_show_every_change_and_the_fills(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        order_id = await services.paper.submit(
            {"symbol": "MSFT", "side": "buy", "quantity": "5", "order_type": "limit", "limit_price": "400.00"}
        )
        clock.now += timedelta(minutes=2)
        feed.set("MSFT", bid="399.70", ask="399.80", last="399.75")
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: texts(orders, "status") == ["Filled"], message="no fill")

        window.orders_pane.details_requested.emit(order_id)
        await until(lambda: window.findChild(QDialog, "order_details") is not None
                    and window.findChild(QDialog, "order_details").isVisible())
        dialog = window.findChild(QDialog, "order_details")
        assert dialog.findChild(QLabel, "order_details.status").text() == "Filled"
        assert dialog.findChild(QLabel, "order_details.order_id").text() == order_id
        assert dialog.findChild(QLabel, "order_details.filled").text() == "5 of 5 @ 399.80"
        history = dialog.findChild(QTableView, "order_details.history")
        assert texts(history, "change") == ["Placed", "Filled 5 of 5 @ 399.80"]
        assert texts(history, "status") == ["New", "Filled"]
        assert texts(history, "time")[1] != texts(history, "time")[0]
        fills = dialog.findChild(QTableView, "order_details.fills")
        assert texts(fills, "price") == ["399.80"] and texts(fills, "qty") == ["5"]
        assert not dialog.isModal()
        dialog.close()
        await stop(services)

    qt_loop.run(scenario())


def test_settings_errors_appear_by_their_fields_all_at_once(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        pane = window.settings_pane
        _type(qtbot, pane.findChild(QLineEdit, "settings.paper.slippage_bps"), "-5")
        _type(qtbot, pane.findChild(QLineEdit, "settings.paper.commission_per_share"), "lots")
        _type(qtbot, pane.findChild(QLineEdit, "settings.paper.starting_cash"), "0")
        qtbot.mouseClick(pane.findChild(QPushButton, "settings.paper.save"), Qt.MouseButton.LeftButton)
        slippage = pane.findChild(QLabel, "settings.paper.error.slippage_bps")
        await until(lambda: slippage.text() != "")
        assert slippage.text() == "Can't be negative."
        assert pane.findChild(QLabel, "settings.paper.error.commission_per_share").text() == "“lots” is not a number."
        assert pane.findChild(QLabel, "settings.paper.error.starting_cash").text() == "Start with more than $0."
        assert pane.findChild(QLabel, "settings.paper.error.commission_per_order").isHidden()
        assert "not saved" in pane.findChild(QLabel, "settings.message").text()
        shown = [pane.findChild(QLabel, "settings.message").text(), window.findChild(QLabel, "orders.message").text(),
                 window.findChild(QLabel, "status.message").text(), slippage.text()]
        assert not any("PaperSettings" in text or "slippage_bps" in text for text in shown)
        assert window.findChild(QLabel, "orders.message").text() == ""
        assert services.paper.engine.settings.slippage_bps == Decimal(0)

        for name, value in (("slippage_bps", "5"), ("commission_per_share", "0.005"), ("starting_cash", "50000")):
            _type(qtbot, pane.findChild(QLineEdit, f"settings.paper.{name}"), value)
        qtbot.mouseClick(pane.findChild(QPushButton, "settings.paper.save"), Qt.MouseButton.LeftButton)
        await until(lambda: services.paper.engine.settings.slippage_bps == Decimal(5))
        assert slippage.isHidden()
        assert pane.findChild(QLabel, "settings.message").text() == "Paper settings saved."
        await stop(services)

    qt_loop.run(scenario())


def test_display_settings_pick_the_time_zone_and_are_remembered(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market"})
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: orders.model().rowCount() == 1)
        zone = window.findChild(QComboBox, "settings.display.time_zone")
        zone.setCurrentIndex(zone.findData("exchange"))
        zone.activated.emit(zone.currentIndex())
        await until(lambda: services.desktop.preferences.time_zone == "exchange")
        # SESSION_NOW is 15:30 UTC = 10:30 in New York.
        assert texts(orders, "created") == ["2026-11-24 10:30:00 ET"]
        fills = window.findChild(QTableView, "fills.table")
        await until(lambda: fills.model().rowCount() == 1)
        assert texts(fills, "time") == ["2026-11-24 10:30:00 ET"]
        await stop(services)

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        assert window.findChild(QComboBox, "settings.display.time_zone").currentData() == "exchange"
        assert texts(window.findChild(QTableView, "orders.table"), "created") == ["2026-11-24 10:30:00 ET"]
        zone = window.findChild(QComboBox, "settings.display.time_zone")
        zone.setCurrentIndex(zone.findData("local"))
        zone.activated.emit(zone.currentIndex())
        await until(lambda: services.desktop.preferences.time_zone == "local")
        assert not texts(window.findChild(QTableView, "orders.table"), "created")[0].endswith(" ET")
        await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())


def test_notifications_on_fill_and_rejection_and_the_switch_to_turn_them_off(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        shown: list[tuple[str, str, bool]] = []
        window.notifier.show = lambda title, text, warning: shown.append((title, text, warning))
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"})
        await until(lambda: len(shown) == 1, message="no notification for the fill")
        assert shown[0] == ("Order filled", "Buy 10 AAPL @ 189.60", False)
        await services.paper.submit({"symbol": "AAPL", "side": "sell", "quantity": "50", "order_type": "market"})
        await until(lambda: len(shown) == 2, message="no notification for the rejection")
        assert shown[1][0] == "Order rejected" and shown[1][2] is True
        services.connections.disconnected.emit("Disconnected from Alpaca.")
        assert shown[2] == ("Broker disconnected", "Disconnected from Alpaca.", True)

        switch = window.findChild(QCheckBox, "settings.display.notifications")
        assert switch.isChecked()
        qtbot.mouseClick(switch, Qt.MouseButton.LeftButton)
        await until(lambda: services.desktop.preferences.notifications is False)
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market"})
        await until(lambda: window.findChild(QTableView, "orders.table").model().rowCount() == 3)
        assert len(shown) == 3
        await stop(services)

    qt_loop.run(scenario())


def test_trading_menu_cancel_all_asks_then_cancels(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        for limit in ("405", "406"):
            await services.paper.submit(
                {"symbol": "MSFT", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": limit}
            )
        asked: list[str] = []
        window.orders_pane.confirm = lambda title, text: asked.append(text) or True
        action(window, "menu.trading.cancel_all").trigger()
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: texts(orders, "status") == ["Canceled", "Canceled"], message="cancel all did nothing")
        assert asked and "paper orders" in asked[0]
        await stop(services)

    qt_loop.run(scenario())
