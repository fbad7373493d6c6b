"""Child for the paper journal crash test: SIGKILLs a process at every statement of one engine step's write.

``python -m tests.storage.journal_crash_child WORK_ROOT`` first forks a process that writes two engine steps
into WORK_ROOT/after, records every SQL statement of the second step's transaction in
WORK_ROOT/statements.txt and SIGKILLs itself once that transaction has returned. Then, for each statement N,
it forks a process that writes the same steps into WORK_ROOT/N and SIGKILLs itself just before statement N
of the second step runs. The parent test checks every folder.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.domain.models import (
    AssetClass,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
    TradingMode,
)
from app.domain.symbols import parse_symbol
from app.paths import AppPaths
from app.storage.database import Database, open_database
from app.storage.paper_repository import load_paper_state, save_paper_update

OPENED = datetime(2026, 3, 11, 14, 30, tzinfo=UTC)
FILLED_AT = OPENED + timedelta(minutes=7)

RESTING = Order(
    request=OrderRequest(
        instrument=parse_symbol("AAPL"),
        side=Side.BUY,
        quantity=Decimal(10),
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal("189.07"),
        client_order_id="tb-crash-1",
    ),
    mode=TradingMode.PAPER,
    status=OrderStatus.NEW,
    created_at=OPENED,
    updated_at=OPENED,
    status_reason="resting: ask 190.10 above limit 189.07",
)
FILLED = replace(
    RESTING,
    status=OrderStatus.FILLED,
    updated_at=FILLED_AT,
    filled_quantity=Decimal(10),
    average_fill_price=Decimal("189.05"),
    status_reason="filled at 189.05",
)
SECOND = Order(
    request=OrderRequest(
        instrument=parse_symbol("MSFT"),
        side=Side.SELL,
        quantity=Decimal(2),
        order_type=OrderType.STOP,
        time_in_force=TimeInForce.DAY,
        stop_price=Decimal("401.5"),
        client_order_id="tb-crash-2",
    ),
    mode=TradingMode.PAPER,
    status=OrderStatus.NEW,
    created_at=FILLED_AT,
    updated_at=FILLED_AT,
)
FILL = Fill("tb-crash-1", "AAPL", Side.BUY, Decimal(10), Decimal("189.05"), Decimal("1.00"), FILLED_AT, "f-crash-1")
POSITION = Position("AAPL", AssetClass.EQUITY, Decimal(10), Decimal("189.05"), Decimal("0"))


def first_step(db: Database) -> None:
    db.transaction(lambda s: load_paper_state(s, Decimal(100000), OPENED))
    db.write(lambda c: save_paper_update(c, cash=Decimal(100000), orders=[RESTING], fills=[], positions=[]))


def second_step(db: Database) -> None:
    """Fills the resting order and places another: cash, two orders (and their events), a fill, a position."""
    db.write(
        lambda c: save_paper_update(
            c, cash=Decimal("98108.50"), orders=[FILLED, SECOND], fills=[FILL], positions=[POSITION]
        )
    )


def _write(folder: Path, kill_at: int, record: Path | None) -> None:
    paths = AppPaths(folder).ensure()
    db = open_database(paths.database, paths.backups)
    first_step(db)
    statements: list[str] = []

    def traced(sql: str) -> None:
        statements.append(sql.strip())
        if len(statements) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    db.writes.connection().set_trace_callback(traced)
    second_step(db)
    if record is not None:
        record.write_text("\n".join(statements) + "\n")
    os.kill(os.getpid(), signal.SIGKILL)


def _forked(folder: Path, kill_at: int, record: Path | None = None) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            _write(folder, kill_at, record)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    if not os.WIFSIGNALED(status) or os.WTERMSIG(status) != signal.SIGKILL:
        raise SystemExit(f"the writer for {folder.name} ended with status {status}, not by SIGKILL")


def main(root: Path) -> None:
    record = root / "statements.txt"
    _forked(root / "after", 0, record)
    count = len(record.read_text().splitlines())
    for kill_at in range(1, count + 1):
        _forked(root / str(kill_at), kill_at)
    print(count)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
