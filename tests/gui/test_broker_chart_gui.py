"""The chart from a connected broker: Alpaca's bars through the Settings connection and the watchlist, offline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QTableView

from app.main import AppServices, start_app
from tests.conftest import until
from tests.fakes.alpaca import KEY_ID, SECRET_KEY, FakeAlpaca
from tests.gui.conftest import SESSION_NOW


@pytest.fixture
def fake_alpaca() -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca().start()
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    days = [SESSION_NOW.replace(hour=5, minute=0) - timedelta(days=n) for n in (3, 2, 1)]
    fake.bar_rows[("AAPL", "1Day")] = [
        {"t": day.strftime("%Y-%m-%dT%H:%M:%SZ"), "o": 180 + i, "h": 182 + i, "l": 179 + i, "c": 181.5 + i, "v": 1_000_000 * (i + 1), "n": 10, "vw": 181}
        for i, day in enumerate(days)
    ]
    try:
        yield fake
    finally:
        fake.stop()


async def _start(qtbot, app_paths, feed, clock) -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True)
    qtbot.addWidget(services.window)
    services.window.show()
    await until(lambda: services.vault.status.state.value == "ready", message="vault did not open")
    return services


def test_alpaca_bars_on_the_chart_once_connected(qtbot, qt_loop, app_paths, feed, clock, fake_alpaca):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        window = services.window
        box = window.settings_pane.connections
        box.broker_select.setCurrentIndex(box.broker_select.findData("alpaca"))
        box.environment.setCurrentIndex(box.environment.findData("paper"))
        for name, value in (("settings.base_url", fake_alpaca.url), ("settings.field.api_key_id", KEY_ID),
                            ("settings.field.api_secret_key", SECRET_KEY)):
            qtbot.keyClicks(box.findChild(QLineEdit, name), value)
        qtbot.mouseClick(box.findChild(QPushButton, "settings.test_connection"), Qt.MouseButton.LeftButton)
        status = box.findChild(QLabel, "settings.broker_status")
        await until(lambda: status.text().startswith("Connected"), message=status.text())

        window.findChild(QComboBox, "chart.interval").setCurrentIndex(3)
        qtbot.keyClicks(window.findChild(QLineEdit, "watchlist.symbol_input"), "AAPL")
        qtbot.mouseClick(window.findChild(QPushButton, "watchlist.add"), Qt.MouseButton.LeftButton)
        table = window.findChild(QTableView, "watchlist.table")
        await until(lambda: table.model().rowCount() == 1)
        window.watchlist_pane.symbol_chosen.emit("AAPL")  # as a double-click on the row does

        title = window.findChild(QLabel, "chart.title")
        pane = window.chart_pane
        await until(lambda: title.text() == "AAPL · 1 day · Alpaca bars", message="the chart never showed Alpaca's bars")
        await until(lambda: pane.candles.arrays is not None and len(pane.candles.arrays) >= 3)
        assert pane.readout_text(2).endswith("O 182.00  H 184.00  L 181.00  C 183.50  V 3,000,000")
        day = datetime.fromtimestamp(pane.axis.starts[2], UTC)
        assert day == (SESSION_NOW - timedelta(days=1)).replace(hour=5, minute=0)
        asked = [r for r in fake_alpaca.server.requests if r.path == "/v2/stocks/AAPL/bars"]
        assert asked and asked[0].arg("timeframe") == "1Day"
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())
