"""The result line follows the order it announced; the kill switch is in the Trading menu and a halt is notified."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from tests.conftest import QtLoop, until
from tests.gui.desktop_support import action, start, stop


def test_placed_message_updates_when_the_order_fills_or_is_canceled(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        message = window.findChild(QLabel, "orders.message")
        resting = await services.paper.submit(
            {"symbol": "MSFT", "side": "buy", "quantity": "2", "order_type": "limit", "limit_price": "405.00"}
        )
        assert message.text() == f"Order {resting} placed."
        await services.paper.cancel(resting)
        await until(lambda: message.text() == f"Order {resting} canceled.", message=message.text())

        filled = await services.paper.submit({"symbol": "MSFT", "side": "buy", "quantity": "3", "order_type": "market"})
        await until(lambda: message.text() == f"Order {filled} filled: 3 of 3 @ 410.30.", message=message.text())
        await stop(services)

    qt_loop.run(scenario())


def test_kill_switch_is_in_the_trading_menu_and_a_halt_is_notified(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        assert action(window, "kill_switch") is window.safety.kill_action
        assert action(window, "menu.trading.cancel_all").isEnabled()
        shown: list[tuple[str, str, bool]] = []
        window.notifier.show = lambda title, text, warning: shown.append((title, text, warning))
        services.risk.halted_changed.emit(True, "kill switch")
        assert shown == [("Trading halted", "New orders are refused: kill switch.", True)]
        services.risk.halted_changed.emit(False, "")
        assert len(shown) == 1
        await stop(services)

    qt_loop.run(scenario())
