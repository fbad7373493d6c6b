"""Order safety through the real window: risk limits in Settings, denials next to the ticket, bursts,
the daily loss ladder, the kill switch across a restart, and the audit log pane with its CSV export."""

from __future__ import annotations

import asyncio
import csv
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableView

from app.domain.audit import AuditKind
from app.domain.models import OrderStatus
from app.domain.risk import RiskLimits
from app.main import AppServices
from app.security import redaction
from app.storage.audit_repository import read_audit
from app.storage.schema import OrderRow
from tests.conftest import QtLoop, until
from tests.gui.desktop_support import start, stop

LIMIT_FIELDS = {
    "max_order_quantity": "1000",
    "max_order_notional": "50000",
    "price_band_pct": "10",
    "max_open_orders": "50",
    "max_orders_per_minute": "20",
    "daily_loss_limit": "1000",
}


@pytest.fixture(autouse=True)
def fresh_secret_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by earlier tests in this process would mask 8-character pieces of these messages."""
    monkeypatch.setattr(redaction, "_known", redaction._Known())


async def _order_count(services: AppServices) -> int:
    return await services.worker.run(lambda s: s.query(OrderRow).count())


async def _statuses(services: AppServices) -> dict[str, str]:
    """Each journal order's status, read through the database worker."""
    return await services.worker.run(lambda s: {row.client_order_id: row.status for row in s.query(OrderRow)})


async def _audit_kinds(services: AppServices) -> list[AuditKind]:
    assert services.audit is not None
    await services.audit.flush()
    return [e.kind for e in await services.worker.run(lambda s: read_audit(s, limit=None))]


def _set_limits(qtbot, window, **values: str) -> None:
    for name, value in {**LIMIT_FIELDS, **values}.items():
        line = window.findChild(QLineEdit, f"risk.{name}")
        line.clear()
        qtbot.keyClicks(line, value)
    qtbot.mouseClick(window.findChild(QPushButton, "risk.save"), Qt.MouseButton.LeftButton)


def _limit(symbol: str, price: str, quantity: str = "1", side: str = "buy") -> dict[str, object]:
    return {"symbol": symbol, "side": side, "quantity": quantity, "order_type": "limit", "limit_price": price}


def test_risk_settings_show_defaults_refuse_bad_values_and_save_good_ones(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        window = services.window
        assert window.findChild(QLineEdit, "risk.max_order_notional").text() == "50000"
        assert window.findChild(QLineEdit, "risk.price_band_pct").text() == "10"

        _set_limits(qtbot, window, max_order_quantity="-5", max_orders_per_minute="lots")
        quantity_error = window.findChild(QLabel, "risk.error.max_order_quantity")
        await until(lambda: not quantity_error.isHidden())
        assert quantity_error.text() == "The largest order quantity must be more than zero."
        assert window.findChild(QLabel, "risk.error.max_orders_per_minute").text() == "'lots' is not a number."
        assert "not saved" in window.findChild(QLabel, "risk.message").text()
        assert services.risk is not None and services.risk.limits == RiskLimits()

        _set_limits(qtbot, window, max_order_notional="25,000")
        message = window.findChild(QLabel, "risk.message")
        await until(lambda: message.text().startswith("Risk limits saved"))
        assert quantity_error.isHidden()
        assert services.risk.limits.max_order_notional == Decimal(25000)
        assert AuditKind.RISK_LIMITS_CHANGED in await _audit_kinds(services)
        await stop(services)

        again = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        assert again.window.findChild(QLineEdit, "risk.max_order_notional").text() == "25000"
        assert again.window.findChild(QLineEdit, "risk.daily_loss_limit").text() == "1000"
        await stop(again)

    qt_loop.run(scenario())


def test_a_denial_names_the_rule_next_to_the_ticket_and_books_nothing(qtbot, qt_loop, app_paths, feed, clock):
    feed.set("SPY", bid="611.90", ask="612.00", last="612.00")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        window = services.window
        for name, value in (("symbol", "SPY"), ("quantity", "100")):
            qtbot.keyClicks(window.findChild(QLineEdit, f"ticket.{name}"), value)
        qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
        error = window.findChild(QLabel, "ticket.error.risk")
        await until(lambda: error.isVisible(), message="no denial shown")
        assert error.text() == "Order value $61,200 exceeds your $50,000 per-order limit."
        assert window.findChild(QLineEdit, "ticket.symbol").text() == "SPY"
        assert services.paper.engine.orders == {}
        assert await _order_count(services) == 0
        assert services.paper.engine.cash == Decimal("100000")

        await services.paper.submit(_limit("SPY", "700.00"))
        band = window.findChild(QLabel, "ticket.error.risk")
        assert band.isVisible() and "14.4% away from the last price 612.00" in band.text()
        assert services.paper.engine.orders == {}
        assert (await _audit_kinds(services)).count(AuditKind.RISK_DENIAL) == 2
        await stop(services)

    qt_loop.run(scenario())


def test_a_burst_of_a_thousand_orders_lets_only_the_rate_through(qtbot, qt_loop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        engine = services.paper.engine
        reached: list[str] = []
        real_submit = engine.submit

        def counting_submit(request, now, quote):  # type: ignore[no-untyped-def]
            reached.append(request.client_order_id)
            return real_submit(request, now, quote)

        engine.submit = counting_submit  # type: ignore[method-assign]
        results = await asyncio.gather(*(services.paper.submit(_limit("AAPL", "180.00")) for _ in range(1000)))
        assert len(reached) == 20
        assert sum(1 for r in results if r is not None) == 20
        assert len(engine.open_orders) == 20
        assert await _order_count(services) == 20
        # Most of the burst was refused before a single quote was fetched for it.
        assert len(feed.requests) < 100
        # The audit log gets one line for the burst, not 980.
        assert (await _audit_kinds(services)).count(AuditKind.RISK_DENIAL) == 1
        await stop(services)

    qt_loop.run(scenario())


def test_daily_loss_goes_reduce_only_then_halts(qtbot, qt_loop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        paper = services.paper
        assert services.risk is not None
        assert await services.risk.apply_limits(LIMIT_FIELDS)
        buy = {"symbol": "AAPL", "side": "buy", "quantity": "100", "order_type": "market"}
        assert await paper.submit(buy) is not None
        assert paper.engine.positions["AAPL"].quantity == 100

        feed.set("AAPL", bid="179.50", ask="179.60", last="179.55")  # equity 98,995: 1,005 down
        await paper.refresh()
        refused: list[dict[str, str]] = []
        paper.ticket_rejected.connect(refused.append)
        assert await paper.submit({"symbol": "MSFT", "side": "buy", "quantity": "1", "order_type": "market"}) is None
        assert "reached your $1,000.00 daily loss limit" in refused[-1]["risk"]
        sell = {"symbol": "AAPL", "side": "sell", "quantity": "50", "order_type": "market"}
        coid = await paper.submit(sell)
        assert coid is not None and coid not in paper.engine.orders  # filled, and released by the engine
        assert paper.engine.positions["AAPL"].quantity == 50

        feed.set("AAPL", bid="160.00", ask="160.10", last="160.05")  # 1,982.50 down: past 1.5 x the limit
        await paper.refresh()
        assert await paper.submit({**sell, "quantity": "10"}) is None
        assert "trading is halted until the next session" in refused[-1]["risk"]
        assert paper.engine.positions["AAPL"].quantity == 50
        await stop(services)

    qt_loop.run(scenario())


def test_kill_switch_cancels_each_open_order_once_halts_and_stays_halted_after_restart(
    qtbot, qt_loop, app_paths, feed, clock
):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    feed.set("MSFT", bid="410.10", ask="410.30", last="410.20")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        window = services.window
        paper = services.paper
        ids = [
            await paper.submit(_limit("AAPL", "180.00")),
            await paper.submit(_limit("AAPL", "181.00")),
            await paper.submit(_limit("MSFT", "400.00")),
        ]
        assert all(ids) and len(paper.engine.open_orders) == 3
        cancels: list[str] = []
        real_cancel = paper.engine.cancel

        def counting_cancel(client_order_id, now):  # type: ignore[no-untyped-def]
            cancels.append(client_order_id)
            return real_cancel(client_order_id, now)

        paper.engine.cancel = counting_cancel  # type: ignore[method-assign]
        badge = window.findChild(QLabel, "halted_badge")
        assert not badge.isVisible()
        questions: list[str] = []
        window.safety.confirm = lambda title, text: questions.append(title) or False
        window.findChild(QAction, "kill_switch").trigger()
        await until(lambda: len(cancels) == 3 and not paper.engine.orders, message="open orders were not cancelled")
        assert await _statuses(services) == {i: OrderStatus.CANCELED.value for i in ids}
        await until(lambda: "Kill switch" in window.findChild(QLabel, "orders.message").text())
        assert sorted(cancels) == sorted(ids)  # type: ignore[arg-type]
        assert questions == []  # the panic button never asks
        assert badge.isVisible() and badge.text() == "HALTED"

        await paper.submit(_limit("AAPL", "185.00"))
        risk_error = window.findChild(QLabel, "ticket.error.risk")
        assert risk_error.isVisible() and "Trading is halted (kill switch" in risk_error.text()
        assert await _order_count(services) == 3
        kinds = await _audit_kinds(services)
        assert AuditKind.KILL_SWITCH in kinds
        await stop(services)

        again = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        badge = again.window.findChild(QLabel, "halted_badge")
        assert badge.isVisible()
        assert await again.paper.submit(_limit("AAPL", "185.00")) is None
        assert await _order_count(again) == 3
        lift = again.window.findChild(QAction, "lift_halt")
        assert lift.isVisible()
        answers = iter([False, True])
        asked: list[str] = []
        again.window.safety.confirm = lambda title, text: asked.append(title) or next(answers)
        lift.trigger()
        await asyncio.sleep(0.05)
        assert again.risk is not None and again.risk.halted and badge.isVisible()
        lift.trigger()
        await until(lambda: not badge.isVisible(), message="the halt was not lifted")
        assert asked == ["Lift the halt", "Lift the halt"]
        assert await again.paper.submit(_limit("AAPL", "185.00")) is not None
        assert AuditKind.HALT_LIFTED in await _audit_kinds(again)
        await stop(again)

    qt_loop.run(scenario())


def test_kill_switch_shortcut_is_ctrl_shift_k(qtbot, qt_loop, app_paths, feed, clock):
    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        action = services.window.findChild(QAction, "kill_switch")
        assert action.shortcut().toString() == "Ctrl+Shift+K"
        assert action.shortcutContext() is Qt.ShortcutContext.ApplicationShortcut
        await stop(services)

    qt_loop.run(scenario())


def test_audit_pane_lists_filters_and_exports_events(qtbot, qt_loop, app_paths, feed, clock, tmp_path: Path):
    feed.set("SPY", bid="611.90", ask="612.00", last="612.00")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock, poll_interval=3600)
        window = services.window
        services.mode.request_mode(services.mode.mode)  # no change: not an event
        await services.paper.submit({"symbol": "SPY", "side": "buy", "quantity": "100", "order_type": "market"})
        window.findChild(QAction, "kill_switch").trigger()
        table = window.findChild(QTableView, "audit.table")
        model = table.model()
        await until(lambda: model.rowCount() == 2, message="events did not reach the audit pane")
        assert [model.text(r, "event") for r in range(2)] == ["Kill switch", "Risk denial"]
        assert "$61,200 exceeds your $50,000" in model.text(1, "details")

        window.findChild(QLineEdit, "audit.filter").setText("kill")
        await until(lambda: model.rowCount() == 1)
        assert model.text(0, "event") == "Kill switch"

        target = tmp_path / "audit.csv"
        window.audit_pane.choose_export_path = lambda: str(target)
        window.findChild(QLineEdit, "audit.filter").setText("")
        qtbot.mouseClick(window.findChild(QPushButton, "audit.export"), Qt.MouseButton.LeftButton)
        message = window.findChild(QLabel, "audit.message")
        await until(lambda: "exported" in message.text(), message="no export")
        with target.open(encoding="utf-8", newline="") as exported:
            rows = list(csv.reader(exported))
        assert rows[0] == ["time_utc", "event", "mode", "broker", "account_last4", "details"]
        assert [r[1] for r in rows[1:]] == ["risk denial", "kill switch"]
        assert all(r[2] == "paper" for r in rows[1:])
        await stop(services)

    qt_loop.run(scenario())
