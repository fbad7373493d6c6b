"""Broker accounts' equity samples: exact decimals, kept apart per account, read from a moment on, across a reopen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.paths import AppPaths
from app.storage.broker_equity_repository import add_broker_equity_sample, load_broker_equity_samples
from app.storage.database import open_database

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
ALPACA = "alpaca:live:TB01"
TRADIER = "tradier:paper:0001"


def test_samples_survive_a_reopen_per_account_oldest_first(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "data").ensure()
    database = open_database(paths.database, paths.backups)
    for minutes, key, equity in ((2, ALPACA, "25000.10"), (0, ALPACA, "24999.99"), (1, TRADIER, "100000"), (-5, ALPACA, "1")):
        at = NOW + timedelta(minutes=minutes)
        database.transaction(lambda s, k=key, a=at, e=equity: add_broker_equity_sample(s, k, a, Decimal("500.5"), Decimal(e)))
    database.dispose()

    database = open_database(paths.database, paths.backups)
    try:
        points = database.transaction(lambda s: load_broker_equity_samples(s, ALPACA, NOW))
        others = database.transaction(lambda s: load_broker_equity_samples(s, TRADIER, NOW - timedelta(days=1)))
    finally:
        database.dispose()
    assert [(p.at, p.cash, p.equity) for p in points] == [
        (NOW, Decimal("500.5"), Decimal("24999.99")),
        (NOW + timedelta(minutes=2), Decimal("500.5"), Decimal("25000.10")),
    ]
    assert [p.equity for p in others] == [Decimal("100000")]
