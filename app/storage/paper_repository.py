"""Persistence of the paper account: cash, positions, orders and fills, written in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.models import AssetClass, Fill, Order, OrderStatus, Position, TradingMode
from app.storage.orders_repository import row_to_order, write_fills, write_orders
from app.storage.order_events import delete_events_of
from app.storage.prepared_writes import insert, prepared
from app.storage.schema import FillRow, OrderRow, PaperAccountRow, PaperPositionRow

ACCOUNT_ID = 1
PAPER_BROKER = "paper"


@dataclass(frozen=True, slots=True)
class PaperState:
    """The saved paper account: cash, every position (closed ones carry realized P&L) and the working orders."""

    starting_cash: Decimal
    cash: Decimal
    positions: tuple[Position, ...]
    orders: tuple[Order, ...]


def load_paper_state(session: Session, default_cash: Decimal, now: datetime) -> PaperState:
    """The saved paper account, created with ``default_cash`` on first launch."""
    account = session.get(PaperAccountRow, ACCOUNT_ID)
    if account is None:
        account = PaperAccountRow(id=ACCOUNT_ID, starting_cash=default_cash, cash=default_cash, created_at=now)
        session.add(account)
        session.flush()
    positions = tuple(
        Position(
            symbol=row.symbol,
            asset_class=AssetClass(row.asset_class),
            quantity=row.quantity,
            average_cost=row.average_cost,
            realized_pnl=row.realized_pnl,
        )
        for row in session.scalars(select(PaperPositionRow).order_by(PaperPositionRow.symbol))
    )
    return PaperState(
        starting_cash=account.starting_cash,
        cash=account.cash,
        positions=positions,
        orders=load_open_paper_orders(session),
    )


def save_paper_update(
    connection: sqlite3.Connection,
    *,
    cash: Decimal,
    orders: Iterable[Order],
    fills: Iterable[Fill],
    positions: Iterable[Position],
) -> None:
    """Persist what one engine step changed, inside ``Database.write``'s transaction: all of it or none of it.

    A handful of prepared statements whatever the step changed (cash, orders, fills, positions), with no
    read before a write, on the write connection (see `prepared_writes`), so an engine step costs one
    durable commit and little else.
    """
    if _ACCOUNT_CASH.run(connection, [{"cash": cash, "id": ACCOUNT_ID}]) != 1:
        raise RuntimeError("the paper account has not been created")
    write_orders(connection, orders, PAPER_BROKER)
    write_fills(connection, fills)
    gone: list[dict[str, object]] = []
    kept: list[dict[str, object]] = []
    for position in positions:
        if position.quantity == 0 and position.realized_pnl == 0:
            gone.append({"symbol": position.symbol})
            continue
        kept.append(
            {
                "symbol": position.symbol,
                "asset_class": position.asset_class.value,
                "quantity": position.quantity,
                "average_cost": position.average_cost,
                "realized_pnl": position.realized_pnl,
            }
        )
    if gone:
        _POSITION_DELETE.run(connection, gone)
    if kept:
        _POSITION_UPSERT.run(connection, kept)


def load_open_paper_orders(session: Session) -> tuple[Order, ...]:
    """The paper orders still working, oldest first: what the engine needs after a restart."""
    rows = session.scalars(
        select(OrderRow)
        .where(OrderRow.mode == TradingMode.PAPER.value, OrderRow.status.in_(_OPEN_STATUSES))
        .order_by(OrderRow.created_at, OrderRow.client_order_id)
    )
    return tuple(row_to_order(row) for row in rows)


_OPEN_STATUSES = [status.value for status in OrderStatus if not status.is_terminal]


_POSITIONS = PaperPositionRow.__table__
_POSITION_UPSERT = insert(_POSITIONS, ("symbol", "asset_class", "quantity", "average_cost", "realized_pnl"), "symbol")
_POSITION_DELETE = prepared(_POSITIONS, "DELETE FROM paper_positions WHERE symbol = ?", ("symbol",))
_ACCOUNT_CASH = prepared(PaperAccountRow.__table__, "UPDATE paper_account SET cash = ? WHERE id = ?", ("cash", "id"))


def reset_paper_account(session: Session, starting_cash: Decimal, now: datetime) -> None:
    """Start the paper account over: starting cash, no positions, no paper orders or fills."""
    paper_orders = select(OrderRow.client_order_id).where(OrderRow.mode == TradingMode.PAPER.value)
    session.execute(delete(FillRow).where(FillRow.client_order_id.in_(paper_orders)))
    delete_events_of(session, paper_orders)
    session.execute(delete(OrderRow).where(OrderRow.mode == TradingMode.PAPER.value))
    session.execute(delete(PaperPositionRow))
    account = session.get(PaperAccountRow, ACCOUNT_ID)
    if account is None:
        session.add(PaperAccountRow(id=ACCOUNT_ID, starting_cash=starting_cash, cash=starting_cash, created_at=now, reset_at=now))
    else:
        account.starting_cash = starting_cash
        account.cash = starting_cash
        account.reset_at = now
