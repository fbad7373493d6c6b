"""Persistence of the paper account: cash, positions, orders and fills, written in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.models import AssetClass, Fill, Order, Position, TradingMode
from app.storage.orders_repository import load_orders, save_fills, save_orders
from app.storage.schema import FillRow, OrderRow, PaperAccountRow, PaperPositionRow

ACCOUNT_ID = 1
PAPER_BROKER = "paper"


@dataclass(frozen=True, slots=True)
class PaperState:
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
        orders=tuple(load_orders(session, TradingMode.PAPER)),
    )


def save_paper_update(
    session: Session,
    *,
    cash: Decimal,
    orders: Iterable[Order],
    fills: Iterable[Fill],
    positions: Iterable[Position],
) -> None:
    """Persist what one engine step changed; all of it or none of it."""
    account = session.get(PaperAccountRow, ACCOUNT_ID)
    if account is None:
        raise RuntimeError("the paper account has not been created")
    account.cash = cash
    save_orders(session, orders, PAPER_BROKER)
    save_fills(session, fills)
    for position in positions:
        row = session.get(PaperPositionRow, position.symbol)
        if position.quantity == 0 and position.realized_pnl == 0:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = PaperPositionRow(symbol=position.symbol)
            session.add(row)
        row.asset_class = position.asset_class.value
        row.quantity = position.quantity
        row.average_cost = position.average_cost
        row.realized_pnl = position.realized_pnl


def reset_paper_account(session: Session, starting_cash: Decimal, now: datetime) -> None:
    """Start the paper account over: starting cash, no positions, no paper orders or fills."""
    paper_orders = select(OrderRow.client_order_id).where(OrderRow.mode == TradingMode.PAPER.value)
    session.execute(delete(FillRow).where(FillRow.client_order_id.in_(paper_orders)))
    session.execute(delete(OrderRow).where(OrderRow.mode == TradingMode.PAPER.value))
    session.execute(delete(PaperPositionRow))
    account = session.get(PaperAccountRow, ACCOUNT_ID)
    if account is None:
        session.add(PaperAccountRow(id=ACCOUNT_ID, starting_cash=starting_cash, cash=starting_cash, created_at=now, reset_at=now))
    else:
        account.starting_cash = starting_cash
        account.cash = starting_cash
        account.reset_at = now
