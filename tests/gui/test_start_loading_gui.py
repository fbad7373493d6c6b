"""The window shown before the app has loaded takes no input and claims no mode; once loaded it trades as usual."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from app.main import start_app
from app.ui.main_window import LOADING_MESSAGE, MainWindow
from tests.conftest import QtLoop, until
from tests.gui.desktop_support import fill_ticket, stop, texts


# QTest says so when the disabled window refuses the key press: that refusal is what the test proves.
@pytest.mark.qt_log_ignore("Keyboard event not accepted by receiving widget")
def test_the_loading_window_takes_no_order_then_the_loaded_one_places_it(
    qtbot, qt_loop: QtLoop, app_paths, feed, clock
) -> None:
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")
    # As the launcher builds it: only what the first frame shows.
    window = MainWindow(defer_hidden=True)
    qtbot.addWidget(window)
    window.show_loading()
    window.show()
    qtbot.waitExposed(window)
    submitted: list[object] = []
    window.orders_pane.order_submitted.connect(submitted.append)
    submit = window.findChild(QPushButton, "ticket.submit")
    badge = window.findChild(QLabel, "mode_badge")

    # Loading: nothing takes input (clicks, keys, menu shortcuts), and the badge says neither paper nor live.
    assert not window.isEnabled() and not submit.isEnabled()
    assert badge.text() == "Opening…"
    assert window.orders_pane.ticket.mode_label.text() == "Order entry opens once your account is loaded."
    assert window.status.message.text() == LOADING_MESSAGE
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    kill = window.findChild(QAction, "kill_switch")
    killed: list[bool] = []
    kill.triggered.connect(lambda *_: killed.append(True))
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert submitted == [] and killed == []
    # The other tabs are there by title, empty until the app has loaded; Live can't be chosen from the menu.
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Orders", "Trading Mode", "Settings", "Audit log"]
    assert window.findChild(QWidget, "settings_pane") is None and window.findChild(QWidget, "mode_pane") is None
    assert "watchlist" not in window.orders_pane.panes
    needs_panes = [window.findChild(QAction, name) for name in ("menu.trading.live", "menu.trading.paper", "menu.view.reset_layout")]
    assert [action.isEnabled() for action in needs_panes] == [False, False, False]
    window.reset_layout()
    window.choose_paper()

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, window=window)
        assert services.window is window
        # Wired and loaded, but input waits for the launcher's word.
        assert not window.isEnabled()
        assert badge.text() == "PAPER"
        # Every tab and dock is built before anything is wired to it, the Orders tab still in front.
        assert [window.tabs.widget(i).objectName() for i in (1, 3)] == ["mode_pane", "audit_pane"]
        assert window.findChild(QWidget, "settings_pane") is not None
        assert {"watchlist", "chart", "equity"} <= set(window.orders_pane.panes)
        assert window.tabs.currentIndex() == 0
        assert window.findChild(QAction, "menu.trading.paper").isEnabled()
        assert window.findChild(QAction, "menu.view.reset_layout").isEnabled()
        assert window.orders_pane.ticket.mode_label.text() == "Paper order: simulated, no money at risk."
        window.show_loaded()
        assert window.isEnabled() and submit.isEnabled()
        assert window.status.message.text() == ""
        fill_ticket(qtbot, window, symbol="MSFT", side="buy", quantity="3", order_type="market")
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
        orders = window.orders_pane.orders_table
        await until(lambda: texts(orders, "status") == ["Filled"], message="the order was not placed and filled")
        assert texts(orders, "symbol") == ["MSFT"]
        assert len(submitted) == 1
        await until(lambda: window.orders_pane.fills.table.model().rowCount() == 1, message="the fill was not booked")
        await stop(services)

    qt_loop.run(scenario())
