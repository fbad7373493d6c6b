"""The bar cache and the paper account's equity samples: saved and read by range, never whole-table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.market_calendar import NEW_YORK
from app.domain.models import Bar, BarInterval, Fill, Side
from app.storage.schema import EquitySampleRow, FillRow, PaperAccountRow, BarRow

ACCOUNT_ID = 1


def save_bars(session: Session, source: str, bars: Iterable[Bar]) -> int:
    """Insert or replace bars (the last bar of a session is rewritten while it forms); returns how many."""
    count = 0
    for bar in bars:
        key = (source, bar.symbol, bar.interval.value, bar.start)
        row = session.get(BarRow, key)
        if row is None:
            row = BarRow(source=source, symbol=bar.symbol, interval=bar.interval.value, start=bar.start)
            session.add(row)
        row.open, row.high, row.low, row.close, row.volume = bar.open, bar.high, bar.low, bar.close, bar.volume
        count += 1
    return count


def load_bars(
    session: Session, source: str, symbol: str, interval: BarInterval, start: datetime, end: datetime
) -> list[Bar]:
    """Cached bars with ``start <= bar.start < end``, oldest first."""
    rows = session.scalars(
        select(BarRow)
        .where(
            BarRow.source == source,
            BarRow.symbol == symbol,
            BarRow.interval == interval.value,
            BarRow.start >= start,
            BarRow.start < end,
        )
        .order_by(BarRow.start)
    )
    return [
        Bar(symbol, interval, row.start, row.open, row.high, row.low, row.close, row.volume)
        for row in rows
    ]


def load_fills(session: Session, symbol: str | None = None) -> list[Fill]:
    """Fills of the journal (one symbol's, or all), oldest first."""
    query = select(FillRow).order_by(FillRow.filled_at, FillRow.id)
    if symbol is not None:
        query = query.where(FillRow.symbol == symbol)
    return [
        Fill(
            client_order_id=row.client_order_id,
            symbol=row.symbol,
            side=Side(row.side),
            quantity=row.quantity,
            price=row.price,
            commission=row.commission,
            filled_at=row.filled_at,
            fill_id=row.fill_id,
        )
        for row in session.scalars(query)
    ]


def paper_start(session: Session) -> tuple[Decimal, datetime] | None:
    """The paper account's starting cash and when it started (its creation or last reset)."""
    account = session.get(PaperAccountRow, ACCOUNT_ID)
    if account is None:
        return None
    return account.starting_cash, account.reset_at or account.created_at


def add_equity_sample(session: Session, at: datetime, cash: Decimal, equity: Decimal) -> None:
    session.add(EquitySampleRow(at=at, cash=cash, equity=equity))


def load_equity_samples(session: Session, since: datetime) -> list[tuple[datetime, Decimal, Decimal]]:
    rows = session.scalars(select(EquitySampleRow).where(EquitySampleRow.at >= since).order_by(EquitySampleRow.at))
    return [(row.at, row.cash, row.equity) for row in rows]


def forget_equity_samples_before(session: Session, moment: datetime) -> None:
    """Samples from before a reset belong to the old account."""
    session.execute(delete(EquitySampleRow).where(EquitySampleRow.at < moment))


def load_daily_closes(session: Session, symbols: Iterable[str], since: datetime) -> dict[tuple[str, date], Decimal]:
    """Closing prices from cached day bars of any source, keyed by (symbol, New York date)."""
    wanted = list(dict.fromkeys(symbols))
    if not wanted:
        return {}
    rows = session.scalars(
        select(BarRow).where(BarRow.symbol.in_(wanted), BarRow.interval == BarInterval.DAY.value, BarRow.start >= since - timedelta(days=1))
    )
    return {(row.symbol, row.start.astimezone(NEW_YORK).date()): row.close for row in rows}
