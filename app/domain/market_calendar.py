"""The US equity market calendar: NYSE holidays, early closes and session hours, computed for any year."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)
PRE_MARKET_OPEN = time(4, 0)
POST_MARKET_CLOSE = time(20, 0)
# On early-close days NYSE Arca and Nasdaq end their late sessions at 17:00 instead of 20:00.
EARLY_POST_MARKET_CLOSE = time(17, 0)

# First year each holiday closed the NYSE; earlier years are computed without it.
_MLK_FROM = 1998
_JUNETEENTH_FROM = 2022

# Unscheduled full-day closures announced by the NYSE; rules cannot predict these.
SPECIAL_CLOSURES: Mapping[date, str] = MappingProxyType(
    {
        date(2001, 9, 11): "September 11 attacks",
        date(2001, 9, 12): "September 11 attacks",
        date(2001, 9, 13): "September 11 attacks",
        date(2001, 9, 14): "September 11 attacks",
        date(2004, 6, 11): "National Day of Mourning for President Reagan",
        date(2007, 1, 2): "National Day of Mourning for President Ford",
        date(2012, 10, 29): "Hurricane Sandy",
        date(2012, 10, 30): "Hurricane Sandy",
        date(2018, 12, 5): "National Day of Mourning for President George H. W. Bush",
        date(2025, 1, 9): "National Day of Mourning for President Carter",
    }
)

# How far ahead next_open looks; the longest NYSE closure on record (September 2001) was six days.
_SEARCH_DAYS = 30


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day's hours, all aware datetimes in New York time."""

    day: date
    open: datetime
    close: datetime
    extended_open: datetime
    extended_close: datetime
    early_close: bool = False

    def contains(self, now: datetime, *, extended: bool = False) -> bool:
        start, end = (self.extended_open, self.extended_close) if extended else (self.open, self.close)
        return start <= now < end

    def start(self, *, extended: bool = False) -> datetime:
        return self.extended_open if extended else self.open

    def end(self, *, extended: bool = False) -> datetime:
        return self.extended_close if extended else self.close


def easter_sunday(year: int) -> date:
    """Gregorian Easter by the anonymous (Meeus/Jones/Butcher) computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observe(found: dict[date, str], day: date, name: str) -> None:
    """Record a holiday on the day it is observed: Saturday moves to Friday, Sunday to Monday."""
    shift = {5: -1, 6: 1}.get(day.weekday(), 0)
    if shift:
        found[day + timedelta(days=shift)] = f"{name} (observed)"
    else:
        found[day] = name


def _rule_holidays(year: int) -> dict[date, str]:
    monday, thursday = 0, 3
    found: dict[date, str] = {}

    new_year = date(year, 1, 1)
    # NYSE Rule 7.2: a Saturday New Year's Day is not observed on Friday, which ends the accounting year.
    if new_year.weekday() != 5:
        _observe(found, new_year, "New Year's Day")
    if year >= _MLK_FROM:
        found[_nth_weekday(year, 1, monday, 3)] = "Martin Luther King, Jr. Day"
    found[_nth_weekday(year, 2, monday, 3)] = "Washington's Birthday"
    found[easter_sunday(year) - timedelta(days=2)] = "Good Friday"
    found[_last_weekday(year, 5, monday)] = "Memorial Day"
    if year >= _JUNETEENTH_FROM:
        _observe(found, date(year, 6, 19), "Juneteenth National Independence Day")
    _observe(found, date(year, 7, 4), "Independence Day")
    found[_nth_weekday(year, 9, monday, 1)] = "Labor Day"
    found[_nth_weekday(year, 11, thursday, 4)] = "Thanksgiving Day"
    _observe(found, date(year, 12, 25), "Christmas Day")
    return found


class UsEquityCalendar:
    """NYSE/Nasdaq trading days and hours.

    Regular session 09:30-16:00, pre-market from 04:00, post-market to 20:00 (America/New_York).
    Early-close days end the regular session at 13:00 and the post-market at 17:00.
    """

    def __init__(self, special_closures: Mapping[date, str] = SPECIAL_CLOSURES) -> None:
        self._special_closures = dict(special_closures)
        self._holidays: dict[int, dict[date, str]] = {}
        self._early_closes: dict[int, dict[date, str]] = {}
        # Sessions by day, built once: every quote asks for today's, and a Session is immutable.
        self._sessions: dict[date, Session | None] = {}

    def holidays(self, year: int) -> dict[date, str]:
        """Full-day closures in the year (observed dates), in date order, with their names."""
        return dict(self._year_holidays(year))

    def _year_holidays(self, year: int) -> dict[date, str]:
        if year not in self._holidays:
            found = _rule_holidays(year)
            found.update({d: name for d, name in self._special_closures.items() if d.year == year})
            self._holidays[year] = dict(sorted(found.items()))
        return self._holidays[year]

    def early_closes(self, year: int) -> dict[date, str]:
        """Days the regular session ends at 13:00, in date order, with the reason."""
        return dict(self._year_early_closes(year))

    def _year_early_closes(self, year: int) -> dict[date, str]:
        if year not in self._early_closes:
            holidays = self._year_holidays(year)
            candidates = {
                date(year, 7, 3): "Day before Independence Day",
                _nth_weekday(year, 11, 3, 4) + timedelta(days=1): "Day after Thanksgiving",
                date(year, 12, 24): "Christmas Eve",
            }
            # A weekend July 4 is observed on Friday July 3 or Monday July 5, and July 3 is then no early
            # close: the weekday and holiday tests below drop it, as the NYSE calendars do.
            found = {
                day: reason
                for day, reason in candidates.items()
                if day.weekday() < 5 and day not in holidays
            }
            self._early_closes[year] = dict(sorted(found.items()))
        return self._early_closes[year]

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._year_holidays(day.year)

    def session(self, day: date) -> Session | None:
        """The session of a trading day, or None on weekends and holidays."""
        try:
            return self._sessions[day]
        except KeyError:
            session = self._sessions[day] = self._build_session(day)
            return session

    def _build_session(self, day: date) -> Session | None:
        if not self.is_trading_day(day):
            return None
        early = day in self._year_early_closes(day.year)
        return Session(
            day=day,
            open=_at(day, REGULAR_OPEN),
            close=_at(day, EARLY_CLOSE if early else REGULAR_CLOSE),
            extended_open=_at(day, PRE_MARKET_OPEN),
            extended_close=_at(day, EARLY_POST_MARKET_CLOSE if early else POST_MARKET_CLOSE),
            early_close=early,
        )

    def is_open(self, now: datetime, *, extended: bool = False) -> bool:
        """True inside the regular session, or inside 04:00-20:00 of a trading day when extended."""
        session = self.session(local_date(now))
        return session is not None and session.contains(now, extended=extended)

    def next_open(self, now: datetime, *, extended: bool = False) -> datetime:
        """The first session open (pre-market open when extended) strictly after now."""
        for session in self._sessions_from(now):
            if session.start(extended=extended) > now:
                return session.start(extended=extended)
        raise ValueError(f"No trading session within {_SEARCH_DAYS} days of {now.isoformat()}.")

    def trading_session(self, now: datetime, *, extended: bool = False) -> Session:
        """The session an order placed at now trades in: today's until it ends, else the next one."""
        for session in self._sessions_from(now):
            if now < session.end(extended=extended):
                return session
        raise ValueError(f"No trading session within {_SEARCH_DAYS} days of {now.isoformat()}.")

    def _sessions_from(self, now: datetime) -> Iterator[Session]:
        """Sessions from now's New York date on, for a bounded number of calendar days."""
        day = local_date(now)
        for offset in range(_SEARCH_DAYS):
            session = self.session(day + timedelta(days=offset))
            if session is not None:
                yield session


def local_date(now: datetime) -> date:
    """The New York calendar date of an aware instant."""
    return require_aware(now).astimezone(NEW_YORK).date()


#: Time zone classes whose offset is never None: an instant carrying one is aware without asking for its offset,
#: which for a ZoneInfo means a transition lookup on every quote the paper engine takes.
_ALWAYS_AWARE = frozenset((ZoneInfo, timezone))


def require_aware(now: datetime) -> datetime:
    zone = now.tzinfo
    if type(zone) not in _ALWAYS_AWARE and (zone is None or now.utcoffset() is None):
        raise ValueError("Times must be timezone-aware.")
    return now


def describe_time(moment: datetime) -> str:
    """'09:30 ET on Mon 6 Jan 2025': how a trader reads an instant in messages."""
    local = moment.astimezone(NEW_YORK)
    return f"{local:%H:%M} ET on {local:%a} {local.day} {local:%b %Y}"


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=NEW_YORK)
