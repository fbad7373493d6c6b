"""The equity pane in live mode, through the real window against the brokers' fakes: the broker's own history
where its API has one (Alpaca), the balances TradeBridge read while connected where not (Tradier), and the
paper curve again, with no history asked for, in paper mode."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QLabel, QRadioButton, QWidget

from app.domain.models import TradingMode
from app.storage.broker_equity_repository import load_broker_equity_samples
from tests.conftest import until
from tests.gui.live_support import connect, make_rig, start, stop, switch_to_live

pytestmark = pytest.mark.slow
D = Decimal


def _text(services, name: str) -> str:
    return services.window.findChild(QLabel, name).text()


def test_live_mode_shows_alpacas_portfolio_history_and_paper_mode_the_paper_curve(
    qtbot, qt_loop, app_paths, feed, clock
) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    days = [clock.now - timedelta(days=n) for n in (400, 4, 3, 2, 1)]
    served = [(days[0], D("20000")), (days[1], None), (days[2], D("25000")), (days[3], D("25312.47")), (days[4], D("24870.11"))]

    async def scenario() -> None:
        rig = make_rig("alpaca", real_money=True)
        rig.fake.equity_history.set(served)
        services = await start(qtbot, app_paths, feed, clock)
        pane = services.window.findChild(QWidget, "equity")
        try:
            await connect(services, rig)
            await until(lambda: _text(services, "equity.account") == "Paper account")
            paper_curve = pane.equity_values()
            assert paper_curve and paper_curve[0][1] == 100000.0
            # Connected but in paper mode: the broker is not asked for its history.
            assert rig.fake.equity_history.requests == []

            await switch_to_live(qtbot, services, rig)
            await until(lambda: services.mode.mode is TradingMode.LIVE)
            await until(lambda: _text(services, "equity.account") == f"Alpaca live account …{rig.account_last4}")
            # A year back: the point from 400 days ago is left out, the day before funding (null) is no point.
            assert pane.equity_values() == [
                (days[2].timestamp(), 25000.0, None),
                (days[3].timestamp(), 25312.47, None),
                (days[4].timestamp(), 24870.11, None),
            ]
            summary = _text(services, "equity.summary")
            assert "from Alpaca's portfolio history" in summary
            assert "max drawdown -1.75% (-$442.36)" in summary  # 24870.11 against the 25312.47 peak
            assert services.account_equity.view.max_drawdown_amount == D("24870.11") - D("25312.47")
            assert len(rig.fake.equity_history.requests) == 1

            services.window.tabs.setCurrentWidget(services.window.mode_pane)
            services.window.findChild(QRadioButton, "mode.paper").click()
            await until(lambda: services.mode.mode is TradingMode.PAPER)
            await until(lambda: _text(services, "equity.account") == "Paper account")
            assert pane.equity_values()[: len(paper_curve)] == paper_curve
            assert "from the journal" in _text(services, "equity.summary")
        finally:
            await stop(services)
            rig.stop()

    qt_loop.run(scenario(), timeout=120)


def test_a_broker_without_a_history_is_drawn_from_the_balances_read_while_connected(
    qtbot, qt_loop, app_paths, feed, clock
) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        rig = make_rig("tradier")
        services = await start(qtbot, app_paths, feed, clock)
        pane = services.window.findChild(QWidget, "equity")
        try:
            await connect(services, rig)
            key = services.connections.active_session.account_key
            await switch_to_live(qtbot, services, rig)
            await until(lambda: services.mode.mode is TradingMode.LIVE)
            await until(lambda: _text(services, "equity.account").startswith("Tradier sandbox account …"))
            summary = _text(services, "equity.summary")
            assert "Built from the balances TradeBridge read while connected" in summary
            assert "Tradier gives no account history" in summary
            first = services.connections.active_session.info
            assert pane.equity_values() == [(clock.now.timestamp(), float(first.equity), float(first.cash))]

            # Two minutes on, the cash changed at the broker and the connection is verified again: one more point.
            before = clock.now
            clock.now = before + timedelta(minutes=2)
            rig.fake.set_cash(D("98765.43"))
            info = await services.connections.verify_now()
            assert info.cash == D("98765.43")
            await until(lambda: len(pane.equity_values()) == 2, message=str(pane.equity_values()))
            assert pane.equity_values()[1] == (clock.now.timestamp(), float(info.equity), 98765.43)
            # Within the minute, a verification keeps no reading.
            clock.now += timedelta(seconds=30)
            await services.connections.verify_now()
            saved = await services.worker.run(lambda s: load_broker_equity_samples(s, key, before - timedelta(days=1)))
            assert [(p.at, p.cash) for p in saved] == [(before, first.cash), (before + timedelta(minutes=2), D("98765.43"))]
            assert len(pane.equity_values()) == 2
        finally:
            await stop(services)
            rig.stop()

    qt_loop.run(scenario(), timeout=120)
