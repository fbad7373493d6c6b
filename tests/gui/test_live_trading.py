"""Live trading end to end, for every broker against its fake: connect, switch to live with the confirmation,
place, follow, fill, cancel, see the broker's positions and account, disconnect back to paper."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTableView

from app.domain.models import OrderStatus, TradingMode
from app.storage.schema import OrderRow
from app.storage.vault_schema import ConnectionRow
from tests.conftest import until
from tests.gui.live_support import (
    connect,
    fill_rows,
    fill_ticket,
    journal,
    label,
    live_app,
    make_rig,
    place_live,
    start,
    stop,
    switch_to_live,
    until_status,
)

pytestmark = pytest.mark.slow

BROKER_NAMES = {"alpaca": "Alpaca", "tradier": "Tradier", "tastytrade": "Tastytrade", "ibkr": "Interactive Brokers"}


def _database_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.parametrize("broker", ["alpaca", "tradier", "tastytrade", "ibkr"])
def test_live_journey_for_each_broker(broker, qtbot, qt_loop, app_paths, feed, clock) -> None:
    """Alpaca runs on a real-money (live) account, the others on their sandbox/paper accounts."""
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, broker, real_money=broker == "alpaca") as (services, rig):
            window = services.window
            await connect(services, rig)
            assert window.windowTitle() == "TradeBridge — PAPER"

            if rig.real_money:
                # A wrong account number switches nothing.
                await switch_to_live(qtbot, services, rig, typed="9999")
                await until(lambda: "don't match" in label(services, "mode.notice"))
                assert services.mode.mode is TradingMode.PAPER
            await switch_to_live(qtbot, services, rig)
            await until(lambda: services.mode.mode is TradingMode.LIVE)
            account = f"{BROKER_NAMES[broker]} …{rig.account_last4}"
            expected = f"LIVE · {account}" if rig.real_money else f"LIVE · SANDBOX · {account}"
            assert window.windowTitle() == f"TradeBridge — {expected}"
            assert label(services, "mode_badge") == expected
            assert rig.account_last4 in label(services, "ticket.mode")

            # A resting limit buy: confirmed, journaled, sent once, followed to the fill.
            cid = await place_live(qtbot, services, "AAPL", "buy", "3", "175")
            summary = window.findChild(QLabel, "order_confirm.summary").text()
            assert f"…{rig.account_last4}" in summary and "BUY 3 AAPL" in summary and "Estimated cost" in summary
            order = await until_status(services, cid, "new")
            assert order.mode is TradingMode.LIVE and order.broker == broker and order.account_last4 == rig.account_last4
            assert rig.fake.order_count() == 1
            rig.fake.fill(cid, Decimal(1), Decimal("175"))
            partial = await until_status(services, cid, "partially_filled")
            assert partial.filled_quantity == Decimal(1)
            rig.fake.fill(cid, Decimal(2), Decimal("175"))
            filled = await until_status(services, cid, "filled")
            assert filled.filled_quantity == Decimal(3)
            assert sorted(r.quantity for r in await fill_rows(services, cid)) == [Decimal(1), Decimal(2)]

            # The broker's position and account are shown in live mode.
            positions = window.orders_pane.positions_model
            await until(
                lambda: positions.row_of_key("AAPL") is not None, timeout=15, message="no broker position shown"
            )
            await until(lambda: positions.text(positions.row_of_key("AAPL"), "qty") == "3", timeout=15)

            # A second order is cancelled from the table.
            second = await place_live(qtbot, services, "AAPL", "buy", "1", "172")
            await until_status(services, second, "new")
            table = window.findChild(QTableView, "orders.table")
            await until(lambda: table.model().row_of_key(second) is not None, message="live order not in the table")
            table.selectRow(table.model().row_of_key(second))
            qtbot.mouseClick(window.findChild(QPushButton, "orders.cancel"), Qt.MouseButton.LeftButton)
            for _ in range(200):
                rig.settle()
                if (await journal(services, second)).status is OrderStatus.CANCELED:
                    break
                await asyncio.sleep(0.05)
            await until_status(services, second, "canceled")
            assert rig.fake.order_count() == 2

            # Disconnect: back to paper, the credentials and their ciphertext gone from the database file.
            rows = await services.worker.run(lambda s: [bytes(r.credentials or b"") for r in s.query(ConnectionRow)])
            (sealed,) = rows
            assert sealed
            box = window.settings_pane.connections
            box.confirm = lambda _title, _text: True
            window.settings_pane.confirm = lambda _title, _text: True
            box.table.selectRow(0)
            qtbot.mouseClick(box.findChild(QPushButton, "settings.remove_connection"), Qt.MouseButton.LeftButton)
            await until(lambda: services.mode.mode is TradingMode.PAPER and services.connections.active_session is None)
            await until(lambda: box.model.rowCount() == 0)
            assert window.windowTitle() == "TradeBridge — PAPER"
            assert label(services, "mode_badge") == "PAPER"
            assert await services.worker.run(lambda s: s.query(ConnectionRow).count()) == 0
            await until(lambda: label(services, "account.cash") == "$100,000.00", message="paper figures not back")
            assert sealed not in _database_bytes(app_paths.database)

    qt_loop.run(scenario(), timeout=120)


def test_paper_orders_never_reach_a_broker_order_endpoint(qtbot, qt_loop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        rigs = [make_rig(key) for key in ("alpaca", "tradier", "tastytrade", "ibkr")]
        services = await start(qtbot, app_paths, feed, clock)
        window = services.window
        try:
            for rig in rigs:
                await connect(services, rig)
                assert services.mode.mode is TradingMode.PAPER
                placed: list[str] = []
                services.paper.order_placed.connect(placed.append)
                fill_ticket(qtbot, services, "AAPL", "buy", "1", None)
                qtbot.mouseClick(window.findChild(QPushButton, "ticket.submit"), Qt.MouseButton.LeftButton)
                await until(lambda: bool(placed), message=window.orders_pane.message.text())
                assert not window.findChild(QDialog, "order_confirm_dialog").isVisible()
                assert rig.order_changes() == [], f"{rig.key} received an order request in paper mode"
                assert rig.fake.order_count() == 0
            paper_rows = await services.worker.run(
                lambda s: s.query(OrderRow).filter(OrderRow.mode == TradingMode.PAPER.value).count()
            )
            assert paper_rows == 4
        finally:
            await stop(services)
            for rig in rigs:
                rig.stop()

    qt_loop.run(scenario(), timeout=120)
