"""The paper account survives a restart exactly: cash, orders, fills and positions, all in Decimal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

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
from app.storage.database import open_database
from app.storage.orders_repository import load_fills, load_orders
from app.storage.paper_repository import load_paper_state, reset_paper_account, save_paper_update

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "data").ensure()


def _order(symbol: str, status: OrderStatus, **extra: object) -> Order:
    request = OrderRequest(
        instrument=parse_symbol(symbol),
        side=Side.BUY,
        quantity=Decimal("3"),
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal("189.07"),
    )
    return Order(request=request, mode=TradingMode.PAPER, status=status, created_at=NOW, updated_at=NOW, **extra)


def test_state_survives_reopening_the_database(paths: AppPaths) -> None:
    filled = _order("AAPL", OrderStatus.FILLED, filled_quantity=Decimal(3), average_fill_price=Decimal("189.07"))
    resting = _order("AAPL250117C00150000", OrderStatus.NEW, status_reason="resting: ask 1.20 above limit")
    fill = Fill(filled.client_order_id, "AAPL", Side.BUY, Decimal(3), Decimal("189.07"), Decimal("1.00"), NOW, "f-1")
    position = Position("AAPL", AssetClass.EQUITY, Decimal(3), Decimal("189.07"), Decimal("0"))

    db = open_database(paths.database, paths.backups)
    db.transaction(lambda s: load_paper_state(s, Decimal("100000"), NOW))
    db.write(
        lambda c: save_paper_update(
            c, cash=Decimal("99431.79"), orders=[filled, resting], fills=[fill], positions=[position]
        )
    )
    db.dispose()

    db = open_database(paths.database, paths.backups)
    state = db.transaction(lambda s: load_paper_state(s, Decimal("5"), NOW))
    fills = db.transaction(lambda s: load_fills(s, filled.client_order_id))
    journal = db.transaction(lambda s: load_orders(s, TradingMode.PAPER))
    db.dispose()

    assert state.cash == Decimal("99431.79")
    assert state.starting_cash == Decimal("100000")
    # The engine gets the working orders only; the finished ones stay in the journal.
    assert state.orders == (resting,)
    assert {o.client_order_id: o for o in journal} == {
        filled.client_order_id: filled,
        resting.client_order_id: resting,
    }
    assert state.positions == (position,)
    assert fills == [fill]


def test_an_engine_step_updates_orders_in_place_without_reading_first(paths: AppPaths) -> None:
    resting = _order("AAPL", OrderStatus.NEW, status_reason="resting: ask 190.00 above limit 189.07")
    filled = replace(
        resting, status=OrderStatus.FILLED, filled_quantity=Decimal(3), average_fill_price=Decimal("189.07"),
        status_reason="filled at 189.07",
    )
    others = [_order("MSFT", OrderStatus.NEW) for _ in range(3)]
    fill = Fill(resting.client_order_id, "AAPL", Side.BUY, Decimal(3), Decimal("189.07"), Decimal("0"), NOW, "f-3")
    position = Position("AAPL", AssetClass.EQUITY, Decimal(3), Decimal("189.07"))
    db = open_database(paths.database, paths.backups)
    db.transaction(lambda s: load_paper_state(s, Decimal("100000"), NOW))
    db.write(lambda c: save_paper_update(c, cash=Decimal(100000), orders=[resting, *others], fills=[], positions=[]))

    statements: list[str] = []
    # SQLite's own trace of the connection: every statement it runs, whichever API sent it.
    db.writes.connection().set_trace_callback(statements.append)
    db.write(
        lambda c: save_paper_update(c, cash=Decimal("99432.79"), orders=[filled], fills=[fill], positions=[position])
    )
    db.writes.connection().set_trace_callback(None)
    state = db.transaction(lambda s: load_paper_state(s, Decimal("5"), NOW))
    journal = db.transaction(lambda s: load_orders(s, TradingMode.PAPER))
    db.dispose()

    # cash, the orders upserted, their history events, the fills, the positions: one statement each, no read.
    assert [" ".join(q.split()[:3]) for q in statements] == [
        "BEGIN IMMEDIATE",
        "UPDATE paper_account SET",
        "INSERT INTO orders",
        "INSERT INTO order_events",
        "INSERT INTO fills",
        "INSERT INTO paper_positions",
        "COMMIT",
    ]
    assert {o.client_order_id: o for o in journal}[resting.client_order_id] == filled
    assert len(journal) == 4
    assert state.cash == Decimal("99432.79")
    assert state.orders == tuple(sorted(others, key=lambda o: o.client_order_id))
    assert state.positions == (position,)


def test_closed_position_row_is_removed(paths: AppPaths) -> None:
    db = open_database(paths.database, paths.backups)
    db.transaction(lambda s: load_paper_state(s, Decimal("100000"), NOW))
    opened = Position("MSFT", AssetClass.EQUITY, Decimal(2), Decimal("400"), Decimal("0"))
    closed = Position("MSFT", AssetClass.EQUITY, Decimal(0), Decimal("0"), Decimal("0"))
    db.write(lambda c: save_paper_update(c, cash=Decimal("1"), orders=[], fills=[], positions=[opened]))
    db.write(lambda c: save_paper_update(c, cash=Decimal("1"), orders=[], fills=[], positions=[closed]))
    state = db.transaction(lambda s: load_paper_state(s, Decimal("100000"), NOW))
    db.dispose()
    assert state.positions == ()


def test_reset_clears_paper_history_and_restores_cash(paths: AppPaths) -> None:
    order = _order("AAPL", OrderStatus.FILLED, filled_quantity=Decimal(3), average_fill_price=Decimal("189.07"))
    fill = Fill(order.client_order_id, "AAPL", Side.BUY, Decimal(3), Decimal("189.07"), Decimal("0"), NOW, "f-2")
    db = open_database(paths.database, paths.backups)
    db.transaction(lambda s: load_paper_state(s, Decimal("100000"), NOW))
    db.write(
        lambda c: save_paper_update(
            c,
            cash=Decimal("10"),
            orders=[order],
            fills=[fill],
            positions=[Position("AAPL", AssetClass.EQUITY, Decimal(3), Decimal("189.07"))],
        )
    )
    db.transaction(lambda s: reset_paper_account(s, Decimal("25000"), NOW))
    state = db.transaction(lambda s: load_paper_state(s, Decimal("100000"), NOW))
    db.dispose()
    assert (state.cash, state.starting_cash, state.orders, state.positions) == (Decimal("25000"), Decimal("25000"), (), ())
