"""A broker account's equity as TradeBridge read it while connected: saved per account, read by range."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.equity_curve import EquityPoint
from app.storage.schema import BrokerEquitySampleRow


def add_broker_equity_sample(session: Session, account_key: str, at: datetime, cash: Decimal, equity: Decimal) -> None:
    """One reading of the account (``broker:environment:last4``, as the risk limits name accounts)."""
    session.add(BrokerEquitySampleRow(account_key=account_key, at=at, cash=cash, equity=equity))


def load_broker_equity_samples(session: Session, account_key: str, since: datetime) -> list[EquityPoint]:
    """That account's readings from ``since`` on, oldest first; other accounts' are never read."""
    rows = session.scalars(
        select(BrokerEquitySampleRow)
        .where(BrokerEquitySampleRow.account_key == account_key, BrokerEquitySampleRow.at >= since)
        .order_by(BrokerEquitySampleRow.at)
    )
    return [EquityPoint(row.at, row.cash, row.equity) for row in rows]
