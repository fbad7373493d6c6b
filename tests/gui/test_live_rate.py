"""The per-minute order rate in live mode counts the orders sent, not the confirmations the trader declined."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.models import TradingMode
from app.domain.risk import RiskRule, limits_to_dict
from app.main import AppServices
from app.ui.live_dialogs import LiveDialogs
from tests.conftest import QtLoop, until
from tests.gui.live_support import connect, make_rig, start, stop, switch_to_live

pytestmark = pytest.mark.slow


def _limit(price: str) -> dict[str, object]:
    return {"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": price}


async def _live(qtbot: Any, services: AppServices, rig: Any) -> list[Any]:
    await connect(services, rig)
    await switch_to_live(qtbot, services, rig)
    await until(lambda: services.mode.mode is TradingMode.LIVE and services.live.entry_enabled)
    asked: list[Any] = []
    services.window.findChild(LiveDialogs).ask_order = asked.append
    return asked


def test_declined_live_orders_give_their_place_in_the_rate_back(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    rig = make_rig("alpaca")

    async def scenario() -> None:
        services = await start(qtbot, app_paths, feed, clock)
        risk = services.risk
        assert risk is not None
        try:
            asked = await _live(qtbot, services, rig)
            assert await risk.apply_limits({**limits_to_dict(risk.limits), "max_orders_per_minute": "2"})
            denials: list[Any] = []
            risk.denied.connect(denials.append)

            # Three orders declined at the confirmation: none was sent, none counts.
            for price in ("180.00", "181.00", "182.00"):
                cid = await services.live.submit(_limit(price))
                assert cid is not None and asked[-1].client_order_id == cid, [str(d) for d in denials]
                await services.live.decline_order(cid)
            assert denials == []

            # Two sent fill the minute's rate; the third is refused before its confirmation.
            for price in ("183.00", "184.00"):
                cid = await services.live.submit(_limit(price))
                assert cid is not None
                assert await services.live.place(cid) is not None
            assert await services.live.submit(_limit("185.00")) is None
            assert [d.rule for d in denials] == [RiskRule.ORDER_RATE]
            assert rig.fake.order_count() == 2
        finally:
            await stop(services)

    try:
        qt_loop.run(scenario(), timeout=90)
    finally:
        rig.stop()
