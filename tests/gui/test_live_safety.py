"""Order safety in live mode against a broker fake: risk denials before the confirmation, unknown and
unverifiable symbols, the daily loss from the broker's equity, the audit trail of live orders, a burst of
1,000 orders, and the kill switch across a restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QLabel, QPushButton

from app.domain.audit import AuditEvent, AuditKind
from app.domain.models import OrderStatus, TradingMode
from app.main import AppServices
from app.security import redaction
from app.storage.audit_repository import read_audit
from app.storage.schema import OrderRow
from app.ui.live_dialogs import LiveDialogs
from tests.conftest import until
from tests.fakes.alpaca import KEY_ID, PAPER_ACCOUNT, SECRET_KEY
from tests.gui.live_support import (
    BrokerRig,
    fill_ticket,
    go_live,
    journal,
    live_app,
    make_rig,
    running,
    until_status,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def fresh_secret_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by earlier tests in this process would mask 8-character pieces of these messages."""
    monkeypatch.setattr(redaction, "_known", redaction._Known())


def _limit(price: str, quantity: str = "1", side: str = "buy", symbol: str = "AAPL") -> dict[str, object]:
    return {"symbol": symbol, "side": side, "quantity": quantity, "order_type": "limit", "limit_price": price}


def _market(quantity: str, side: str = "buy", symbol: str = "AAPL") -> dict[str, object]:
    return {"symbol": symbol, "side": side, "quantity": quantity, "order_type": "market"}


async def _live(qtbot: Any, services: AppServices, rig: BrokerRig) -> None:
    await go_live(qtbot, services, rig)
    await until(lambda: services.live.entry_enabled)
    services.window.tabs.setCurrentWidget(services.window.orders_pane)


def _answer_confirmations(services: AppServices) -> list[Any]:
    """The confirmation dialog's hook records what it was asked; the test confirms by calling ``place``."""
    asked: list[Any] = []
    dialogs = services.window.findChild(LiveDialogs)
    dialogs.ask_order = asked.append
    return asked


async def _audit(services: AppServices) -> list[AuditEvent]:
    assert services.audit is not None
    await services.audit.flush()
    return list(reversed(await services.worker.run(lambda s: read_audit(s, limit=None))))


async def _live_rows(services: AppServices) -> int:
    return await services.worker.run(lambda s: s.query(OrderRow).filter(OrderRow.mode == TradingMode.LIVE.value).count())


def _risk_error(services: AppServices) -> QLabel:
    return services.window.findChild(QLabel, "ticket.error.risk")


def test_a_live_denial_names_the_rule_next_to_the_ticket_sends_nothing_and_is_audited(
    qtbot, qt_loop, app_paths, feed, clock
):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            window = services.window
            await _live(qtbot, services, rig)
            dialog = window.findChild(QDialog, "order_confirm_dialog")
            # A fat finger through the real ticket: 250.00 for a stock the broker quotes at 189.55.
            fill_ticket(qtbot, services, "AAPL", "buy", "1", "250")
            qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
            error = _risk_error(services)
            await until(error.isVisible, timeout=15, message="no denial shown")
            assert error.text() == (
                "The limit price 250.00 is 31.9% away from the last price 189.55; your price band allows 10%."
            )
            assert not dialog.isVisible()

            await services.live.submit(_market("300"))
            assert _risk_error(services).text() == "Order value $56,880 exceeds your $50,000 per-order limit."
            assert not dialog.isVisible()

            assert rig.order_changes() == []
            assert rig.fake.order_count() == 0
            assert await _live_rows(services) == 0
            denials = [e for e in await _audit(services) if e.kind is AuditKind.RISK_DENIAL]
            assert len(denials) == 2
            assert all(e.mode == "live" and e.broker == "alpaca" for e in denials)
            assert all(e.account_last4 == rig.account_last4 for e in denials)
            assert "[price_band_pct]" in denials[0].summary and "[max_order_notional]" in denials[1].summary

    qt_loop.run(scenario(), timeout=90)


def test_live_entry_refuses_unknown_symbols_and_unverifiable_market_orders(qtbot, qt_loop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            window = services.window
            await _live(qtbot, services, rig)
            asked = _answer_confirmations(services)
            assert await services.live.submit(_limit("10.00", symbol="ZZZZZZ")) is None
            symbol_error = window.findChild(QLabel, "ticket.error.symbol")
            assert symbol_error.text() == "ZZZZZZ is not a symbol Alpaca knows; check the symbol."

            # The broker's market data fails: nothing can be checked against a price.
            rig.fake.inject_fault("server_error", method="GET", path="/v2/stocks", times=1_000)
            try:
                assert await services.live.submit(_market("1")) is None
                assert "Quotes can't be reached right now" in symbol_error.text()
                cid = await services.live.submit(_limit("175.00"))
            finally:
                with rig.fake.book.lock:
                    rig.fake._faults.clear()
            assert cid is not None and asked and asked[-1].client_order_id == cid
            assert any("unverified symbol" in warning for warning in asked[-1].warnings)
            assert rig.order_changes() == []
            pending: list[str] = []
            services.live.orders_upserted.connect(
                lambda orders: pending.extend(o.status_reason for o in orders if o.client_order_id == cid)
            )
            await services.live.place(cid)
            order = await until_status(services, cid, "new")
            assert pending[0].startswith("unverified symbol")
            assert order.broker_order_id and rig.fake.order_count() == 1

    qt_loop.run(scenario(), timeout=90)


def test_live_daily_loss_is_measured_on_the_broker_equity(qtbot, qt_loop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            rig.fake.set_position("AAPL", Decimal(10), Decimal("180"))
            assert services.risk is not None
            assert await services.risk.apply_limits(
                {
                    "max_order_quantity": "5000",
                    "max_order_notional": "50000",
                    "price_band_pct": "10",
                    "max_open_orders": "50",
                    "max_orders_per_minute": "20",
                    "daily_loss_limit": "1000",
                }
            )
            await _live(qtbot, services, rig)
            asked = _answer_confirmations(services)
            info = services.live.follower.session.info  # type: ignore[union-attr]
            rig.fake.set_cash(info.cash - Decimal(1200))  # the account is 1,200 down since its first reading
            assert await services.live.follower.refresh_account()
            assert await services.live.submit(_limit("180.00")) is None
            assert "reached your $1,000.00 daily loss limit" in _risk_error(services).text()
            # Reduce-only: selling part of what the broker says is held still goes to the confirmation.
            assert await services.live.submit(_limit("189.00", quantity="5", side="sell")) is not None
            assert len(asked) == 1
            assert rig.order_changes() == []

    qt_loop.run(scenario(), timeout=90)


def test_live_orders_sent_cancelled_and_resolved_are_audited_with_the_last_four_and_no_secret(
    qtbot, qt_loop, app_paths, feed, clock
):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        # Slow following: the test decides when the broker is asked about the unknown order.
        async with live_app(qtbot, app_paths, feed, clock, "alpaca", live_poll_interval=60) as (services, rig):
            await _live(qtbot, services, rig)
            _answer_confirmations(services)
            rig.fake.drop_next_order_response("place")
            cid = await services.live.submit(_limit("175.00", quantity="2"))
            assert cid is not None
            unknown = await services.live.place(cid)
            assert unknown is not None and unknown.status is OrderStatus.UNKNOWN
            await services.live.follower.poll_once()
            await until_status(services, cid, "new")
            await services.live.cancel(cid)
            for _ in range(100):
                rig.settle()
                if (await journal(services, cid)).status is OrderStatus.CANCELED:
                    break
                await asyncio.sleep(0.05)

            events = [e for e in await _audit(services) if e.kind.value.startswith("live")]
            assert [e.kind for e in events] == [
                AuditKind.LIVE_ORDER_SENT,
                AuditKind.LIVE_ORDER_SENT,
                AuditKind.LIVE_ORDER_RESOLVED,
                AuditKind.LIVE_ORDER_CANCELLED,
            ]
            assert "Sent to the broker" in events[0].summary and "outcome unknown" in events[1].summary
            assert all(cid in e.summary and "Buy 2 AAPL limit 175.00" in e.summary for e in events), [
                e.summary for e in events
            ]
            assert all(e.mode == "live" and e.broker == "alpaca" for e in events)
            assert all(e.account_last4 == rig.account_last4 == PAPER_ACCOUNT[-4:] for e in events)
            for event in await _audit(services):
                text = " ".join((event.summary, event.broker, event.account_last4, event.mode))
                assert SECRET_KEY[:8] not in text and KEY_ID[:8] not in text and PAPER_ACCOUNT not in text

    qt_loop.run(scenario(), timeout=90)


def test_a_burst_of_a_thousand_live_orders_lets_only_the_rate_reach_the_broker(qtbot, qt_loop, app_paths, feed, clock):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            await _live(qtbot, services, rig)
            asked = _answer_confirmations(services)
            results = await asyncio.gather(*(services.live.submit(_limit("175.00")) for _ in range(1000)))
            admitted = [cid for cid in results if cid is not None]
            assert len(admitted) == 20 and len(asked) == 20
            # Every confirmation answered with Send: still only the rate reaches the broker.
            await asyncio.gather(*(services.live.place(cid) for cid in admitted))
            assert rig.fake.order_count() == 20
            assert len([c for c in rig.order_changes() if c.method == "POST"]) == 20
            assert await _live_rows(services) == 20
            assert await services.live.submit(_limit("175.00")) is None
            assert "per minute" in _risk_error(services).text()
            assert rig.fake.order_count() == 20
            denials = [e for e in await _audit(services) if e.kind is AuditKind.RISK_DENIAL]
            assert len(denials) == 1 and "[max_orders_per_minute]" in denials[0].summary

    qt_loop.run(scenario(), timeout=120)


def test_kill_switch_cancels_each_open_live_order_once_at_the_broker_and_stays_halted_after_restart(
    qtbot, qt_loop, app_paths, feed, clock
):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")
    rig = make_rig("alpaca")
    ids: list[str] = []

    async def first_run() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            window = services.window
            await _live(qtbot, services, rig)
            asked = _answer_confirmations(services)
            for price in ("175.00", "176.00", "177.00"):
                cid = await services.live.submit(_limit(price))
                assert cid is not None
                await services.live.place(cid)
                ids.append(cid)
            for cid in ids:
                await until_status(services, cid, "new")
            # One more waits for the trader's Send when the kill switch is pressed.
            waiting = await services.live.submit(_limit("178.00"))
            assert waiting is not None and len(asked) == 4

            questions: list[str] = []
            window.safety.confirm = lambda title, text: questions.append(title) or False
            window.findChild(QAction, "kill_switch").trigger()
            for _ in range(200):
                rig.settle()
                statuses = [(await journal(services, cid)).status for cid in ids]  # type: ignore[union-attr]
                if all(s is OrderStatus.CANCELED for s in statuses):
                    break
                await asyncio.sleep(0.05)
            for cid in ids:
                await until_status(services, cid, "canceled")
            cancels = [c.client_order_id for c in rig.order_changes() if c.method == "DELETE"]
            assert sorted(cancels) == sorted(ids)
            assert questions == []
            assert window.findChild(QLabel, "halted_badge").isVisible()

            # Send pressed after the kill switch: nothing leaves.
            assert await services.live.place(waiting) is None
            assert "Trading is halted (kill switch" in _risk_error(services).text()
            assert await services.live.submit(_limit("175.00")) is None
            assert "Trading is halted (kill switch" in _risk_error(services).text()
            assert await services.paper.submit(_limit("175.00")) is None
            assert rig.fake.order_count() == 3
            assert len([c for c in rig.order_changes() if c.method == "POST"]) == 3
            kinds = [e.kind for e in await _audit(services)]
            assert AuditKind.KILL_SWITCH in kinds and AuditKind.RISK_DENIAL in kinds

    async def second_run() -> None:
        async with running(qtbot, app_paths, feed, clock) as services:
            badge = services.window.findChild(QLabel, "halted_badge")
            assert badge.isVisible()
            await until(lambda: services.mode.mode is TradingMode.LIVE and services.live.entry_enabled, timeout=30)
            asked = _answer_confirmations(services)
            assert await services.live.submit(_limit("175.00")) is None
            assert "Trading is halted" in _risk_error(services).text()
            answers = iter([False, True])
            questions: list[str] = []
            services.window.safety.confirm = lambda title, text: questions.append(title) or next(answers)
            lift = services.window.findChild(QAction, "lift_halt")
            lift.trigger()
            await asyncio.sleep(0.05)
            assert services.risk is not None and services.risk.halted and badge.isVisible()
            lift.trigger()
            await until(lambda: not badge.isVisible(), message="the halt was not lifted")
            assert questions == ["Lift the halt", "Lift the halt"]
            cid = await services.live.submit(_limit("175.00"))
            assert cid is not None and asked[-1].client_order_id == cid
            assert rig.fake.order_count() == 3

    try:
        qt_loop.run(first_run(), timeout=120)
        qt_loop.run(second_run(), timeout=90)
    finally:
        rig.stop()


@pytest.mark.parametrize("broker", ["tradier", "tastytrade", "ibkr"])
def test_every_broker_refuses_an_unknown_symbol_and_a_fat_finger_before_the_confirmation(
    broker, qtbot, qt_loop, app_paths, feed, clock
):
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, broker) as (services, rig):
            await _live(qtbot, services, rig)
            asked = _answer_confirmations(services)
            assert await services.live.submit(_limit("10.00", symbol="ZZZZZZ")) is None
            symbol_error = services.window.findChild(QLabel, "ticket.error.symbol")
            assert "ZZZZZZ is not a symbol" in symbol_error.text()
            assert await services.live.submit(_limit("250.00")) is None
            assert "31.9% away from the last price 189.55" in _risk_error(services).text()
            assert asked == [] and rig.order_changes() == [] and rig.fake.order_count() == 0

    qt_loop.run(scenario(), timeout=90)
