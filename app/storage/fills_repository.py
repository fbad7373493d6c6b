"""Executions for the Fills table: the newest first, with the mode of the order each belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.models import Fill, Side, TradingMode
from app.storage.schema import FillRow, OrderRow

RECENT_FILLS = 1000


def recent_fills(session: Session, limit: int = RECENT_FILLS) -> list[tuple[Fill, TradingMode]]:
    """The newest ``limit`` executions of every order, paper and live, newest first."""
    rows = session.execute(
        select(FillRow, OrderRow.mode)
        .join(OrderRow, OrderRow.client_order_id == FillRow.client_order_id)
        .order_by(FillRow.filled_at.desc(), FillRow.id.desc())
        .limit(limit)
    ).all()
    return [(fill_of_row(row), TradingMode(mode)) for row, mode in rows]


def fills_since(
    session: Session, since: datetime, mode: TradingMode, *, broker: str | None = None, account_last4: str | None = None
) -> list[Fill]:
    """The executions of one mode (and, for live, one account) from ``since`` on, oldest first: today's trades."""
    query = (
        select(FillRow)
        .join(OrderRow, OrderRow.client_order_id == FillRow.client_order_id)
        .where(OrderRow.mode == mode.value, FillRow.filled_at >= since)
    )
    if broker is not None:
        query = query.where(OrderRow.broker == broker)
    if account_last4 is not None:
        query = query.where(OrderRow.account_last4 == account_last4)
    return [fill_of_row(row) for row in session.scalars(query.order_by(FillRow.filled_at, FillRow.id))]


def fill_of_row(row: FillRow) -> Fill:
    return Fill(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        price=row.price,
        commission=row.commission,
        filled_at=row.filled_at,
        fill_id=row.fill_id,
    )
