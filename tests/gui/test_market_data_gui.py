"""Quotes in the ticket and the watchlist through the real window: click-to-fill, staleness, failures, persistence."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QTableView, QWidget

from tests.conftest import QtLoop, until
from tests.gui.conftest import FixedClock
from tests.gui.desktop_support import start, stop

OPTION = "AAPL270115C00200000"


def _watch_texts(window, column: str) -> list[str]:
    model = window.findChild(QTableView, "watchlist.table").model()
    return [model.text(row, column) for row in range(model.rowCount())]


async def _add(qtbot, window, text: str) -> None:
    line = window.findChild(QLineEdit, "watchlist.symbol_input")
    line.clear()
    qtbot.keyClicks(line, text)
    qtbot.mouseClick(window.findChild(QPushButton, "watchlist.add"), Qt.MouseButton.LeftButton)


def test_ticket_shows_the_quote_and_a_click_on_bid_or_ask_fills_the_limit(qtbot, qt_loop: QtLoop, app_paths, stamped, clock: FixedClock):
    stamped.set("AAPL", bid="189.50", ask="189.60", last="189.55", at=clock.now - timedelta(seconds=5), bid_size="300", ask_size="200")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        qtbot.keyClicks(window.findChild(QLineEdit, "ticket.symbol"), "aapl")
        strip = window.findChild(QWidget, "ticket.quote")
        await until(lambda: "189.50" in strip.text(), message="no quote in the ticket")
        assert strip.text().startswith("Bid 189.50 × 300  Ask 189.60 × 200  Last 189.55")
        detail = window.findChild(QLabel, "ticket.quote.detail").text()
        assert "Test feed, real-time" in detail and "STALE" not in detail

        qtbot.keyClicks(window.findChild(QLineEdit, "ticket.quantity"), "10")
        estimate = window.findChild(QLabel, "ticket.estimate")
        assert estimate.text().startswith("Est. cost $1,896.00 (10 × 189.60 ask)")

        qtbot.mouseClick(window.findChild(QPushButton, "ticket.quote.bid"), Qt.MouseButton.LeftButton)
        assert window.findChild(QComboBox, "ticket.order_type").currentData() == "limit"
        assert window.findChild(QLineEdit, "ticket.limit_price").text() == "189.50"
        assert estimate.text().startswith("Est. cost $1,895.00 (10 × 189.50 limit)")
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.quote.ask"), Qt.MouseButton.LeftButton)
        assert window.findChild(QLineEdit, "ticket.limit_price").text() == "189.60"
        await stop(services)

    qt_loop.run(scenario())


def test_ticket_quote_goes_grey_with_its_age_once_older_than_the_setting(qtbot, qt_loop: QtLoop, app_paths, stamped, clock: FixedClock):
    stamped.set("MSFT", bid="410.00", ask="410.20", last="410.10", at=clock.now - timedelta(seconds=10))

    async def scenario() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        qtbot.keyClicks(window.findChild(QLineEdit, "ticket.symbol"), "MSFT")
        detail = window.findChild(QLabel, "ticket.quote.detail")
        await until(lambda: "Test feed" in detail.text())
        assert "STALE" not in detail.text()
        clock.now += timedelta(seconds=25)  # 35 s old during the session: past the 30 s default
        await until(lambda: "STALE" in detail.text(), message="the quote was never marked stale")
        assert detail.text().startswith("STALE, 35 s old")
        assert "#8a8a8a" in window.findChild(QPushButton, "ticket.quote.bid").styleSheet()
        await stop(services)

    qt_loop.run(scenario())


def test_failing_option_quotes_leave_the_stocks_priced(qtbot, qt_loop: QtLoop, app_paths, stamped, clock: FixedClock):
    now = clock.now
    stamped.set("AAPL", bid="189.50", ask="189.60", last="189.55", at=now, prev_close="187.55", volume="1200300")
    stamped.set("MSFT", bid="410.00", ask="410.20", last="410.10", at=now)
    stamped.set(OPTION, bid="12.10", ask="12.40", last="12.25", at=now)

    async def scenario() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        for text in ("AAPL", "MSFT", OPTION):
            await _add(qtbot, window, text)
            await until(lambda t=text: any(t.startswith(s.split()[0]) for s in _watch_texts(window, "symbol")))
        await until(lambda: _watch_texts(window, "last") == ["189.55", "410.10", "12.25"])
        assert _watch_texts(window, "symbol") == ["AAPL", "MSFT", "AAPL 15 Jan 27 200 C"]
        assert _watch_texts(window, "change") == ["+2.00", "—", "—"]
        assert _watch_texts(window, "change_pct") == ["+1.07%", "—", "—"]
        assert _watch_texts(window, "volume") == ["1,200,300", "—", "—"]
        table = window.findChild(QTableView, "watchlist.table")
        assert table.model().index(2, 0).data(Qt.ItemDataRole.ToolTipRole).startswith(f"OCC {OPTION}")

        stamped.fail_options = True
        stamped.fail_symbols = {"MSFT"}
        stamped.set("AAPL", bid="190.00", ask="190.10", last="190.05", at=now)
        await until(lambda: _watch_texts(window, "last")[0] == "190.05", message="AAPL stopped updating")
        clock.now += timedelta(seconds=40)
        stamped.set("AAPL", bid="190.00", ask="190.10", last="190.05", at=clock.now)
        await until(lambda: "old" in _watch_texts(window, "time")[2], message="failed option not shown stale")
        assert _watch_texts(window, "last") == ["190.05", "410.10", "12.25"]
        times = _watch_texts(window, "time")
        assert "old" not in times[0]
        assert times[1].endswith("(40 s old)") and times[2].endswith("(40 s old)")
        tooltip = table.model().index(2, 1).data(Qt.ItemDataRole.ToolTipRole)
        assert "Option quotes are unavailable right now." in tooltip
        await stop(services)

    qt_loop.run(scenario())


def test_watchlist_refuses_bad_symbols_reorders_and_survives_a_restart(qtbot, qt_loop: QtLoop, app_paths, stamped, clock: FixedClock):
    for symbol, price in (("AAPL", "189.55"), ("MSFT", "410.10"), ("SPY", "601.20")):
        stamped.set(symbol, bid=price, ask=price, last=price, at=clock.now)

    async def scenario() -> None:
        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        message = window.findChild(QLabel, "watchlist.message")
        await _add(qtbot, window, "not a symbol!")
        await until(lambda: "is not a valid symbol" in message.text())
        await _add(qtbot, window, "ZZZZ")
        await until(lambda: "ZZZZ was not added" in message.text(), message=f"{message.text()!r}")
        for text in ("aapl", "msft", "spy"):
            await _add(qtbot, window, text)
        await until(lambda: _watch_texts(window, "symbol") == ["AAPL", "MSFT", "SPY"])
        await _add(qtbot, window, "MSFT")
        await until(lambda: "already in" in message.text())

        table = window.findChild(QTableView, "watchlist.table")
        table.selectRow(2)
        qtbot.mouseClick(window.findChild(QPushButton, "watchlist.up"), Qt.MouseButton.LeftButton)
        await until(lambda: _watch_texts(window, "symbol") == ["AAPL", "SPY", "MSFT"])
        table.selectRow(0)
        qtbot.mouseClick(window.findChild(QPushButton, "watchlist.remove"), Qt.MouseButton.LeftButton)
        await until(lambda: _watch_texts(window, "symbol") == ["SPY", "MSFT"])

        pane = window.findChild(QWidget, "watchlist")
        pane.ask_name = lambda _parent: "Tech"
        qtbot.mouseClick(window.findChild(QPushButton, "watchlist.new_list"), Qt.MouseButton.LeftButton)
        await until(lambda: window.findChild(QComboBox, "watchlist.lists").currentText() == "Tech")
        assert _watch_texts(window, "symbol") == []
        await _add(qtbot, window, "AAPL")
        await until(lambda: _watch_texts(window, "symbol") == ["AAPL"])
        await stop(services)

        services = await start(qtbot, app_paths, stamped, clock)
        window = services.window
        lists = window.findChild(QComboBox, "watchlist.lists")
        await until(lambda: lists.count() == 2)
        assert [lists.itemText(i) for i in range(2)] == ["Watchlist", "Tech"]
        assert lists.currentText() == "Tech" and _watch_texts(window, "symbol") == ["AAPL"]
        lists.setCurrentIndex(0)
        lists.activated.emit(0)
        await until(lambda: _watch_texts(window, "symbol") == ["SPY", "MSFT"])
        await until(lambda: _watch_texts(window, "last") == ["601.20", "410.10"])

        table = window.findChild(QTableView, "watchlist.table")
        table.setCurrentIndex(table.model().index(1, 0))
        qtbot.keyClick(table, Qt.Key.Key_Return)
        assert window.findChild(QLineEdit, "ticket.symbol").text() == "MSFT"
        await stop(services)

    qt_loop.run(scenario())
