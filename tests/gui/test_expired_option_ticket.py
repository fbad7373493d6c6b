"""An option past its expiry is refused at the ticket, in live mode as in paper: no confirmation, nothing sent."""

from __future__ import annotations

from typing import Any

import pytest

from app.ui.live_dialogs import LiveDialogs
from tests.conftest import QtLoop
from tests.gui.live_support import go_live, live_app

pytestmark = pytest.mark.slow

# The GUI clock reads Tuesday 24 November 2026; this call expired on Friday the 20th.
EXPIRED = "AAPL261120C00200000"
TICKET = {"symbol": EXPIRED, "side": "buy", "quantity": "1", "order_type": "limit", "limit_price": "2.50"}


def test_an_expired_option_is_refused_at_the_ticket_live_and_paper(qtbot, qt_loop: QtLoop, app_paths, feed, clock):
    async def scenario() -> None:
        async with live_app(qtbot, app_paths, feed, clock, "alpaca") as (services, rig):
            refused: list[dict[str, str]] = []
            services.paper.ticket_rejected.connect(refused.append)
            services.live.ticket_rejected.connect(refused.append)
            assert await services.paper.submit(TICKET) is None
            assert refused[-1]["symbol"] == f"{EXPIRED} expired on 20 Nov 2026; it no longer trades."

            await go_live(qtbot, services, rig)
            asked: list[Any] = []
            services.window.findChild(LiveDialogs).ask_order = asked.append
            assert await services.live.submit(TICKET) is None
            assert refused[-1]["symbol"] == f"{EXPIRED} expired on 20 Nov 2026; it no longer trades."
            assert asked == [] and rig.order_changes() == []

    qt_loop.run(scenario(), timeout=90)
