"""The app shuts down even when a poll swallows the cancellation meant for its loop.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising a cancellation that arrives at
the same moment, and broker libraries call it a lot: a loop must end on shutdown without relying on it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.main import start_app
from tests.conftest import QtLoop


def _swallowing(calls: list[str], name: str) -> Any:
    async def refresh(*_args: object) -> None:
        calls.append(name)
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            pass  # as a misbehaving library would

    return refresh


def test_shutdown_ends_though_the_quote_polls_swallow_their_cancellation(qtbot, qt_loop: QtLoop, app_paths, feed, clock) -> None:
    feed.set("AAPL", bid="189.50", ask="189.60", last="189.55")

    async def scenario() -> None:
        services = await start_app(app_paths, quotes=feed, clock=clock, poll_interval=0.05)
        qtbot.addWidget(services.window)
        calls: list[str] = []
        services.paper.refresh = _swallowing(calls, "paper")  # type: ignore[method-assign]
        services.market.refresh = _swallowing(calls, "market")  # type: ignore[method-assign]
        # Both loops are inside a poll when the shutdown's cancellation arrives.
        while not {"paper", "market"} <= set(calls):
            await asyncio.sleep(0.01)
        services.window.close()
        await asyncio.wait_for(services.shutdown(), 10)

    qt_loop.run(scenario(), timeout=60)
