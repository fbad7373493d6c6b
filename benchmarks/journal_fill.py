"""A data folder whose journal holds a year of an active trader's orders, written fast with sqlite3."""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.paths import AppPaths
from app.storage.database import open_database

SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "META", "GOOGL", "TSLA", "SPY", "QQQ", "IWM", "AMD", "NFLX")
_INSERT = (
    "INSERT INTO orders (client_order_id, mode, broker, symbol, asset_class, side, quantity, order_type, "
    "time_in_force, limit_price, stop_price, extended_hours, position_effect, status, status_reason, "
    "filled_quantity, average_fill_price, broker_order_id, stop_triggered, created_at, updated_at) "
    "VALUES (?, 'paper', 'paper', ?, 'equity', ?, ?, ?, 'day', ?, NULL, 0, 'auto', ?, ?, ?, ?, NULL, 0, ?, ?)"
)


def filled_folder(root: Path, orders: int) -> AppPaths:
    """A data folder migrated by the app, with `orders` finished paper orders in its journal."""
    paths = AppPaths(root.resolve()).ensure()
    open_database(paths.database, paths.backups).dispose()
    if orders:
        rng = random.Random(11)
        start = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
        rows = []
        for n in range(orders):
            at = (start + timedelta(minutes=3 * n)).isoformat()
            price = f"{rng.randint(1_000, 50_000) / 100:.2f}"
            filled = rng.random() < 0.7
            rows.append(
                (
                    f"tb-bench-{n:08d}",
                    SYMBOLS[n % len(SYMBOLS)],
                    "buy" if n % 2 else "sell",
                    str(rng.choice((1, 5, 10, 25, 100))),
                    "limit",
                    price,
                    "filled" if filled else "canceled",
                    f"filled at {price}" if filled else "canceled at your request",
                    "10" if filled else "0",
                    price if filled else None,
                    at,
                    at,
                )
            )
        with closing(sqlite3.connect(paths.database)) as connection:
            with connection:
                connection.executemany(_INSERT, rows)
    return paths
