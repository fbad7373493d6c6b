"""The US market clock a trader reads in the status bar: open or closed, and how long until that changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.market_calendar import NEW_YORK, UsEquityCalendar, local_date, require_aware


@dataclass(frozen=True, slots=True)
class MarketClock:
    """Whether the regular session is open at ``now``, and the next open or close (New York time)."""

    now: datetime
    is_open: bool
    next_change: datetime
    early_close: bool = False

    @property
    def until_change(self) -> timedelta:
        return self.next_change - self.now

    def text(self) -> str:
        """'Market open · closes 16:00 ET (in 2h 05m)' or 'Market closed · opens Mon 09:30 ET (in 2d 17h)'."""
        change = self.next_change.astimezone(NEW_YORK)
        wait = describe_wait(self.until_change)
        if self.is_open:
            early = " early" if self.early_close else ""
            return f"Market open · closes{early} {change:%H:%M} ET (in {wait})"
        same_day = change.date() == self.now.astimezone(NEW_YORK).date()
        when = f"{change:%H:%M} ET" if same_day else f"{change:%a} {change:%H:%M} ET"
        return f"Market closed · opens {when} (in {wait})"


def market_clock(now: datetime, calendar: UsEquityCalendar | None = None) -> MarketClock:
    """The regular session's state at ``now`` (an aware instant)."""
    require_aware(now)
    calendar = calendar or UsEquityCalendar()
    session = calendar.session(local_date(now))
    if session is not None and session.contains(now):
        return MarketClock(now=now, is_open=True, next_change=session.close, early_close=session.early_close)
    return MarketClock(now=now, is_open=False, next_change=calendar.next_open(now))


def describe_wait(wait: timedelta) -> str:
    """A countdown rounded down to the minute: '45m', '2h 05m', '2d 17h'."""
    minutes = max(0, int(wait.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"
