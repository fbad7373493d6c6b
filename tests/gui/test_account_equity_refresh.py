"""A burst of live fills asks the broker for the account's history once more, not once per fill."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from app.controller.account_equity_controller import AccountEquityController
from app.controller.equity_controller import EquityController
from app.domain.equity_curve import EquityPoint
from app.domain.models import TradingMode
from tests.conftest import QtLoop, until

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


class Worker:
    async def run(self, _work: Any) -> None:
        return None


class SlowHistory:
    """A broker whose history answers only when the test lets it, counting each request."""

    def __init__(self) -> None:
        self.requests = 0
        self.answer = asyncio.Event()

    async def equity_history(self, _since: datetime) -> list[EquityPoint]:
        self.requests += 1
        await self.answer.wait()
        self.answer.clear()
        return [EquityPoint(at=NOW, cash=None, equity=Decimal("25000") + self.requests)]


def test_a_burst_of_fills_refreshes_the_history_once_after_the_one_in_flight(qapp, qt_loop: QtLoop):
    async def scenario() -> None:
        broker = SlowHistory()
        session = SimpleNamespace(
            broker=broker, broker_name="Alpaca", broker_key="alpaca", account_key="alpaca:paper:TB01",
            account_label="Alpaca …TB01", info=SimpleNamespace(cash=Decimal(0), equity=Decimal(0)),
        )
        worker = Worker()
        controller = AccountEquityController(worker, lambda: NOW, EquityController(worker, lambda: NOW))  # type: ignore[arg-type]
        controller._session = session  # type: ignore[assignment]
        controller._mode = TradingMode.LIVE
        try:
            for _ in range(20):
                controller.on_live_fills([object()])
            await until(lambda: broker.requests == 1)
            broker.answer.set()
            await until(lambda: broker.requests == 2, message="the fills after the first request were not refreshed")
            broker.answer.set()
            await until(lambda: controller.view is not None and controller.view.points[-1].equity == Decimal("25002"))
            await asyncio.sleep(0.1)
            assert broker.requests == 2
        finally:
            await controller.stop()

    qt_loop.run(scenario())
