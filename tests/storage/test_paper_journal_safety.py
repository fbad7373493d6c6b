"""An engine step's write is all or nothing on disk (a failing statement, a full disk, a killed process), and
its prepared statements store exactly the rows the ORM would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.models import Fill, Order, OrderStatus
from app.paths import AppPaths
from app.storage.database import Database, open_database
from app.storage.fills_repository import fill_of_row
from app.storage.order_events import event_values, load_events
from app.storage.orders_repository import load_fills, order_to_row, row_to_order
from app.storage.paper_repository import PAPER_BROKER, load_paper_state, save_paper_update
from app.storage.schema import FillRow, OrderEventRow, OrderRow, PaperAccountRow, PaperPositionRow
from tests.storage.journal_crash_child import (
    FILL,
    FILLED,
    FILLED_AT,
    OPENED,
    POSITION,
    RESTING,
    SECOND,
    first_step,
    second_step,
)

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("paper_account", "orders", "order_events", "fills", "paper_positions")


def _dump(db_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the paper journal's tables, as SQLite holds them."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}


def _opened(folder: Path) -> tuple[AppPaths, Database]:
    paths = AppPaths(folder).ensure()
    return paths, open_database(paths.database, paths.backups)


def _after_first_step(folder: Path) -> tuple[AppPaths, Database]:
    paths, db = _opened(folder)
    first_step(db)
    return paths, db


def test_a_step_whose_later_statement_fails_leaves_nothing_of_it_on_disk(tmp_path: Path) -> None:
    paths, db = _after_first_step(tmp_path / "data")
    before = _dump(paths.database)
    # The fills statement comes after cash, orders and their events: its fill names an order that does not exist.
    stray = replace(FILL, client_order_id="tb-never-placed", fill_id="f-stray")
    with pytest.raises(IntegrityError, match="FOREIGN KEY") as failed:
        db.write(
            lambda c: save_paper_update(
                c, cash=Decimal("1.00"), orders=[FILLED, SECOND], fills=[FILL, stray], positions=[POSITION]
            )
        )
    assert _dump(paths.database) == before
    # Reported as the rest of storage reports a failed statement, with the statement that failed.
    assert isinstance(failed.value.orig, sqlite3.IntegrityError)
    assert not isinstance(failed.value, sqlite3.Error)
    assert failed.value.statement is not None and failed.value.statement.startswith("INSERT INTO fills")
    # The connection is usable afterwards, and the same step without the stray fill is written whole.
    second_step(db)
    state = db.transaction(lambda s: load_paper_state(s, Decimal(5), OPENED))
    db.dispose()
    assert state.cash == Decimal("98108.50")
    assert state.orders == (SECOND,)
    assert state.positions == (POSITION,)


def test_a_step_that_finds_the_disk_full_leaves_nothing_of_it_and_the_next_one_succeeds(tmp_path: Path) -> None:
    paths, db = _after_first_step(tmp_path / "data")
    before = _dump(paths.database)
    # SQLite's own "database or disk is full": the file may not grow past the pages it has now.
    pages = db.transaction(lambda s: s.connection().exec_driver_sql("PRAGMA page_count").scalar())
    # Every connection is opened again through the engine, the write connection too, with the limit.
    db.writes.close()
    db.engine.dispose()
    full = event.listens_for(db.engine, "connect")(lambda conn, _record: conn.execute(f"PRAGMA max_page_count={pages}"))
    reasons = [
        replace(SECOND, request=replace(SECOND.request, client_order_id=f"tb-bulk-{n}"), status_reason="x" * 2000)
        for n in range(200)
    ]
    with pytest.raises(OperationalError, match="full"):
        db.write(
            lambda c: save_paper_update(c, cash=Decimal("7"), orders=[FILLED, *reasons], fills=[FILL], positions=[])
        )
    assert _dump(paths.database) == before
    event.remove(db.engine, "connect", full)
    db.writes.close()
    db.engine.dispose()
    second_step(db)
    state = db.transaction(lambda s: load_paper_state(s, Decimal(5), OPENED))
    fills = db.transaction(lambda s: load_fills(s, FILL.client_order_id))
    db.dispose()
    assert (state.cash, state.orders, fills) == (Decimal("98108.50"), (SECOND,), [FILL])


@pytest.mark.subprocess
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash driver forks")
def test_sigkill_at_every_statement_of_a_step_keeps_the_step_whole_or_absent(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRADEBRIDGE_DATA_DIR"}
    work = tmp_path / "runs"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "tests.storage.journal_crash_child", str(work)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    count = int(result.stdout.strip())
    statements = (work / "statements.txt").read_text().splitlines()
    # Each row of each statement is a kill point, from BEGIN to COMMIT: cash, two orders, their two events, the
    # fill, the position.
    assert [" ".join(q.split()[:3]) for q in statements] == [
        "BEGIN IMMEDIATE", "UPDATE paper_account SET", "INSERT INTO orders", "INSERT INTO orders", "INSERT INTO order_events",
        "INSERT INTO order_events", "INSERT INTO fills", "INSERT INTO paper_positions", "COMMIT",
    ]
    assert count == len(statements)

    reference_paths, reference = _after_first_step(tmp_path / "reference")
    reference.dispose()
    only_first = _dump(reference_paths.database)
    reference = open_database(reference_paths.database, reference_paths.backups)
    second_step(reference)
    reference.dispose()
    both = _dump(reference_paths.database)

    for kill_at in range(1, count + 1):
        paths, db = _opened(work / str(kill_at))
        db.dispose()
        assert _dump(paths.database) == only_first, f"killed before statement {kill_at}: {statements[kill_at - 1]}"
    paths, db = _opened(work / "after")
    state = db.transaction(lambda s: load_paper_state(s, Decimal(5), OPENED))
    db.dispose()
    assert _dump(paths.database) == both
    assert (state.cash, state.orders, state.positions) == (Decimal("98108.50"), (SECOND,), (POSITION,))


def _written_through_the_orm(db: Database, cash: Decimal, orders: list[Order], fills: list[Fill]) -> None:
    def work(session) -> None:  # type: ignore[no-untyped-def]
        session.get(PaperAccountRow, 1).cash = cash
        for order in orders:
            session.merge(order_to_row(order, PAPER_BROKER))
            session.flush()
            session.add(OrderEventRow(**event_values(order)))
        for fill in fills:
            session.add(
                FillRow(
                    fill_id=fill.fill_id, client_order_id=fill.client_order_id, symbol=fill.symbol,
                    side=fill.side.value, quantity=fill.quantity, price=fill.price, commission=fill.commission,
                    filled_at=fill.filled_at,
                )
            )
        session.add(
            PaperPositionRow(
                symbol=POSITION.symbol, asset_class=POSITION.asset_class.value, quantity=POSITION.quantity,
                average_cost=POSITION.average_cost, realized_pnl=POSITION.realized_pnl,
            )
        )

    db.transaction(work)


_decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4, allow_nan=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=_decimals,
    quantity=st.decimals(min_value=Decimal(1), max_value=Decimal(10_000), places=0),
    reason=st.text(max_size=40),
    extended=st.booleans(),
    queued=st.booleans(),
)
def test_prepared_rows_are_the_rows_the_orm_stores_and_read_back_identical(
    tmp_path_factory: pytest.TempPathFactory,
    price: Decimal,
    quantity: Decimal,
    reason: str,
    extended: bool,
    queued: bool,
) -> None:
    request = replace(RESTING.request, quantity=quantity, limit_price=price, extended_hours=extended)
    filled = replace(
        FILLED, request=request, filled_quantity=quantity, average_fill_price=price, status_reason=reason,
        stop_triggered=extended, queued_at=FILLED_AT if queued else None,
    )
    fill = replace(FILL, quantity=quantity, price=price, commission=price / 7)
    ours_paths, ours = _after_first_step(tmp_path_factory.mktemp("prepared"))
    orm_paths, orm = _after_first_step(tmp_path_factory.mktemp("orm"))
    ours.write(
        lambda c: save_paper_update(c, cash=price * 3, orders=[filled, SECOND], fills=[fill], positions=[POSITION])
    )
    _written_through_the_orm(orm, price * 3, [filled, SECOND], [fill])
    read = ours.transaction(
        lambda s: (
            [row_to_order(r) for r in s.scalars(select(OrderRow).order_by(OrderRow.client_order_id))],
            load_fills(s, filled.client_order_id),
            [fill_of_row(r) for r in s.scalars(select(FillRow))],
            load_events(s, filled.client_order_id),
            load_paper_state(s, Decimal(5), OPENED).cash,
        )
    )
    ours.dispose()
    orm.dispose()

    assert _dump(ours_paths.database) == _dump(orm_paths.database)
    orders, fills, fill_rows, events, cash = read
    assert orders == [filled, SECOND]
    assert fills == fill_rows == [fill]
    assert [e.status for e in events] == [OrderStatus.NEW, OrderStatus.FILLED]
    assert (events[-1].reason, events[-1].filled_quantity, events[-1].average_fill_price) == (reason, quantity, price)
    assert cash == price * 3
