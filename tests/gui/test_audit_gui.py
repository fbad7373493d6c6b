"""The audit log follows connections and the mode through the real app, and never holds a secret."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from app.domain.audit import AuditKind
from app.main import AppServices, start_app
from app.security import redaction
from app.storage.audit_repository import read_audit
from tests.conftest import QtLoop, until
from tests.fakes.alpaca import PAPER_ACCOUNT, SECRET_KEY, FakeAlpaca
from tests.gui.test_connection_gui import _fill


@pytest.fixture(autouse=True)
def fresh_secret_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by earlier tests in this process would mask 8-character pieces of these messages."""
    monkeypatch.setattr(redaction, "_known", redaction._Known())


@pytest.fixture
def fake_alpaca() -> Iterator[FakeAlpaca]:
    fake = FakeAlpaca().start()
    fake.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    try:
        yield fake
    finally:
        fake.stop()


async def _start(qtbot, app_paths, feed, clock) -> AppServices:
    services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=3600, developer_mode=True)
    qtbot.addWidget(services.window)
    await until(lambda: services.vault.status.state.value == "ready", message="vault did not open")
    return services


def test_connection_events_are_audited_without_any_secret(qtbot, qt_loop: QtLoop, app_paths, feed, clock, fake_alpaca):
    canary = "CANARY" + secrets.token_hex(16)

    async def scenario() -> None:
        services = await _start(qtbot, app_paths, feed, clock)
        box = services.window.settings_pane.connections
        test_button = box.findChild(QPushButton, "settings.test_connection")

        _fill(qtbot, box, fake_alpaca.url, canary)
        qtbot.mouseClick(test_button, Qt.MouseButton.LeftButton)
        await until(lambda: services.audit is not None and not services.audit._pending and any(
            e.kind is AuditKind.CONNECTION_FAILED for e in services.window.audit_pane.model.rows()
        ), message="the failed test was not audited")

        _fill(qtbot, box, fake_alpaca.url, SECRET_KEY)
        qtbot.mouseClick(test_button, Qt.MouseButton.LeftButton)
        await until(lambda: box.findChild(QLabel, "settings.broker_status").text().startswith("Connected"))
        kinds = lambda: [e.kind for e in services.window.audit_pane.model.rows()]  # noqa: E731
        await until(lambda: AuditKind.CONNECTION_SAVED in kinds(), message=str(kinds()))
        views = await services.connections.refresh()
        await services.connections.remove(views[0].id)
        await until(lambda: AuditKind.CONNECTION_REMOVED in kinds(), message=str(kinds()))

        assert services.audit is not None
        await services.audit.flush()
        events = await services.worker.run(lambda s: read_audit(s, limit=None))
        by_kind = {e.kind: e for e in events}
        assert {AuditKind.CONNECTION_FAILED, AuditKind.CONNECTION_VERIFIED, AuditKind.CONNECTION_SAVED,
                AuditKind.CONNECTION_REMOVED} <= set(by_kind)
        assert by_kind[AuditKind.CONNECTION_VERIFIED].account_last4 == PAPER_ACCOUNT[-4:]
        assert by_kind[AuditKind.CONNECTION_VERIFIED].broker == "alpaca"
        assert by_kind[AuditKind.CONNECTION_REMOVED].account_last4 == PAPER_ACCOUNT[-4:]
        for event in events:
            text = " ".join((event.summary, event.broker, event.account_last4, event.mode))
            assert canary[:12] not in text and SECRET_KEY[:8] not in text and PAPER_ACCOUNT not in text
        services.window.close()
        await services.shutdown()
        # Nowhere in the database file either (the failed test saved nothing).
        for path in app_paths.database.parent.glob(app_paths.database.name + "*"):
            assert canary.encode() not in path.read_bytes()

    qt_loop.run(scenario())


def test_a_secret_in_a_recorded_message_is_scrubbed(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    from app.security.redaction import register_secret

    canary = "CANARY" + secrets.token_hex(16)
    register_secret(canary)

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=3600)
        qtbot.addWidget(services.window)
        assert services.audit is not None
        event = await services.audit.write(AuditKind.CONNECTION_FAILED, f"Broker said: bad key {canary}",
                                           account_last4="PA1234")
        assert event is not None and canary not in event.summary and event.account_last4 == "1234"
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())


def test_mode_switches_are_audited(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    from decimal import Decimal

    from app.controller.views import AccountView
    from app.domain.models import TradingMode

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=3600)
        qtbot.addWidget(services.window)
        assert services.audit is not None
        # Live needs a connected account to switch to (a broker sandbox account: no digits to type).
        services.mode.set_target(
            AccountView("c1", "Alpaca", "paper", "0001", "margin", Decimal(1), Decimal(1), Decimal(1), is_paper=True)
        )
        services.mode.set_live_availability(True)
        services.mode.request_mode(TradingMode.LIVE, True)
        services.mode.request_mode(TradingMode.PAPER, True)
        await services.audit.flush()
        events = await services.worker.run(lambda s: read_audit(s, "mode", limit=None))
        assert [e.summary for e in reversed(events)] == [
            "Trading mode switched from PAPER to LIVE.",
            "Trading mode switched from LIVE to PAPER.",
        ]
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())


def test_live_order_events_are_audited_with_the_account_last_four(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    from app.domain.models import Order, OrderStatus, TradingMode
    from tests.domain.paper_support import request

    order = Order(
        request=request(quantity=3),
        mode=TradingMode.LIVE,
        status=OrderStatus.NEW,
        created_at=clock(),
        updated_at=clock(),
        broker_order_id="b-42",
        broker="alpaca",
        account_last4="7788",
    )

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=3600)
        qtbot.addWidget(services.window)
        assert services.audit is not None
        for event in ("sent", "answered", "unknown", "resolved", "cancel_requested"):
            services.audit.record_live_event(event, order)
        await services.audit.flush()
        events = list(reversed(await services.worker.run(lambda s: read_audit(s, "live", limit=None))))
        assert [e.kind for e in events] == [
            AuditKind.LIVE_ORDER_SENT,
            AuditKind.LIVE_ORDER_SENT,
            AuditKind.LIVE_ORDER_SENT,
            AuditKind.LIVE_ORDER_RESOLVED,
            AuditKind.LIVE_ORDER_CANCELLED,
        ]
        assert all(e.mode == "live" and e.broker == "alpaca" and e.account_last4 == "7788" for e in events)
        assert events[0].summary.startswith(f"Buy 3 AAPL market, new; order {order.client_order_id} (broker id b-42)")
        assert "outcome unknown" in events[2].summary
        services.window.close()
        await services.shutdown()

    qt_loop.run(scenario())
