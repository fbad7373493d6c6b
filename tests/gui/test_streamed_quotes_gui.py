"""Streamed quotes through the real window: TWS ticks reach the watchlist row and the ticket as they arrive."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableView

from tests.conftest import QtLoop, until
from tests.gui.live_support import connect, make_rig, start, stop


def _watch(window, row: int, key: str) -> str:
    return window.findChild(QTableView, "watchlist.table").model().text(row, key)


def test_ibkr_ticks_update_the_watchlist_row_and_the_ticket_quote(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    rig = make_rig("ibkr")
    feed.set("AAPL", "100.00", "100.10", "100.05")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        try:
            await connect(services, rig)
            qtbot.keyClicks(window.findChild(QLineEdit, "watchlist.symbol_input"), "AAPL")
            qtbot.mouseClick(window.findChild(QPushButton, "watchlist.add"), Qt.MouseButton.LeftButton)
            table = window.findChild(QTableView, "watchlist.table")
            await until(lambda: table.model().symbols() == ["AAPL"], message="AAPL was not added")
            await until(lambda: services.market is not None and services.market.streaming, timeout=20,
                        message="the IBKR quote stream never came up")
            # The connected broker prices AAPL (a first poll may answer before the subscription's first tick);
            # the stream then carries it. The test feed's 100.05 is never shown.
            source = lambda: table.model().index(0, 1).data(Qt.ItemDataRole.ToolTipRole) or ""  # noqa: E731
            await until(lambda: "streaming" in source(), timeout=15, message=f"not streamed: {source()}")
            assert _watch(window, 0, "last") == "189.55"

            ticket = window.orders_pane.ticket
            qtbot.keyClicks(ticket.symbol, "AAPL")
            bid = window.findChild(QPushButton, "ticket.quote.bid")
            await until(lambda: bid.text().startswith("189.50"), message=bid.text())

            rig.fake.push_quote("AAPL", Decimal("189.70"), Decimal("189.80"), Decimal("189.75"))
            await until(lambda: _watch(window, 0, "last") == "189.75", message="the tick never reached the watchlist")
            assert (_watch(window, 0, "bid"), _watch(window, 0, "ask")) == ("189.70", "189.80")
            await until(lambda: bid.text().startswith("189.70"), message="the tick never reached the ticket")
            assert window.findChild(QPushButton, "ticket.quote.ask").text().startswith("189.80")
            assert "189.75" in window.findChild(QLabel, "ticket.quote.last").text()
        finally:
            await stop(services)

    try:
        qt_loop.run(scenario(), timeout=60)
    finally:
        rig.stop()
