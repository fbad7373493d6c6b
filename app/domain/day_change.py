"""Day P&L and % change: each position and the account measured from the previous session's close.

Pure functions of their inputs. A position's day P&L counts what was held overnight from the previous
close and what was traded today from its own price, so a position opened, added to, reduced or closed
today reads what the day really made on it:

    day P&L = (mark - previous close) x overnight quantity + sum over today's trades of (mark - price) x signed qty

(times the contract multiplier), where the overnight quantity is the quantity now less today's net trades.
A figure that can't be known (no mark for a held position, no previous close for an overnight one) is
None, never zero: the trader sees "—", not a made-up flat day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from app.domain.market_calendar import NEW_YORK
from app.domain.models import Fill, Side

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Trade:
    """One of today's executions in a symbol: quantity signed (buys positive, sells negative) and its price."""

    quantity: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class DayChange:
    """The day's P&L in money and the % change it stands for (None when the base is zero or unknown)."""

    pnl: Decimal
    percent: Decimal | None


def trading_day(moment: datetime) -> date:
    """The New York calendar day an instant belongs to: the day whose previous close is the reference."""
    return moment.astimezone(NEW_YORK).date()


def day_start(moment: datetime) -> datetime:
    """Midnight in New York on the day of ``moment``: today's trades are the ones from here on."""
    return datetime.combine(trading_day(moment), time(0), NEW_YORK)


def trade_of(fill: Fill) -> Trade:
    return Trade(fill.quantity if fill.side is Side.BUY else -fill.quantity, fill.price)


def position_day_pnl(
    quantity: Decimal,
    multiplier: Decimal,
    mark: Decimal | None,
    prev_close: Decimal | None,
    trades: Sequence[Trade] = (),
) -> Decimal | None:
    """The day's P&L of one symbol; also right for a position closed today (quantity 0: the mark cancels out)."""
    net_today = sum((t.quantity for t in trades), ZERO)
    overnight = quantity - net_today
    if overnight != 0 and prev_close is None:
        return None
    if mark is None:
        if quantity != 0:
            return None
        # Flat now: (mark - close) x overnight + sum((mark - p) x q) loses the mark since overnight = -net_today.
        closed = (prev_close or ZERO) * net_today - sum((t.price * t.quantity for t in trades), ZERO)
        return closed * multiplier
    held = (mark - prev_close) * overnight if overnight != 0 and prev_close is not None else ZERO
    traded = sum(((mark - t.price) * t.quantity for t in trades), ZERO)
    return (held + traded) * multiplier


def price_change_percent(mark: Decimal | None, prev_close: Decimal | None) -> Decimal | None:
    """The symbol's % move since the previous close, the figure a trader reads as "% change"."""
    if mark is None or prev_close is None or prev_close <= 0:
        return None
    return (mark - prev_close) / prev_close * HUNDRED


def position_day_change(
    quantity: Decimal,
    multiplier: Decimal,
    mark: Decimal | None,
    prev_close: Decimal | None,
    trades: Sequence[Trade] = (),
) -> DayChange | None:
    pnl = position_day_pnl(quantity, multiplier, mark, prev_close, trades)
    if pnl is None:
        return None
    return DayChange(pnl, price_change_percent(mark, prev_close))


def account_day_change(pnls: Iterable[Decimal | None], equity: Decimal) -> DayChange | None:
    """The account's day: the sum over every symbol held or traded today, as a % of the equity at the last close.

    The equity at the last close is taken as today's equity less today's P&L (deposits and withdrawals
    made today are not told apart). One unknown symbol makes the whole day unknown.
    """
    total = ZERO
    for pnl in pnls:
        if pnl is None:
            return None
        total += pnl
    base = equity - total
    return DayChange(total, total / base * HUNDRED if base > 0 else None)


class TodayTrades:
    """Today's executions by symbol, started again when the New York day changes.

    Adding a fill costs what it touches; a day holds what was traded that day, never the history.
    """

    def __init__(self, day: date | None = None) -> None:
        self._day = day
        self._by_symbol: dict[str, list[Trade]] = {}

    @property
    def day(self) -> date | None:
        return self._day

    def roll(self, now: datetime) -> None:
        """Forget yesterday's trades once the day has changed."""
        today = trading_day(now)
        if today != self._day:
            self._day = today
            self._by_symbol.clear()

    def add(self, fills: Iterable[Fill]) -> None:
        for fill in fills:
            day = trading_day(fill.filled_at)
            if self._day is None or day > self._day:
                self._day = day
                self._by_symbol.clear()
            if day == self._day:
                self._by_symbol.setdefault(fill.symbol, []).append(trade_of(fill))

    def of(self, symbol: str) -> tuple[Trade, ...]:
        return tuple(self._by_symbol.get(symbol, ()))

    def symbols(self) -> frozenset[str]:
        return frozenset(self._by_symbol)
