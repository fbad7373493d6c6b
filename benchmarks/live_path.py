"""#7 the live order path per order, through the whole stack to a fake broker on loopback, against bare httpx.

Ours: the running app (offscreen, on its qasync loop) connected to the Alpaca fake of `tests/fakes` over
loopback, as a trader's account would be. One market order is timed from the ticket's values to the
fill in the journal: `LiveOrderController.submit` (validation, pre-send checks, the broker's preview)
and, once confirmed, `place` (the journal row committed before the request, the request, the answer
and its fill applied and committed), then the follower's cycles until the fill is in the journal (the
fake fills a market order just after accepting it, so the answer says accepted and one cycle finds the
fill). The trader's confirmation between submit and place is not timed.

Baseline, same run and same fake: the very requests our path sent for that order (recorded by the fake),
replayed with one bare `httpx.AsyncClient`, plus one bare durable insert (`sqlite3`, WAL,
`synchronous=FULL`) of the order's row. Runs alternate, so load drifts hit both alike.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import httpx
import keyring
from PySide6.QtWidgets import QApplication

from app.brokers.alpaca.connector import RATE_PER_MINUTE
from app.event_loop import DesktopEventLoop
from app.main import start_app
from app.paths import AppPaths
from benchmarks.desk import MovingQuotes
from benchmarks.harness import Figure
from tests.conftest import until
from tests.fakes import make_fake
from tests.security.keyrings import MemoryKeyring
from tests.gui.live_support import AAPL

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 20
WARM_UP = 2
#: The Alpaca connector paces itself under Alpaca's published limit (`RATE_PER_MINUTE`, bursts of `RATE_BURST`).
#: Orders are spaced so its bucket is full again before each one: what is timed is the stack's own cost, as
#: for a trader confirming orders one by one, not the pacing of a sustained stream (which the baseline lacks).


def run(orders: int = ORDERS) -> list[Figure]:
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = DesktopEventLoop(app)
    asyncio.set_event_loop(loop)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    fake = make_fake("alpaca").serve_in_background()
    fake.set_quote("AAPL", *AAPL)
    try:
        with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-live-") as folder:
            paths = AppPaths(Path(folder) / "data").ensure()
            return loop.run_until_complete(_measure(paths, Path(folder), fake, orders))
    finally:
        fake.shut_down()
        keyring.set_keyring(previous)
        loop.close()
        asyncio.set_event_loop(None)


async def _measure(paths: AppPaths, folder: Path, fake, orders: int) -> list[Figure]:  # type: ignore[no-untyped-def]
    # The follower's own polling is pushed out of the way, so the requests recorded are the order's.
    services = await start_app(paths, quotes=MovingQuotes(), developer_mode=True, live_poll_interval=3600.0)
    services.live.follower.account_interval = 3600.0
    await until(lambda: services.vault.status.state.value == "ready", timeout=30, message="vault did not open")
    form = {"broker": "alpaca", "environment": "paper", "fields": dict(fake.credentials()), "base_url": fake.address}
    assert await services.connections.connect(form) is not None, "the fake broker refused the connection"
    await until(lambda: services.live.entry_enabled, timeout=30, message="live entry never opened")
    # Quotes come from the in-memory feed: no market-data stream retrying against the REST fake in between,
    # so every request recorded while an order is timed belongs to that order.
    assert services.market is not None
    services.market.set_quote_stream(None)
    requests = fake.server.requests
    ticket = {"symbol": "AAPL", "side": "buy", "quantity": "1", "order_type": "market", "time_in_force": "day"}

    bare_db = folder / "bare.sqlite3"
    with closing(sqlite3.connect(bare_db)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE orders (client_order_id TEXT PRIMARY KEY, symbol TEXT, side TEXT, quantity TEXT, status TEXT, created_at TEXT)")
    bare = sqlite3.connect(bare_db, check_same_thread=False)
    bare.execute("PRAGMA synchronous=FULL")
    client = httpx.AsyncClient(base_url=fake.address)

    ours: list[float] = []
    base: list[float] = []
    sent_per_order: list[int] = []
    phases: list[tuple[float, float, float]] = []
    try:
        for n in range(WARM_UP + orders):
            first = len(requests)
            started = time.perf_counter()
            client_order_id = await services.live.submit(ticket)
            assert client_order_id is not None, "the benchmark order was refused"
            confirm_at = time.perf_counter()
            order = await services.live.place(client_order_id)
            placed_at = time.perf_counter()
            # Following: the follower's cycle (what its 1 s loop runs) reads the order's fill from the broker.
            for _ in range(20):
                if order is not None and order.status.value == "filled":
                    break
                await services.live.follower.poll_once()
                order = services.live.follower.order(client_order_id) or await _journaled(services, client_order_id)
            ended = time.perf_counter()
            assert order is not None and order.status.value == "filled", f"not filled: {order}"
            sent = list(requests[first:])
            phases.append((confirm_at - started, placed_at - confirm_at, ended - placed_at))
            ours_ms = (confirm_at - started + ended - confirm_at) * 1000

            started = time.perf_counter()
            for request in sent:
                body = request.body
                if request.method == "POST" and request.path == "/v2/orders":
                    payload = json.loads(body)
                    payload["client_order_id"] = f"bare-{n}"
                    body = json.dumps(payload).encode()
                headers = {k: v for k, v in request.headers.items() if k in ("apca-api-key-id", "apca-api-secret-key", "content-type")}
                query = {k: v[0] for k, v in request.query.items()}
                (await client.request(request.method, request.path, params=query, headers=headers, content=body or None)).raise_for_status()
            await asyncio.to_thread(_bare_insert, bare, n)
            base_ms = (time.perf_counter() - started) * 1000
            if n >= WARM_UP:
                ours.append(ours_ms)
                base.append(base_ms)
                sent_per_order.append(len(sent))
            await asyncio.sleep(len(sent) * 60 / RATE_PER_MINUTE)
    finally:
        await client.aclose()
        bare.close()
        services.window.close()
        await services.shutdown()
    submit_ms, place_ms, follow_ms = (statistics.median(p[i] for p in phases) * 1000 for i in range(3))
    note = (
        f"median per order: submit (checks, preview) {submit_ms:.0f} ms, place (journal, send, answer) "
        f"{place_ms:.0f} ms, follow to the fill {follow_ms:.0f} ms; requests per order: {statistics.median(sent_per_order):.0f} "
        f"({', '.join(sorted({f'{r.method} {r.path}' for r in sent}))})"
    )
    p50, b50 = _percentile(ours, 50), _percentile(base, 50)
    p99, b99 = _percentile(ours, 99), _percentile(base, 99)
    return [
        Figure("7 p50", "live order path, ticket to fill journaled, Alpaca fake on loopback: median", p50, b50, "ms",
               "≤ 1.5×", p50 / b50 <= 1.5, note=note),
        Figure("7 p99", "live order path, ticket to fill journaled, Alpaca fake on loopback: 99th percentile", p99, b99,
               "ms", "≤ 2×", p99 / b99 <= 2),
    ]


async def _journaled(services, client_order_id: str):  # type: ignore[no-untyped-def]
    from app.storage.live_journal import load_live_order

    return await services.worker.run(lambda s: load_live_order(s, client_order_id))


def _bare_insert(connection: sqlite3.Connection, n: int) -> None:
    with connection:
        connection.execute(
            "INSERT INTO orders VALUES (?, 'AAPL', 'buy', '1', 'pending_submit', ?)",
            (f"bare-{n}", datetime.now(UTC).isoformat()),
        )


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]
