"""#5 Durable journal: paper orders written per second (synchronous=FULL), against bare sqlite3 with the same pragmas.

Both sides do what placing a paper order writes, one transaction per order: the account's cash and the
order row. Ours goes through the app's Database (`Database.write`) and `save_paper_update`; the baseline is
sqlite3 with the two statements written out by hand on the same schema.
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.domain.models import Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce, TradingMode
from app.domain.symbols import parse_symbol
from app.storage.database import open_database
from app.storage.paper_repository import load_paper_state, save_paper_update
from benchmarks.harness import Figure, interleaved, median, timed

ORDERS_PER_RUN = 200
START = datetime(2025, 3, 11, 15, 0, tzinfo=UTC)


def _orders(prefix: str, count: int) -> list[Order]:
    orders = []
    for n in range(count):
        at = START + timedelta(seconds=n)
        request = OrderRequest(
            instrument=parse_symbol("AAPL"),
            side=Side.BUY,
            quantity=Decimal(10),
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            limit_price=Decimal("189.07"),
            client_order_id=f"tb-{prefix}-{n:06d}",
        )
        orders.append(
            Order(
                request=request, mode=TradingMode.PAPER, status=OrderStatus.NEW, created_at=at, updated_at=at,
                status_reason="resting: ask 190.10 above limit 189.07",
            )
        )
    return orders


_BARE_INSERT = (
    "INSERT INTO orders (client_order_id, mode, broker, symbol, asset_class, side, quantity, order_type, "
    "time_in_force, limit_price, stop_price, extended_hours, position_effect, status, status_reason, "
    "filled_quantity, average_fill_price, broker_order_id, stop_triggered, created_at, updated_at) "
    "VALUES (?, 'paper', 'paper', 'AAPL', 'equity', 'buy', '10', 'limit', 'gtc', '189.07', NULL, 0, 'auto', "
    "'new', 'resting: ask 190.10 above limit 189.07', '0', NULL, NULL, 0, ?, ?)"
)


def run(repeats: int = 7) -> list[Figure]:
    with tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-journal-") as folder:
        root = Path(folder)
        ours_db = open_database(root / "ours.sqlite3", root / "backups")
        ours_db.transaction(lambda s: load_paper_state(s, Decimal(100_000), START))
        # The bare side writes to a database with the same schema, through sqlite3 with the same pragmas.
        bare_db = open_database(root / "bare.sqlite3", root / "backups")
        bare_db.dispose()
        bare = sqlite3.connect(root / "bare.sqlite3", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "secure_delete=ON", "busy_timeout=5000"):
            bare.execute(f"PRAGMA {pragma}")
        bare.execute("INSERT INTO paper_account (id, starting_cash, cash, created_at) VALUES (1, '100000', '100000', ?)",
                     (START.isoformat(),))
        with closing(bare):
            rounds = iter(range(repeats))
            bare_rounds = iter(range(repeats))

            def ours() -> float:
                batch = _orders(f"o{next(rounds)}", ORDERS_PER_RUN)

                def work() -> None:
                    for order in batch:
                        ours_db.write(
                            lambda c, o=order: save_paper_update(
                                c, cash=Decimal(100_000), orders=(o,), fills=(), positions=()
                            )
                        )

                return ORDERS_PER_RUN / timed(work)

            def baseline() -> float:
                prefix = f"b{next(bare_rounds)}"

                def work() -> None:
                    for n in range(ORDERS_PER_RUN):
                        at = (START + timedelta(seconds=n)).isoformat()
                        bare.execute("BEGIN")
                        bare.execute("UPDATE paper_account SET cash = ? WHERE id = 1", ("100000",))
                        bare.execute(_BARE_INSERT, (f"tb-{prefix}-{n:06d}", at, at))
                        bare.execute("COMMIT")

                return ORDERS_PER_RUN / timed(work)

            samples = interleaved({"ours": ours, "baseline": baseline}, repeats)
        ours_db.dispose()
    ours_rate, base_rate = median(samples["ours"]), median(samples["baseline"])
    return [
        Figure(
            "5",
            "durable journal: paper orders written/s, one transaction each (`synchronous=FULL`)",
            ours_rate,
            base_rate,
            "orders/s",
            "≤ 2× the baseline's time",
            base_rate / ours_rate <= 2,
            rate=True,
        )
    ]
