"""When a price is stale, and how its age reads: "12 s", "4 min", "2 h", "3 d"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.market_calendar import UsEquityCalendar, local_date

#: A quote older than this during the regular session is stale (a setting; see docs/market-data.md).
DEFAULT_STALE_AFTER = timedelta(seconds=30)
#: The stale-after setting's bounds, in seconds: a quote can't be stale sooner, and an hour old is never current.
STALE_AFTER_RANGE = (1, 3600)


def stale_after_setting(seconds: object) -> timedelta:
    """The stale-after setting from what the trader entered, or ValueError saying what is allowed."""
    low, high = STALE_AFTER_RANGE
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
        raise ValueError(f"A quote goes stale after {low} to {high} seconds ({high // 60} minutes); {seconds!r} is not allowed.")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether a price can be shown as current, and its age as a trader reads it."""

    stale: bool
    age: timedelta

    @property
    def age_text(self) -> str:
        return describe_age(self.age)


def describe_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def freshness(
    timestamp: datetime,
    now: datetime,
    *,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    calendar: UsEquityCalendar | None = None,
) -> Freshness:
    """Stale during the regular session when older than ``stale_after``; outside it, when older than the last close.

    Outside the session prices do not move, so the closing quote is the current one until the next
    open; a quote from before that close (yesterday's, last week's) is stale whatever the hour.
    """
    age = now - timestamp
    calendar = calendar or UsEquityCalendar()
    if calendar.is_open(now):
        return Freshness(stale=age > stale_after, age=age)
    last_close = _last_close(calendar, now)
    return Freshness(stale=last_close is not None and timestamp < last_close - stale_after, age=age)


def _last_close(calendar: UsEquityCalendar, now: datetime) -> datetime | None:
    day = local_date(now)
    for back in range(0, 12):
        session = calendar.session(day - timedelta(days=back))
        if session is not None and session.close <= now:
            return session.close
    return None
