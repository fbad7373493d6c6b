"""Live-trading test helpers: a broker's fake (the uniform test API of tests/fakes) and the app driven through its views."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QRadioButton

from app.domain.models import Order, TradingMode
from app.main import AppServices, start_app
from app.storage.live_journal import load_live_order
from app.storage.schema import FillRow
from tests.conftest import until
from tests.fakes import make_fake
from tests.fakes.control import FakeBroker

AAPL = (Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))


@dataclass
class BrokerRig:
    """One broker's fake, serving, and what the account it holds looks like in the app."""

    key: str
    fake: FakeBroker
    environment: str = "paper"
    real_money: bool = False
    account_last4: str = ""

    def form(self) -> dict[str, object]:
        rest = self.key != "ibkr"
        return {
            "broker": self.key,
            "environment": self.environment,
            "fields": dict(self.fake.credentials()),
            "base_url": self.fake.address if rest else "",
        }

    def order_changes(self) -> list[Any]:
        """Requests that could place, change or cancel an order (previews and reads excluded)."""
        return [call for call in self.fake.order_requests() if call.changes_orders]

    def settle(self) -> None:
        """Let the fake finish what it does in steps (Tastytrade's fake moves a requested cancel on when asked)."""
        book = getattr(self.fake, "book", None)
        if self.key == "tastytrade" and book is not None:
            with book.lock:
                book.advance()

    def stop(self) -> None:
        self.fake.shut_down()


def make_rig(key: str, *, real_money: bool = False) -> BrokerRig:
    options: dict[str, Any] = {}
    if real_money:
        from tests.fakes.alpaca import LIVE_ACCOUNT

        assert key == "alpaca", "the real-money journey runs on Alpaca's live-looking account"
        options["account_number"] = LIVE_ACCOUNT
    fake = make_fake(key, **options).serve_in_background()
    fake.set_quote("AAPL", *AAPL)
    return BrokerRig(key, fake, environment="live" if real_money else "paper", real_money=real_money)


# ---- the app ---------------------------------------------------------------------------------


async def start(qtbot: Any, app_paths: Any, feed: Any, clock: Any, **options: Any) -> AppServices:
    services = await start_app(
        app_paths, quotes=feed, clock=clock, poll_interval=0.05, developer_mode=True,
        live_poll_interval=options.pop("live_poll_interval", 0.1), **options
    )
    qtbot.addWidget(services.window)
    services.window.show()
    services.live.follower.account_interval = 0.5
    await until(lambda: services.vault.status.state.value == "ready", message="vault did not open")
    return services


async def stop(services: AppServices) -> None:
    services.window.close()
    await services.shutdown()


@asynccontextmanager
async def running(qtbot: Any, app_paths: Any, feed: Any, clock: Any, **options: Any) -> AsyncIterator[AppServices]:
    """The app, started for one scenario and shut down on the way out, whatever the scenario did."""
    services = await start(qtbot, app_paths, feed, clock, **options)
    try:
        yield services
    finally:
        await stop(services)


@asynccontextmanager
async def live_app(
    qtbot: Any, app_paths: Any, feed: Any, clock: Any, broker: str, *, real_money: bool = False, **options: Any
) -> AsyncIterator[tuple[AppServices, BrokerRig]]:
    """A broker's fake and the app started beside it (not yet connected); the app stops first, then the fake."""
    rig = make_rig(broker, real_money=real_money)
    try:
        async with running(qtbot, app_paths, feed, clock, **options) as services:
            yield services, rig
    finally:
        rig.stop()


async def connect(services: AppServices, rig: BrokerRig) -> None:
    view = await services.connections.connect(rig.form())
    assert view is not None, "the connection test failed"
    rig.account_last4 = view.account_last4
    await until(lambda: services.mode.live_available, timeout=20, message="live never became available")


async def switch_to_live(qtbot: Any, services: AppServices, rig: BrokerRig, typed: str | None = None) -> None:
    """Click Live, answer the confirmation (typing the account's last 4 for real money)."""
    window = services.window
    window.tabs.setCurrentWidget(window.mode_pane)
    window.findChild(QRadioButton, "mode.live").click()
    dialog = window.findChild(QDialog, "live_confirm_dialog")
    await until(dialog.isVisible, message="no live confirmation")
    field = dialog.findChild(QLineEdit, "live_confirm.account_input")
    assert field.isVisible() is rig.real_money
    if rig.real_money:
        qtbot.keyClicks(field, rig.account_last4 if typed is None else typed)
    qtbot.mouseClick(dialog.findChild(QPushButton, "live_confirm.submit"), Qt.MouseButton.LeftButton)


async def go_live(qtbot: Any, services: AppServices, rig: BrokerRig) -> None:
    """Connect the rig's account, switch to live through the confirmation and wait until the app is live."""
    await connect(services, rig)
    await switch_to_live(qtbot, services, rig)
    await until(lambda: services.mode.mode is TradingMode.LIVE)


def fill_ticket(qtbot: Any, services: AppServices, symbol: str, side: str, qty: str, limit: str | None) -> None:
    services.window.tabs.setCurrentWidget(services.window.orders_pane)
    ticket = services.window.orders_pane.ticket
    for line in (ticket.symbol, ticket.quantity, ticket.limit_price):
        line.clear()
    qtbot.keyClicks(ticket.symbol, symbol)
    ticket.side.setCurrentIndex(ticket.side.findData(side))
    ticket.order_type.setCurrentIndex(ticket.order_type.findData("limit" if limit else "market"))
    qtbot.keyClicks(ticket.quantity, qty)
    if limit:
        qtbot.keyClicks(ticket.limit_price, limit)


async def place_live(qtbot: Any, services: AppServices, symbol: str, side: str, qty: str, limit: str | None) -> str:
    """Ticket -> confirmation dialog -> Send; returns the client order id once the order was answered."""
    placed: list[str] = []
    services.live.confirmation_requested.connect(lambda view: placed.append(view.client_order_id))
    submit = services.window.findChild(QPushButton, "ticket.submit")
    await until(submit.isEnabled, message="the ticket is still busy with the previous order")
    fill_ticket(qtbot, services, symbol, side, qty, limit)
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    dialog = services.window.findChild(QDialog, "order_confirm_dialog")
    await until(dialog.isVisible, timeout=15, message=services.window.orders_pane.message.text())
    qtbot.mouseClick(dialog.findChild(QPushButton, "order_confirm.submit"), Qt.MouseButton.LeftButton)
    await until(lambda: bool(placed))
    # Sent and answered (or found unknown): the ticket takes the next order.
    await until(submit.isEnabled, timeout=20, message="the order was never answered")
    return placed[-1]


async def journal(services: AppServices, client_order_id: str) -> Order | None:
    return await services.worker.run(lambda s: load_live_order(s, client_order_id))


async def until_status(services: AppServices, client_order_id: str, *statuses: str, timeout: float = 15) -> Order:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        order = await journal(services, client_order_id)
        if order is not None and order.status.value in statuses:
            return order
        if loop.time() > deadline:
            raise AssertionError(f"{client_order_id} is {order and order.status} not {statuses}")
        await asyncio.sleep(0.05)


async def fill_rows(services: AppServices, client_order_id: str) -> list[FillRow]:
    return await services.worker.run(
        lambda s: list(s.query(FillRow).filter(FillRow.client_order_id == client_order_id))
    )


def label(services: AppServices, name: str) -> str:
    return services.window.findChild(QLabel, name).text()
