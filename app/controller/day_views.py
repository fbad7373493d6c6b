"""Positions and the account with their day P&L: what the paper and live controllers hand to the views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from app.controller.views import PositionView
from app.domain.day_change import TodayTrades, account_day_change, position_day_change, position_day_pnl
from app.domain.models import AccountSummary, Position
from app.domain.symbols import SymbolError, parse_symbol


@dataclass(frozen=True, slots=True)
class DayPositions:
    """The rows of the positions table, and the day P&L of every symbol held or traded today."""

    views: list[PositionView]
    pnls: list[Decimal | None]


def day_positions(
    held: Iterable[tuple[Position, Decimal | None]], prev_closes: Mapping[str, Decimal], today: TodayTrades
) -> DayPositions:
    """Positions (with their marks) measured from the previous close; symbols closed today count for the account."""
    views: list[PositionView] = []
    pnls: list[Decimal | None] = []
    seen: set[str] = set()
    for position, mark in held:
        symbol = position.symbol
        seen.add(symbol)
        prev_close = prev_closes.get(symbol)
        change = position_day_change(position.quantity, position.multiplier, mark, prev_close, today.of(symbol))
        pnls.append(None if change is None else change.pnl)
        if position.quantity != 0:
            views.append(PositionView(position, mark, prev_close=prev_close, day=change))
    for symbol in sorted(today.symbols() - seen):
        pnls.append(position_day_pnl(Decimal(0), _multiplier(symbol), None, prev_closes.get(symbol), today.of(symbol)))
    return DayPositions(views, pnls)


def with_day(summary: AccountSummary, pnls: Iterable[Decimal | None]) -> AccountSummary:
    day = account_day_change(pnls, summary.equity)
    if day is None:
        return replace(summary, day_pnl=None, day_change_pct=None)
    return replace(summary, day_pnl=day.pnl, day_change_pct=day.percent)


def _multiplier(symbol: str) -> Decimal:
    try:
        return parse_symbol(symbol).multiplier
    except SymbolError:
        return Decimal(1)
