"""Screenshots for the user guide, taken from the real window offscreen: `python scripts/screenshots.py`.

The app runs on a throw-away data folder with a scripted quote feed and a deterministic bar source
(no network), places a few paper orders so fills and a working limit show on the chart, and saves
PNGs into docs/images/.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402

from app.domain.bars import INTERVAL_LENGTH, bucket_start  # noqa: E402
from app.domain.models import Bar, BarInterval, Quote  # noqa: E402
from app.event_loop import DesktopEventLoop  # noqa: E402
from app.main import start_app  # noqa: E402
from app.paths import AppPaths  # noqa: E402
from app.storage.bar_repository import save_bars  # noqa: E402

IMAGES = ROOT / "docs" / "images"
# Tuesday 24 November 2026, 11:45 in New York: the session is open.
NOW = datetime(2026, 11, 24, 16, 45, tzinfo=UTC)
PRICES = {"AAPL": "189.55", "MSFT": "410.10", "SPY": "601.20", "AAPL270115C00200000": "12.25"}


class ScriptedFeed:
    name = "Cboe delayed quotes"
    delayed = True

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        found = {}
        for symbol in symbols:
            if symbol not in PRICES:
                continue
            last = Decimal(PRICES[symbol])
            spread = Decimal("0.05") if last > 50 else Decimal("0.15")
            age = timedelta(seconds=95 if symbol == "MSFT" else 4)
            found[symbol] = Quote(
                symbol, bid=last - spread, ask=last + spread, last=last, timestamp=NOW - age,
                bid_size=Decimal(300), ask_size=Decimal(200),
                prev_close=last * Decimal("0.99") if symbol != "SPY" else last * Decimal("1.004"),
                volume=Decimal(41_250_000) if symbol != "AAPL270115C00200000" else Decimal(1820),
            )
        return found

    async def close(self) -> None:
        return None


class WalkBars:
    """A deterministic random walk ending at the symbol's price: the same pictures every run."""

    name = "Cboe delayed charts"
    delayed = True

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        rng = random.Random(f"{symbol}{interval.value}")
        step = INTERVAL_LENGTH[interval]
        moment = bucket_start(end - step, interval)
        out: list[Bar] = []
        close = Decimal(PRICES.get(symbol, "100"))
        while len(out) < 400:
            if interval is BarInterval.DAY and moment.weekday() >= 5:
                moment -= step
                continue
            opened = (close - Decimal(rng.randint(-60, 64)) / 100).quantize(Decimal("0.01"))
            high = max(opened, close) + Decimal(rng.randint(2, 40)) / 100
            low = min(opened, close) - Decimal(rng.randint(2, 40)) / 100
            out.append(Bar(symbol, interval, moment, opened, high, low, close, Decimal(rng.randint(50_000, 900_000))))
            close, moment = opened, moment - step
        return [bar for bar in reversed(out) if start <= bar.start < end]

    async def close(self) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def trade_history(services: object, clock: Clock) -> None:
    """Four weeks of paper trading in AAPL at the generated daily closes, so the equity curve has a history."""
    daily = await WalkBars().bars("AAPL", BarInterval.DAY, NOW - timedelta(days=40), NOW - timedelta(days=1))
    sessions = daily[-20:]
    await services.worker.run(lambda s: save_bars(s, WalkBars.name, sessions))  # type: ignore[attr-defined]
    plan = {0: ("buy", "200"), 3: ("buy", "60"), 8: ("sell", "160"), 12: ("buy", "200"), 16: ("sell", "220")}
    for day, bar in enumerate(sessions):
        if day not in plan:
            continue
        clock.now = bar.start.astimezone(UTC).replace(hour=15, minute=30)
        PRICES["AAPL"] = str(bar.open)
        side, quantity = plan[day]
        await services.paper.submit(  # type: ignore[attr-defined]
            {"symbol": "AAPL", "side": side, "quantity": quantity, "order_type": "market", "time_in_force": "day"}
        )
    clock.now = NOW
    PRICES["AAPL"] = "189.55"


def arrange(window: object) -> None:
    from PySide6.QtCore import Qt

    orders = window.orders_pane  # type: ignore[attr-defined]
    docks = {name: orders.findChild(QDockWidget, f"dock.{name}") for name in ("ticket", "watchlist", "chart")}
    orders.splitDockWidget(docks["ticket"], docks["watchlist"], Qt.Orientation.Vertical)
    docks["chart"].raise_()
    orders.resizeDocks([docks["ticket"], docks["watchlist"]], [520, 250], Qt.Orientation.Vertical)


async def capture() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    paths = AppPaths(Path(tempfile.mkdtemp()) / "data").ensure()
    clock = Clock()
    clock.now = NOW - timedelta(days=30)
    services = await start_app(paths, quotes=ScriptedFeed(), bars=WalkBars(), clock=clock, poll_interval=0.2)
    await trade_history(services, clock)
    window = services.window
    window.resize(1440, 960)
    window.show()
    assert services.market is not None and services.charts is not None
    for symbol in ("AAPL", "MSFT", "SPY", "AAPL270115C00200000"):
        await services.market.add_symbol("Watchlist", symbol)
    paper = services.paper
    await paper.submit({"symbol": "AAPL", "side": "buy", "quantity": "20", "order_type": "market", "time_in_force": "day"})
    # An option (shown by its readable name) and MSFT, whose quote is older than the stale-after setting.
    await paper.submit({"symbol": "AAPL270115C00200000", "side": "buy", "quantity": "2", "order_type": "market"})
    await paper.submit({"symbol": "MSFT", "side": "buy", "quantity": "15", "order_type": "market"})
    await paper.submit(
        {"symbol": "AAPL", "side": "buy", "quantity": "10", "order_type": "limit", "limit_price": "186.40", "time_in_force": "gtc"}
    )
    await paper.submit(
        {"symbol": "AAPL", "side": "sell", "quantity": "20", "order_type": "limit", "limit_price": "193.00", "time_in_force": "gtc"}
    )
    # Laid out as a trader would for this picture: the watchlist under the ticket, the chart in front of the
    # bottom stack (at first every pane is stacked with the positions so an 800x600 window fits).
    arrange(window)
    window.watchlist_pane.table.selectRow(0)
    window.watchlist_pane.symbol_chosen.emit("AAPL")
    ticket = window.orders_pane.ticket
    ticket.quantity.setText("10")
    ticket.use_limit_price("189.50")
    chart = window.chart_pane
    for _ in range(200):
        if chart.candles.arrays is not None and len(chart.fill_markers.points()) > 0:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    bars = len(chart.candles.arrays or [])
    if bars:
        chart.readout.setText(chart.readout_text(bars - 12))
    window.grab().save(str(IMAGES / "workspace.png"))
    chart.grab().save(str(IMAGES / "chart.png"))
    ticket.grab().save(str(IMAGES / "ticket-quote.png"))
    # The positions as a trader sees them after clicking their tab (in the workspace the chart is in front).
    positions_dock = window.orders_pane.findChild(QDockWidget, "dock.positions")
    positions_dock.raise_()
    await asyncio.sleep(0.3)
    positions_dock.grab().save(str(IMAGES / "positions.png"))
    # The watchlist on its own, floated wide enough for every column (in the workspace it shares a dock).
    watch_dock = window.findChild(QDockWidget, "dock.watchlist")
    watch_dock.setFloating(True)
    watch_dock.resize(820, 230)
    await asyncio.sleep(0.3)
    window.watchlist_pane.table.resizeColumnsToContents()
    window.watchlist_pane.grab().save(str(IMAGES / "watchlist.png"))
    watch_dock.setFloating(False)
    assert services.equity is not None
    await services.equity.reload()
    equity_dock = window.findChild(QDockWidget, "dock.equity")
    equity_dock.setFloating(True)
    equity_dock.resize(1100, 560)
    window.equity_pane.plot  # noqa: B018 - built as it would be when its dock is shown
    # The plot is laid out and drawn on the next turns of the loop, before the grab.
    await asyncio.sleep(0.5)
    window.equity_pane.grab().save(str(IMAGES / "equity.png"))
    window.close()
    await services.shutdown()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = DesktopEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(capture())
    print(f"Screenshots written to {IMAGES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
