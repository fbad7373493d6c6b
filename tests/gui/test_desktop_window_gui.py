"""The window behaves like a desktop app: menus with shortcuts, keyboard on the ticket, panes, status bar."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QLineEdit, QTableView, QTabWidget

from tests.conftest import QtLoop, until
from tests.gui.desktop_support import action, fill_ticket, start, stop, texts


def test_menus_list_every_command_with_its_shortcut(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
        assert titles == ["File", "View", "Trading", "Help"]
        for name in (
            "menu.file.export", "menu.file.open_data_folder", "menu.file.quit",
            "menu.view.orders", "menu.view.mode", "menu.view.settings", "menu.view.audit", "menu.view.reset_layout",
            "menu.view.theme.system", "menu.view.theme.light", "menu.view.theme.dark",
            "menu.trading.paper", "menu.trading.live",
            "menu.help.user_guide", "menu.help.broker_guides", "menu.help.open_log_folder", "menu.help.about",
        ):
            action(window, name)
        assert action(window, "menu.view.orders").shortcut() == QKeySequence("Ctrl+1")
        assert action(window, "menu.view.mode").shortcut() == QKeySequence("Ctrl+2")
        assert action(window, "menu.view.settings").shortcut() == QKeySequence("Ctrl+3")
        assert action(window, "menu.view.audit").shortcut() == QKeySequence("Ctrl+4")
        # The menu shows each shortcut beside its command.
        assert action(window, "menu.view.audit").shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert action(window, "menu.file.export").shortcut() == QKeySequence("Ctrl+E")
        assert not action(window, "menu.file.quit").shortcut().isEmpty()
        # Paper is the mode in force; live stays disabled until a broker connection is verified.
        assert action(window, "menu.trading.paper").isChecked()
        window.menus.trading.aboutToShow.emit()
        assert not action(window, "menu.trading.live").isEnabled()
        await stop(services)

    qt_loop.run(scenario())


def test_ctrl_number_switches_panes(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        window.activateWindow()
        await until(window.isActiveWindow, message="the window never became active")
        tabs = window.findChild(QTabWidget, "main.tabs")
        qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
        assert tabs.currentWidget() is window.audit_pane
        qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
        assert tabs.currentIndex() == 2
        qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
        assert tabs.currentIndex() == 1
        qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        assert tabs.currentIndex() == 0
        await stop(services)

    qt_loop.run(scenario())


def test_enter_in_the_limit_price_places_and_escape_clears(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        fill_ticket(qtbot, window, symbol="MSFT", side="buy", quantity="3", order_type="limit", limit_price="400")
        qtbot.keyClick(window.findChild(QLineEdit, "ticket.limit_price"), Qt.Key.Key_Return)
        orders = window.findChild(QTableView, "orders.table")
        await until(lambda: texts(orders, "status") == ["New"], message="Enter in the limit price placed nothing")
        assert texts(orders, "limit") == ["400.00"]
        assert window.findChild(QLineEdit, "ticket.limit_price").text() == ""

        fill_ticket(qtbot, window, symbol="MSFT", quantity="abc")
        assert window.findChild(QLabel, "ticket.error.quantity").isVisibleTo(window)
        qtbot.keyClick(window.findChild(QLineEdit, "ticket.quantity"), Qt.Key.Key_Escape)
        assert window.findChild(QLineEdit, "ticket.symbol").text() == ""
        assert window.findChild(QLineEdit, "ticket.quantity").text() == ""
        assert not window.findChild(QLabel, "ticket.error.quantity").isVisibleTo(window)
        # Enter from a list (the side) places as well; an empty ticket only shows what is missing.
        qtbot.keyClick(window.findChild(QLineEdit, "ticket.symbol"), Qt.Key.Key_Return)
        assert window.findChild(QLabel, "ticket.error.symbol").isVisibleTo(window)
        assert len(services.paper.engine.orders) == 1
        await stop(services)

    qt_loop.run(scenario())


def test_panes_are_docks_and_the_layout_and_size_come_back(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        docks = {d.objectName() for d in window.orders_pane.findChildren(QDockWidget)}
        assert {"dock.ticket", "dock.orders", "dock.positions"} <= docks
        window.findChild(QDockWidget, "dock.positions").hide()
        # Within the offscreen screen (800x600), which a restored geometry is fitted to.
        window.resize(800, 580)
        window.findChild(QTabWidget, "main.tabs").setCurrentIndex(2)
        await stop(services)

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        assert (window.size().width(), window.size().height()) == (800, 580)
        assert window.findChild(QDockWidget, "dock.positions").isHidden()
        assert window.findChild(QTabWidget, "main.tabs").currentIndex() == 2
        action(window, "menu.view.reset_layout").trigger()
        assert not window.findChild(QDockWidget, "dock.positions").isHidden()
        await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())


def test_status_bar_fields_stand_apart_and_the_clock_is_in_et(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        window.resize(800, 600)
        market = window.findChild(QLabel, "status.market_clock")
        await until(lambda: market.text() != "")
        assert market.text() == "Market open · closes 16:00 ET (in 5h 30m)"
        window.show_error("A very long message " * 20)
        window.show_quotes_status("Quotes: test feed, updated 10:29:00 EST")
        await until(lambda: window.findChild(QLabel, "status.message").isVisible())
        assert not market.is_elided()
        assert not window.findChild(QLabel, "status.quotes").is_elided()
        assert window.findChild(QLabel, "status.message").toolTip().startswith("A very long message")
        await stop(services)

    qt_loop.run(scenario())


def test_help_and_file_commands_open_the_right_places(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        opened: list[QUrl] = []
        shown: list[tuple[str, str]] = []
        window.open_url = opened.append
        window.inform = lambda title, text: shown.append((title, text))
        action(window, "menu.file.open_data_folder").trigger()
        action(window, "menu.help.open_log_folder").trigger()
        action(window, "menu.help.broker_guides").trigger()
        action(window, "menu.help.user_guide").trigger()
        assert [Path(u.toLocalFile()) for u in opened] == [
            app_paths.data_dir,
            app_paths.logs,
            window.docs_dir / "brokers" / "README.md",
            window.docs_dir / "user-guide.md",
        ]
        action(window, "menu.help.about").trigger()
        from app import __version__

        title, text = shown[0]
        assert title == "About TradeBridge"
        assert f"TradeBridge {__version__}" in text and str(app_paths.data_dir) in text
        await stop(services)

    qt_loop.run(scenario())


def test_export_writes_the_orders_as_shown(qtbot, qt_loop: QtLoop, app_paths, feed, clock, tmp_path) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")
    target = tmp_path / "orders.csv"

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        for limit in ("400", "401"):
            await services.paper.submit(
                {"symbol": "MSFT", "side": "buy", "quantity": "2", "order_type": "limit", "limit_price": limit}
            )
        window.ask_save_path = lambda _title, _name: str(target)
        action(window, "menu.file.export").trigger()
        with target.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        assert {"Time", "Mode", "Symbol", "Side", "Limit"} <= set(rows[0])
        orders = window.findChild(QTableView, "orders.table")
        assert [r[rows[0].index("Limit")] for r in rows[1:]] == texts(orders, "limit")
        assert sorted(texts(orders, "limit")) == ["400.00", "401.00"]
        assert "Exported 2 rows" in window.findChild(QLabel, "status.message").text()
        await stop(services)

    qt_loop.run(scenario())


def test_theme_switches_from_the_view_menu_and_is_remembered(qtbot, qt_loop: QtLoop, app_paths, feed, clock, qapp):
    from PySide6.QtGui import QPalette

    def window_lightness() -> int:
        return qapp.palette().color(QPalette.ColorRole.Window).lightness()

    async def first_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        assert action(window, "menu.view.theme.system").isChecked()
        action(window, "menu.view.theme.dark").trigger()
        await until(lambda: services.desktop.preferences.theme == "dark")
        assert window_lightness() < 128
        assert action(window, "menu.view.theme.dark").isChecked()
        action(window, "menu.view.theme.light").trigger()
        await until(lambda: window_lightness() > 128, message="light theme not applied")
        action(window, "menu.view.theme.dark").trigger()
        await until(lambda: services.desktop.preferences.theme == "dark")
        await stop(services)
        # Shutting down hands the application back with the system's look.
        assert window.theme.current == "system"

    async def second_run() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        assert services.desktop.preferences.theme == "dark"
        assert window_lightness() < 128
        assert action(services.window, "menu.view.theme.dark").isChecked()
        await stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())
