"""The price chart through the real window: keyless Cboe bars, the trader's fills and working orders, the cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QTableView

from app.main import AppServices, start_app
from app.marketdata.cboe_bars import CboeDelayedBars
from tests.conftest import QtLoop, until
from tests.fakes.cboe import FIXTURES, FakeCboe
from tests.gui.conftest import FixedClock
from tests.gui.market_support import StampedQuotes

# Wednesday 26 June 2024, 10:05 in New York: the day the recorded chart files describe.
CHART_DAY = datetime(2024, 6, 26, 14, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def cboe_charts() -> Iterator[FakeCboe]:
    fake = FakeCboe().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def cdn(cboe_charts: FakeCboe) -> FakeCboe:
    cboe_charts.reset()
    cboe_charts.serve_fixture("/charts/historical/AAPL.json", "charts_historical_AAPL.json")
    cboe_charts.serve_fixture("/charts/intraday/AAPL.json", "charts_intraday_AAPL.json")
    return cboe_charts


@pytest.fixture
def day_clock() -> FixedClock:
    return FixedClock(CHART_DAY)


@pytest.fixture
def priced(day_clock: FixedClock) -> StampedQuotes:
    feed = StampedQuotes()
    feed.set("AAPL", bid="211.50", ask="211.60", last="211.55", at=day_clock.now)
    feed.set("AAPL270115C00200000", bid="20.10", ask="20.40", last="20.25", at=day_clock.now)
    return feed


async def _start(qtbot, app_paths, feed, clock, cdn: FakeCboe) -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05, bars=CboeDelayedBars(base_url=cdn.base_url))
    qtbot.addWidget(services.window)
    services.window.show()
    return services


async def _chart_symbol(qtbot, window, symbol: str) -> None:
    """Add to the watchlist and press Enter on it, as a trader sends a symbol to the chart."""
    line = window.findChild(QLineEdit, "watchlist.symbol_input")
    qtbot.keyClicks(line, symbol)
    qtbot.mouseClick(window.findChild(QPushButton, "watchlist.add"), Qt.MouseButton.LeftButton)
    table = window.findChild(QTableView, "watchlist.table")
    await until(lambda: symbol in table.model().symbols())
    table.setCurrentIndex(table.model().index(table.model().symbols().index(symbol), 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)


async def _order(window, qtbot, **fields: str) -> None:
    submit = window.findChild(QPushButton, "ticket.submit")
    await until(submit.isEnabled, message="the ticket is still placing the previous order")
    for name, value in fields.items():
        combo = window.findChild(QComboBox, f"ticket.{name}")
        if combo is not None:
            combo.setCurrentIndex(combo.findData(value))
            continue
        line = window.findChild(QLineEdit, f"ticket.{name}")
        line.clear()
        qtbot.keyClicks(line, value)
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)


def test_keyless_bars_with_fills_and_working_orders_at_their_prices(qtbot, qt_loop: QtLoop, app_paths, priced, day_clock, cdn):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, priced, day_clock, cdn)
        window = services.window
        pane = window.chart_pane
        await _chart_symbol(qtbot, window, "AAPL")
        title = window.findChild(QLabel, "chart.title")
        await until(lambda: title.text() == "AAPL · 5 min · Cboe delayed charts", message=title.text())
        await until(lambda: pane.candles.arrays is not None and len(pane.candles.arrays) >= 6)
        # 30 one-minute bars from 09:30 make six five-minute bars; quotes at 10:05 open a seventh.
        first_five = json.loads((FIXTURES / "charts_intraday_AAPL.json").read_text())["data"][:5]
        high = max(Decimal(str(row["price"]["high"])) for row in first_five)
        low = min(Decimal(str(row["price"]["low"])) for row in first_five)
        close = Decimal(str(first_five[-1]["price"]["close"]))
        volume = sum(row["volume"]["stock_volume"] for row in first_five)
        opened = datetime(2024, 6, 26, 13, 30, tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")
        assert pane.readout_text(0) == f"AAPL  {opened}  O 211.50  H {high:.2f}  L {low:.2f}  C {close:.2f}  V {volume:,}"
        assert window.findChild(QLabel, "chart.source").isHidden()

        await _order(window, qtbot, symbol="AAPL", side="buy", quantity="10", order_type="market")
        await until(lambda: len(pane.fill_points()) == 1, message="the fill was never drawn")
        await _order(window, qtbot, symbol="AAPL", side="buy", quantity="5", order_type="limit", limit_price="205.00")
        await _order(window, qtbot, symbol="AAPL", side="sell", quantity="10", order_type="stop", stop_price="200.00")
        await until(lambda: len(pane.order_prices()) == 2, message=str(pane.order_prices()))
        assert sorted(pane.order_prices()) == [("limit", Decimal("205.00")), ("stop", Decimal("200.00"))]
        (x, price), = pane.fill_points()
        assert price == Decimal("211.60")
        starts = pane.axis.starts
        fill_time = CHART_DAY.timestamp()
        assert starts[int(x)] <= fill_time and (int(x) == len(starts) - 1 or fill_time < starts[int(x) + 1])
        assert [line.value() for line in pane.order_lines] == [205.0, 200.0]

        window.findChild(QComboBox, "chart.interval").setCurrentIndex(3)
        await until(lambda: title.text() == "AAPL · 1 day · Cboe delayed charts")
        await until(lambda: pane.candles.arrays is not None and len(pane.candles.arrays) >= 30)
        # Today's daily bar is the recorded one, closed at the latest quote once the next poll lands.
        await until(
            lambda: pane.readout_text(29).endswith("O 211.50  H 214.86  L 210.64  C 211.55  V 66,213,186"),
            message=pane.readout_text(29),
        )
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())


def test_saved_bars_come_back_when_the_source_fails_and_options_are_built_from_quotes(qtbot, qt_loop: QtLoop, app_paths, priced, day_clock, cdn):
    async def scenario() -> None:
        services = await _start(qtbot, app_paths, priced, day_clock, cdn)
        window = services.window
        window.findChild(QComboBox, "chart.interval").setCurrentIndex(3)
        await _chart_symbol(qtbot, window, "AAPL")
        pane = window.chart_pane
        await until(lambda: pane.candles.arrays is not None and len(pane.candles.arrays) == 30)
        services.window.close()
        await services.shutdown()

        cdn.fail = "error"
        services = await _start(qtbot, app_paths, priced, day_clock, cdn)
        window = services.window
        pane = window.chart_pane
        window.findChild(QComboBox, "chart.interval").setCurrentIndex(3)
        table = window.findChild(QTableView, "watchlist.table")
        await until(lambda: table.model().rowCount() == 1)
        table.setCurrentIndex(table.model().index(0, 0))
        qtbot.keyClick(table, Qt.Key.Key_Return)
        note = window.findChild(QLabel, "chart.source")
        await until(lambda: note.text().startswith("Showing saved bars:"), message=note.text())
        assert "503" in note.text()
        assert len(pane.candles.arrays) == 30
        # The saved daily bars, today's closed at the latest quote once the next poll lands.
        await until(lambda: pane.readout_text(29).endswith("H 214.86  L 210.64  C 211.55  V 66,213,186"), message=pane.readout_text(29))

        await _chart_symbol(qtbot, window, "AAPL270115C00200000")
        await until(lambda: note.text().startswith("Built from the quotes TradeBridge has seen"), message=note.text())
        assert "no charts for options" in note.text()
        title = window.findChild(QLabel, "chart.title")
        assert title.text() == "AAPL 15 Jan 27 200 C · 1 day · quotes seen by TradeBridge"
        await until(lambda: pane.candles.arrays is not None and len(pane.candles.arrays) == 1)
        assert pane.readout_text(0).endswith("O 20.25  H 20.25  L 20.25  C 20.25  V 0")
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())
