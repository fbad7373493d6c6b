"""#3 the orders table with 100k orders and #4 the longest UI freeze while 200 paper orders are placed, in the real app.

The app runs in this process on its qasync loop, offscreen, on a data folder whose journal holds 100,000
orders, with an in-memory quote feed that moves every poll. Table operations are timed from the action
to the rows painted (the loop comes back after Qt handled what was pending). The baselines run in the same process: a bare QTableView over a
minimal model holding the same rows (#3), and the same 5 ms timer while the app sits idle (#4).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication, QTableView

from app.domain.models import OrderStatus, Quote
from app.event_loop import DesktopEventLoop
from app.main import start_app
from benchmarks.bare_window import BareModel, load_rows
from benchmarks.harness import Figure, median
from benchmarks.journal_fill import SYMBOLS, filled_folder

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 100_000
PLACED = 200
# A Tuesday mid-session, so paper orders work against the feed's quotes.
NOW = datetime(2025, 3, 11, 15, 0, tzinfo=UTC)


class MovingQuotes:
    """An in-memory quote source whose prices take a small random step on every request."""

    name = "benchmark feed"
    delayed = False

    def __init__(self) -> None:
        self._rng = random.Random(3)
        self._prices = {s: Decimal(self._rng.randint(5_000, 40_000)) / 100 for s in SYMBOLS}

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        found = {}
        for symbol in symbols:
            if symbol not in self._prices:
                continue
            price = self._prices[symbol] = self._prices[symbol] + Decimal(self._rng.randint(-5, 5)) / 100
            found[symbol] = Quote(symbol, price - Decimal("0.01"), price + Decimal("0.01"), price, NOW)
        return found

    async def close(self) -> None:
        return None

    def price(self, symbol: str) -> Decimal:
        return self._prices[symbol]


class GapTimer:
    """A 5 ms Qt timer that records the longest time between two of its ticks: how long the UI froze."""

    def __init__(self) -> None:
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._clock = QElapsedTimer()
        self._timer.timeout.connect(self._tick)
        self.longest = 0.0

    def _tick(self) -> None:
        elapsed = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        self.longest = max(self.longest, elapsed)

    def start(self) -> None:
        self.longest = 0.0
        self._clock.start()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.longest


def run(repeats: int = 5) -> list[Figure]:
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = DesktopEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-desk-") as folder:
            paths = filled_folder(Path(folder) / "data", ORDERS)
            return loop.run_until_complete(_measure(app, paths, repeats))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


async def _measure(app: QApplication, paths, repeats: int) -> list[Figure]:  # type: ignore[no-untyped-def]
    feed = MovingQuotes()
    services = await start_app(paths, quotes=feed, clock=lambda: NOW, poll_interval=0.25)
    if services.risk is not None:
        # A desk's own limits: room for a burst of 200 resting orders (the defaults would stop it at 20/min).
        assert await services.risk.apply_limits(
            {"max_order_quantity": "1000", "max_order_notional": "1000000", "price_band_pct": "10",
             "max_open_orders": "1000", "max_orders_per_minute": "5000", "daily_loss_limit": "1000000"}
        )
    window = services.window
    window.resize(1400, 900)
    window.show()
    table = services.orders_table
    view = window.findChild(QTableView, "orders.table")
    model = view.model()
    bare_view = QTableView()
    bare_view.resize(1400, 600)
    bare_view.show()
    everything = {"mode": "paper", "status": "all", "symbol": "", "range": "all"}

    async def settled() -> None:
        """Back on the loop after Qt has handled what is pending (layout and paint included)."""
        done = asyncio.get_running_loop().create_future()
        QTimer.singleShot(0, lambda: done.done() or done.set_result(None))
        await done

    async def painted(work) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        await work()
        await settled()
        return (time.perf_counter() - started) * 1000

    # --- #3 ours ---------------------------------------------------------------------------
    async def ours_open() -> float:
        return await painted(table.reload)

    async def ours_sort() -> float:
        result = await painted(lambda: table.apply_sort("symbol", False))
        await table.apply_sort("created", True)
        return result

    async def ours_filter() -> float:
        result = await painted(lambda: table.apply_filter({**everything, "symbol": "AAPL"}))
        await table.apply_filter(everything)
        return result

    flips = iter(range(10_000))

    async def ours_update() -> float:
        await table.reload()
        await settled()
        row = 5 + next(flips) % 50
        order = model.row_at(row)
        status = OrderStatus.CANCELED if order.status is OrderStatus.FILLED else OrderStatus.FILLED

        async def apply() -> None:
            table.apply([replace(order, status=status)])

        return await painted(apply)

    # --- #3 bare ---------------------------------------------------------------------------
    bare: dict[str, object] = {}

    async def bare_open() -> float:
        async def work() -> None:
            bare["rows"] = load_rows(str(paths.database))
            bare["model"] = BareModel(list(bare["rows"]))  # type: ignore[arg-type]
            bare_view.setModel(bare["model"])  # type: ignore[arg-type]

        return await painted(work)

    async def bare_sort() -> float:
        bare_model: BareModel = bare["model"]  # type: ignore[assignment]

        async def work() -> None:
            bare_model.beginResetModel()
            bare_model.rows.sort(key=lambda r: (r[2], r[0]))
            bare_model.endResetModel()

        return await painted(work)

    async def bare_filter() -> float:
        bare_model: BareModel = bare["model"]  # type: ignore[assignment]
        rows = bare["rows"]

        async def work() -> None:
            bare_model.beginResetModel()
            bare_model.rows = [r for r in rows if r[2].startswith("AAPL")]  # type: ignore[attr-defined]
            bare_model.endResetModel()

        result = await painted(work)
        bare_model.beginResetModel()
        bare_model.rows = list(rows)  # type: ignore[call-overload]
        bare_model.endResetModel()
        return result

    async def bare_update() -> float:
        bare_model: BareModel = bare["model"]  # type: ignore[assignment]

        async def work() -> None:
            row = 5 + next(flips) % 50
            old = bare_model.rows[row]
            bare_model.rows[row] = (*old[:7], "canceled" if old[7] == "filled" else "filled", old[8])
            bare_model.dataChanged.emit(bare_model.index(row, 0), bare_model.index(row, len(old) - 1))

        return await painted(work)

    table_runs = {
        "ours_open": ours_open, "bare_open": bare_open, "ours_sort": ours_sort, "bare_sort": bare_sort,
        "ours_filter": ours_filter, "bare_filter": bare_filter, "ours_update": ours_update, "bare_update": bare_update,
    }
    samples: dict[str, list[float]] = {name: [] for name in table_runs}
    for _ in range(repeats):
        for name, measure in table_runs.items():
            samples[name].append(await measure())

    # --- #4 ----------------------------------------------------------------------------------
    gaps = GapTimer()
    rates: list[float] = []
    refusals: list[object] = []
    services.paper.ticket_rejected.connect(refusals.append)
    services.paper.order_rejected.connect(refusals.append)
    counter = iter(range(100_000))

    async def placing() -> float:
        gaps.start()
        started = time.perf_counter()
        for _ in range(PLACED):
            n = next(counter)
            symbol = SYMBOLS[n % len(SYMBOLS)]
            below = (feed.price(symbol) * Decimal("0.95")).quantize(Decimal("0.01"))
            ticket = {"symbol": symbol, "side": "buy", "quantity": "1", "order_type": "limit",
                      "limit_price": str(below), "time_in_force": "gtc"}
            if await services.paper.submit(ticket) is None:
                raise AssertionError(f"a benchmark order was refused: {refusals[-1:]}")
        rates.append(PLACED / (time.perf_counter() - started))
        longest = gaps.stop()
        await services.paper.cancel_all()
        return longest

    async def idle() -> float:
        gaps.start()
        await asyncio.sleep(1.0)
        return gaps.stop()

    samples.update(await interleaved_async({"placing": placing, "idle": idle}, repeats))

    window.close()
    bare_view.close()
    await services.shutdown()
    figures = []
    for what, key in (("open (first page shown)", "open"), ("sort by symbol", "sort"), ("filter by symbol", "filter"),
                      ("one status update", "update")):
        ours, base = median(samples[f"ours_{key}"]), median(samples[f"bare_{key}"])
        limit = 5 if key == "update" else 100
        figures.append(Figure(f"3 {key}", f"orders table, 100k orders: {what}", ours, base, "ms",
                              f"< {limit} ms", ours < limit))
    ours_gap, idle_gap = median(samples["placing"]), median(samples["idle"])
    rate = median(rates)
    figures.append(Figure("4", f"longest Qt-timer gap (5 ms timer) placing {PLACED} paper orders, 100k stored, quotes "
                               f"updating (median {rate:.0f} orders/s)", ours_gap, idle_gap, "ms",
                          "< 50 ms; ≥ 100 orders/s", ours_gap < 50 and rate >= 100))
    return figures


async def interleaved_async(runs, repeats: int) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """`harness.interleaved` for measurements that await on the app's loop."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name].append(await run())
    return samples

