"""Settings (paper account settings, reset with confirmation) and the Trading Mode pane."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton, QRadioButton

from app.domain.models import TradingMode
from app.main import AppServices, start_app
from tests.conftest import until


async def _start(qtbot, app_paths, feed, clock) -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05)
    qtbot.addWidget(services.window)
    return services


async def _stop(services: AppServices) -> None:
    services.window.close()
    await services.shutdown()


def _type(qtbot, field: QLineEdit, value: str) -> None:
    field.clear()
    qtbot.keyClicks(field, value)


def test_paper_settings_are_saved_and_reloaded(qtbot, qt_loop, app_paths, feed, clock) -> None:
    async def first_run() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        pane = services.window.settings_pane
        assert pane.findChild(QLabel, "settings.broker_status").text() == "No broker connected"
        assert pane.findChild(QLineEdit, "settings.paper.starting_cash").text() == "100000"
        for name, value in (("starting_cash", "25000"), ("slippage_bps", "5"), ("commission_per_order", "1.25")):
            _type(qtbot, pane.findChild(QLineEdit, f"settings.paper.{name}"), value)
        pane.findChild(QCheckBox, "settings.paper.allow_shorting").setChecked(True)
        qtbot.mouseClick(pane.findChild(QPushButton, "settings.paper.save"), Qt.MouseButton.LeftButton)
        await until(lambda: services.paper.engine.settings.allow_shorting)
        assert services.paper.engine.settings.slippage_bps == Decimal(5)
        assert services.paper.engine.settings.commission_per_order == Decimal("1.25")
        assert pane.findChild(QLabel, "settings.message").text() == "Paper settings saved."
        await _stop(services)

    async def second_run() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        pane = services.window.settings_pane
        assert pane.findChild(QLineEdit, "settings.paper.starting_cash").text() == "25000"
        assert pane.findChild(QCheckBox, "settings.paper.allow_shorting").isChecked()
        # Starting cash applies on the next reset, not to the running account.
        assert services.paper.engine.cash == Decimal("100000")
        await _stop(services)

    qt_loop.run(first_run())
    qt_loop.run(second_run())


def test_invalid_settings_are_refused_with_a_message(qtbot, qt_loop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        pane = services.window.settings_pane
        _type(qtbot, pane.findChild(QLineEdit, "settings.paper.slippage_bps"), "lots")
        qtbot.mouseClick(pane.findChild(QPushButton, "settings.paper.save"), Qt.MouseButton.LeftButton)
        message = pane.findChild(QLabel, "settings.message")
        await until(lambda: "not saved" in message.text())
        assert services.paper.engine.settings.slippage_bps == Decimal(0)
        await _stop(services)

    qt_loop.run(scenario())


def test_reset_asks_first_and_only_resets_when_confirmed(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        await services.paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market"})
        pane = services.window.settings_pane
        questions: list[str] = []
        pane.confirm = lambda title, text: questions.append(text) or False
        qtbot.mouseClick(pane.findChild(QPushButton, "settings.paper.reset"), Qt.MouseButton.LeftButton)
        assert "can't be undone" in questions[0]
        assert services.paper.engine.positions["AAPL"].quantity == Decimal(1)

        pane.confirm = lambda title, text: True
        qtbot.mouseClick(pane.findChild(QPushButton, "settings.paper.reset"), Qt.MouseButton.LeftButton)
        await until(lambda: not services.paper.engine.positions)
        assert services.paper.engine.cash == Decimal("100000")
        assert services.window.findChild(QLabel, "account.cash").text() == "$100,000.00"
        await _stop(services)

    qt_loop.run(scenario())


def test_live_mode_is_disabled_with_the_reason_and_badge_stays_paper(qtbot, qt_loop, app_paths, feed, clock) -> None:
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        window = services.window
        assert not window.findChild(QRadioButton, "mode.live").isEnabled()
        assert "Connect your account in Settings" in window.findChild(QLabel, "mode.live_reason").text()
        errors: list[str] = []
        services.mode.error.connect(errors.append)
        services.mode.request_mode(TradingMode.LIVE, True)
        assert services.mode.mode is TradingMode.PAPER
        assert errors and "verified broker connection" in errors[0]
        assert window.findChild(QLabel, "mode_badge").text() == "PAPER"
        await _stop(services)

    qt_loop.run(scenario())
