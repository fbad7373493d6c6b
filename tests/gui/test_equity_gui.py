"""The equity curve through the real window: a paper journal traded over several sessions and its history."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from PySide6.QtWidgets import QLabel, QWidget

from app.domain.market_calendar import NEW_YORK
from app.domain.models import Bar, BarInterval
from app.storage.bar_repository import save_bars
from tests.conftest import QtLoop, until
from tests.gui.conftest import FixedClock
from tests.gui.market_support import StampedQuotes
from tests.gui.desktop_support import start, stop

D = Decimal
TUESDAY = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 10:30 New York
WEDNESDAY = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


def _daily(day: int, close: str) -> Bar:
    opens = datetime(2026, 11, day, tzinfo=NEW_YORK)
    return Bar("AAPL", BarInterval.DAY, opens, D(close), D(close), D(close), D(close), D(1000))


def test_equity_curve_from_the_journal_equals_the_accounts_history(qtbot, qt_loop: QtLoop, app_paths):
    clock = FixedClock(TUESDAY)
    feed = StampedQuotes()

    async def scenario() -> None:
        feed.set("AAPL", bid="189.50", ask="189.60", last="189.55", at=clock.now)
        services = await start(qtbot, app_paths, feed, clock)
        paper = services.paper
        assert await paper.apply_settings(
            {"starting_cash": "100000", "slippage_bps": "0", "commission_per_order": "1.00",
             "commission_per_share": "0", "commission_per_contract": "0", "allow_shorting": False}
        )
        await paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "market"})
        clock.now = WEDNESDAY
        feed.set("AAPL", bid="195.00", ask="195.10", last="195.05", at=clock.now)
        await paper.submit({"symbol": "AAPL", "side": "sell", "quantity": "4", "order_type": "market"})
        # Closing prices the chart cached for Tuesday and Wednesday; none for Friday.
        await services.worker.run(lambda s: save_bars(s, "Cboe delayed charts", [_daily(24, "190.00"), _daily(25, "196.00")]))
        await stop(services)

        clock.now = MONDAY
        feed.set("AAPL", bid="198.00", ask="198.10", last="198.05", at=clock.now)
        services = await start(qtbot, app_paths, feed, clock)
        pane = services.window.findChild(QWidget, "equity")
        await until(lambda: len(pane.equity_values()) >= 4, message=str(pane.equity_values()))
        times, equity, cash = zip(*pane.equity_values()[:4])
        closes = [datetime(2026, 11, 24, 21, tzinfo=UTC), datetime(2026, 11, 25, 21, tzinfo=UTC), datetime(2026, 11, 27, 18, tzinfo=UTC)]
        assert list(times) == [TUESDAY.timestamp(), *(c.timestamp() for c in closes)]
        tuesday_cash = D("100000") - D("1896.00") - 1
        wednesday_cash = tuesday_cash + 4 * D("195.00") - 1
        assert list(cash) == [100000.0, float(tuesday_cash), float(wednesday_cash), float(wednesday_cash)]
        assert list(equity) == [
            100000.0,
            float(tuesday_cash + 10 * D("190.00")),
            float(wednesday_cash + 6 * D("196.00")),
            float(wednesday_cash + 6 * D("195.00")),  # Friday: no cached close, the last fill's price
        ]
        # The journal's cash is the account's cash.
        assert services.paper.engine.cash == wednesday_cash
        view = services.equity.view
        assert view is not None and view.points[3].cash == wednesday_cash
        # Monday's first revaluation at the marks is appended as an intraday point.
        await until(lambda: len(pane.equity_values()) == 5)
        assert pane.equity_values()[4] == (MONDAY.timestamp(), float(wednesday_cash + 6 * D("198.05")), float(wednesday_cash))
        summary = services.window.findChild(QLabel, "equity.summary").text()
        assert summary.startswith(f"Equity ${wednesday_cash + 6 * D('198.05'):,.2f}")
        peak = wednesday_cash + 6 * D("196.00")  # Wednesday's close is the highest point
        fall = wednesday_cash + 6 * D("195.00") - peak
        assert f"max drawdown {fall / peak * 100:.2f}% (-${-fall:,.2f})" in summary
        await stop(services)

    qt_loop.run(scenario())
