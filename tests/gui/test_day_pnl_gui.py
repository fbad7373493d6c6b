"""Day P&L and % change in the positions table and the account pane, paper and live, from controlled quotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.main import AppServices, start_app
from tests.conftest import until
from tests.gui.live_support import fill_ticket, go_live, label, live_app, place_live, stop, until_status


def _row(services: AppServices, symbol: str) -> dict[str, str]:
    model = services.window.orders_pane.positions_model
    row = model.row_of_key(symbol)
    return {} if row is None else {key: model.text(row, key) for key in ("qty", "mark", "day_pnl", "day_pct")}


async def _start_paper(qtbot, app_paths, feed, clock) -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05)
    qtbot.addWidget(services.window)
    services.window.show()
    return services


async def _buy_paper(qtbot, services: AppServices, qty: str) -> None:
    placed: list[str] = []
    services.paper.order_placed.connect(placed.append)
    fill_ticket(qtbot, services, "AAPL", "buy", qty, None)
    qtbot.mouseClick(services.window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
    await until(lambda: bool(placed), message=services.window.orders_pane.message.text())


def test_paper_day_pnl_counts_todays_buys_from_their_price_and_yesterdays_from_the_close(
    qtbot, qt_loop, app_paths, feed, clock
) -> None:
    # Yesterday's close 100; the market order buys 10 at the ask (105.10) and is marked at the mid.
    feed.set("AAPL", bid="104.90", ask="105.10", last="105.00", prev_close="100")

    async def today() -> None:
        services = await _start_paper(qtbot, app_paths, feed, clock)
        try:
            await _buy_paper(qtbot, services, "10")
            await until(lambda: _row(services, "AAPL").get("qty") == "10")
            await until(lambda: _row(services, "AAPL")["day_pnl"] == "-$1.00", message=str(_row(services, "AAPL")))
            assert _row(services, "AAPL")["day_pct"] == "+5.00%"
            feed.set("AAPL", bid="106.90", ask="107.10", last="107.00", prev_close="100")
            await until(lambda: _row(services, "AAPL")["day_pnl"] == "+$19.00", message=str(_row(services, "AAPL")))
            assert _row(services, "AAPL")["day_pct"] == "+7.00%"
            # Equity 100,019 against 100,000 at the close.
            await until(lambda: label(services, "account.day_pnl") == "+$19.00 (+0.02%)",
                        message=label(services, "account.day_pnl"))
        finally:
            await stop(services)

    async def same_day_restart() -> None:
        services = await _start_paper(qtbot, app_paths, feed, clock)
        try:
            # Today's fill is read back from the journal: still counted from its price, not from the close.
            await until(lambda: _row(services, "AAPL").get("day_pnl") == "+$19.00", message=str(_row(services, "AAPL")))
        finally:
            await stop(services)

    async def next_day() -> None:
        clock.now += timedelta(days=1)
        feed.set("AAPL", bid="109.90", ask="110.10", last="110.00", prev_close="107")
        services = await _start_paper(qtbot, app_paths, feed, clock)
        try:
            # Held overnight now: yesterday's buy no longer counts from its price but from yesterday's close (107).
            await until(lambda: _row(services, "AAPL").get("day_pnl") == "+$30.00", message=str(_row(services, "AAPL")))
            assert _row(services, "AAPL")["day_pct"] == "+2.80%"
            await until(lambda: label(services, "account.day_pnl").startswith("+$30.00 ("),
                        message=label(services, "account.day_pnl"))
        finally:
            await stop(services)

    qt_loop.run(today(), timeout=60)
    qt_loop.run(same_day_restart(), timeout=60)
    qt_loop.run(next_day(), timeout=60)


def _from_fill(row: dict[str, str]) -> str:
    """The day P&L of 3 shares bought today at 175, at the row's mark."""
    mark = row.get("mark", "").replace(",", "")
    return f"+${(Decimal(mark) - 175) * 3:,.2f}" if mark.replace(".", "").isdigit() else "no mark yet"


@pytest.mark.slow
def test_live_day_pnl_uses_the_brokers_mark_and_the_previous_close(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55", prev_close="180")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            await go_live(qtbot, services, rig)
            cid = await place_live(qtbot, services, "AAPL", "buy", "3", "175")
            # The fake broker stamps its fills with the real time: from here the app's day is that day too.
            clock.now = datetime.now(UTC)
            rig.fake.fill(cid, Decimal(3), Decimal("175"))
            await until_status(services, cid, "filled")
            await until(lambda: _row(services, "AAPL").get("qty") == "3", timeout=15)
            # A positions read that raced the fill's booking may first count the shares from the close; the
            # next read counts them from the fill.
            await until(lambda: _row(services, "AAPL")["day_pnl"] == _from_fill(_row(services, "AAPL")), timeout=15,
                        message=str(_row(services, "AAPL")))
            shown = _row(services, "AAPL")
            mark = Decimal(shown["mark"].replace(",", ""))
            # Bought today at 175: the day counts from that price; the % is the price's move from the close.
            assert shown["day_pnl"] == f"+${(mark - 175) * 3:,.2f}"
            assert shown["day_pct"] == f"+{((mark - 180) / 180 * 100).quantize(Decimal('0.01'))}%"
            assert label(services, "account.day_pnl").startswith(shown["day_pnl"] + " (+")

    qt_loop.run(scenario(), timeout=120)
