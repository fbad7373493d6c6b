"""The paper account's history from its journal: cash and equity at each session's close, and drawdown.

Cash is exact: starting cash, less what each buy cost and plus what each sale raised, less every
commission, as the paper engine books them. Equity at a close is that cash plus the positions
valued at the session's closing price where one is known (a cached daily bar), else at the
symbol's last fill price up to that day, the only price the journal itself holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.domain.market_calendar import UsEquityCalendar, local_date
from app.domain.models import Fill, Side
from app.domain.symbols import SymbolError, parse_symbol

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """An account's value at a moment; ``cash`` is None where the source gives equity only (a broker's history)."""

    at: datetime
    cash: Decimal | None
    equity: Decimal


def _multiplier(symbol: str) -> Decimal:
    try:
        return parse_symbol(symbol).multiplier
    except SymbolError:
        return Decimal(1)


class JournalReplay:
    """Applies fills in time order and values the book; each fill costs one update."""

    def __init__(self, starting_cash: Decimal) -> None:
        self.cash = starting_cash
        self.quantities: dict[str, Decimal] = {}
        self.last_price: dict[str, Decimal] = {}

    def apply(self, fill: Fill) -> None:
        flow = fill.quantity * fill.price * _multiplier(fill.symbol)
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        self.cash += (-flow if fill.side is Side.BUY else flow) - fill.commission
        self.quantities[fill.symbol] = self.quantities.get(fill.symbol, ZERO) + signed
        self.last_price[fill.symbol] = fill.price

    def equity(self, price_of: Callable[[str], Decimal | None]) -> Decimal:
        total = self.cash
        for symbol, quantity in self.quantities.items():
            if quantity == 0:
                continue
            price = price_of(symbol)
            if price is None:
                price = self.last_price[symbol]
            total += quantity * price * _multiplier(symbol)
        return total


def end_of_day_curve(
    starting_cash: Decimal,
    started_at: datetime,
    fills: Iterable[Fill],
    closes: Mapping[tuple[str, date], Decimal],
    now: datetime,
    calendar: UsEquityCalendar | None = None,
) -> list[EquityPoint]:
    """The starting point, then one point at each session close from the start until ``now``."""
    calendar = calendar or UsEquityCalendar()
    ordered = sorted((f for f in fills if f.filled_at >= started_at), key=lambda f: f.filled_at)
    replay = JournalReplay(starting_cash)
    points = [EquityPoint(started_at, starting_cash, starting_cash)]
    day, last_day, index = local_date(started_at), local_date(now), 0
    while day <= last_day:
        session = calendar.session(day)
        if session is not None and started_at < session.close <= now:
            while index < len(ordered) and ordered[index].filled_at <= session.close:
                replay.apply(ordered[index])
                index += 1
            equity = replay.equity(lambda symbol, d=day: closes.get((symbol, d)))
            points.append(EquityPoint(session.close, replay.cash, equity))
        day += timedelta(days=1)
    return points


def drawdowns(points: Sequence[EquityPoint]) -> list[Decimal]:
    """Each point's fall from the highest equity before it, as a fraction (0 at a new high, -0.05 = 5 % down)."""
    out: list[Decimal] = []
    peak: Decimal | None = None
    for point in points:
        peak = point.equity if peak is None or point.equity > peak else peak
        out.append((point.equity - peak) / peak if peak > 0 else ZERO)
    return out


def max_drawdown(points: Sequence[EquityPoint]) -> tuple[Decimal, Decimal]:
    """The deepest fall from a peak: (fraction, amount in dollars), both zero or negative."""
    worst, amount, peak = ZERO, ZERO, None
    for point in points:
        peak = point.equity if peak is None or point.equity > peak else peak
        if peak > 0 and (point.equity - peak) / peak < worst:
            worst, amount = (point.equity - peak) / peak, point.equity - peak
    return worst, amount
