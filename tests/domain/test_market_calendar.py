"""The NYSE calendar against the exchange's published 2025-2028 holidays, early closes and session hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo

import pytest

from app.domain.market_calendar import NEW_YORK, UsEquityCalendar, describe_time, easter_sunday, require_aware

# NYSE Group, "2025, 2026 and 2027 Holiday and Early Closings Calendar" (8 Nov 2024), and the
# 2026-2028 calendar (23 Dec 2025); 9 Jan 2025 is the announced day of mourning for President Carter.
PUBLISHED_HOLIDAYS = {
    2025: [
        date(2025, 1, 1), date(2025, 1, 9), date(2025, 1, 20), date(2025, 2, 17), date(2025, 4, 18),
        date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4), date(2025, 9, 1), date(2025, 11, 27),
        date(2025, 12, 25),
    ],
    2026: [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 4, 3), date(2026, 5, 25),
        date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 11, 26), date(2026, 12, 25),
    ],
    2027: [
        date(2027, 1, 1), date(2027, 1, 18), date(2027, 2, 15), date(2027, 3, 26), date(2027, 5, 31),
        date(2027, 6, 18), date(2027, 7, 5), date(2027, 9, 6), date(2027, 11, 25), date(2027, 12, 24),
    ],
    2028: [
        date(2028, 1, 17), date(2028, 2, 21), date(2028, 4, 14), date(2028, 5, 29), date(2028, 6, 19),
        date(2028, 7, 4), date(2028, 9, 4), date(2028, 11, 23), date(2028, 12, 25),
    ],
}
PUBLISHED_EARLY_CLOSES = {
    2025: [date(2025, 7, 3), date(2025, 11, 28), date(2025, 12, 24)],
    2026: [date(2026, 11, 27), date(2026, 12, 24)],
    2027: [date(2027, 11, 26)],
    2028: [date(2028, 7, 3), date(2028, 11, 24)],
}


@pytest.fixture
def calendar() -> UsEquityCalendar:
    return UsEquityCalendar()


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.mark.parametrize("year", sorted(PUBLISHED_HOLIDAYS))
def test_holidays_match_the_published_nyse_calendar(calendar: UsEquityCalendar, year: int) -> None:
    assert list(calendar.holidays(year)) == PUBLISHED_HOLIDAYS[year]


@pytest.mark.parametrize("year", sorted(PUBLISHED_EARLY_CLOSES))
def test_early_closes_match_the_published_nyse_calendar(calendar: UsEquityCalendar, year: int) -> None:
    assert list(calendar.early_closes(year)) == PUBLISHED_EARLY_CLOSES[year]


def test_observed_holidays_are_named_as_observed(calendar: UsEquityCalendar) -> None:
    names = calendar.holidays(2027)
    assert names[date(2027, 7, 5)] == "Independence Day (observed)"
    assert names[date(2027, 12, 24)] == "Christmas Day (observed)"
    assert names[date(2027, 3, 26)] == "Good Friday"


def test_saturday_new_years_day_is_not_observed_on_the_friday_before(calendar: UsEquityCalendar) -> None:
    assert calendar.session(date(2027, 12, 31)) is not None
    assert calendar.session(date(2021, 12, 31)) is not None
    assert date(2022, 1, 1) not in calendar.holidays(2022)


def test_sunday_new_years_day_moves_to_monday(calendar: UsEquityCalendar) -> None:
    assert calendar.holidays(2023)[date(2023, 1, 2)] == "New Year's Day (observed)"


def test_juneteenth_and_mlk_start_in_the_years_the_nyse_first_closed(calendar: UsEquityCalendar) -> None:
    assert all("Juneteenth" not in name for name in calendar.holidays(2021).values())
    assert calendar.holidays(2022)[date(2022, 6, 20)].startswith("Juneteenth")
    assert all("Martin Luther King" not in name for name in calendar.holidays(1997).values())
    assert "Martin Luther King, Jr. Day" in calendar.holidays(1998).values()


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2000, date(2000, 4, 23)), (2019, date(2019, 4, 21)), (2024, date(2024, 3, 31)), (2038, date(2038, 4, 25))],
)
def test_easter_computus(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_regular_session_hours(calendar: UsEquityCalendar) -> None:
    session = calendar.session(date(2025, 3, 11))
    assert session is not None
    assert (session.open, session.close) == (ny(2025, 3, 11, 9, 30), ny(2025, 3, 11, 16))
    assert (session.extended_open, session.extended_close) == (ny(2025, 3, 11, 4), ny(2025, 3, 11, 20))
    assert not session.early_close
    assert session.open.utcoffset() == timedelta(hours=-4)


def test_early_close_ends_the_session_at_13_and_the_post_market_at_17(calendar: UsEquityCalendar) -> None:
    session = calendar.session(date(2025, 11, 28))
    assert session is not None and session.early_close
    assert session.close == ny(2025, 11, 28, 13)
    assert session.extended_close == ny(2025, 11, 28, 17)


def test_no_session_on_weekends_and_holidays(calendar: UsEquityCalendar) -> None:
    assert calendar.session(date(2025, 1, 4)) is None
    assert calendar.session(date(2025, 4, 18)) is None
    assert calendar.session(date(2025, 1, 9)) is None


@pytest.mark.parametrize(
    ("moment", "regular", "extended"),
    [
        (ny(2025, 3, 11, 9, 29), False, True),
        (ny(2025, 3, 11, 9, 30), True, True),
        (ny(2025, 3, 11, 15, 59), True, True),
        (ny(2025, 3, 11, 16), False, True),
        (ny(2025, 3, 11, 19, 59), False, True),
        (ny(2025, 3, 11, 20), False, False),
        (ny(2025, 3, 11, 3, 59), False, False),
        (ny(2025, 3, 15, 12), False, False),
        (ny(2025, 12, 24, 13, 30), False, True),
        (ny(2025, 12, 24, 17, 30), False, False),
    ],
)
def test_is_open(calendar: UsEquityCalendar, moment: datetime, regular: bool, extended: bool) -> None:
    assert calendar.is_open(moment) is regular
    assert calendar.is_open(moment, extended=True) is extended


def test_is_open_takes_any_timezone(calendar: UsEquityCalendar) -> None:
    assert calendar.is_open(datetime(2025, 3, 11, 14, 0, tzinfo=timezone.utc))
    assert not calendar.is_open(datetime(2025, 3, 11, 21, 0, tzinfo=timezone.utc))


def test_naive_times_are_refused(calendar: UsEquityCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.is_open(datetime(2025, 3, 11, 10))


class _NoOffset(tzinfo):
    """A time zone that knows no offset: an instant carrying it is still naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


class _FixedZone(tzinfo):
    """A hand-written zone with a fixed offset: aware, though neither a ZoneInfo nor a datetime.timezone."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return timedelta(hours=-4)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return timedelta(0)


def test_an_instant_is_aware_only_when_its_zone_gives_an_offset() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        require_aware(datetime(2025, 3, 11, 10, tzinfo=_NoOffset()))
    for zone in (NEW_YORK, timezone.utc, timezone(timedelta(hours=-5)), _FixedZone()):
        moment = datetime(2025, 3, 11, 10, tzinfo=zone)
        assert require_aware(moment) is moment


def test_next_open_skips_weekends_and_holidays(calendar: UsEquityCalendar) -> None:
    # Friday evening before the MLK weekend: Saturday, Sunday and the Monday holiday are skipped.
    assert calendar.next_open(ny(2025, 1, 17, 16, 30)) == ny(2025, 1, 21, 9, 30)
    assert calendar.next_open(ny(2025, 1, 17, 16, 30), extended=True) == ny(2025, 1, 21, 4)
    # Before the open on a trading day the same morning's open is next; during the session, tomorrow's.
    assert calendar.next_open(ny(2025, 3, 11, 8)) == ny(2025, 3, 11, 9, 30)
    assert calendar.next_open(ny(2025, 3, 11, 9, 30)) == ny(2025, 3, 12, 9, 30)


def test_trading_session_is_today_until_it_ends_then_the_next(calendar: UsEquityCalendar) -> None:
    assert calendar.trading_session(ny(2025, 3, 11, 15, 59)).day == date(2025, 3, 11)
    assert calendar.trading_session(ny(2025, 3, 11, 16)).day == date(2025, 3, 12)
    assert calendar.trading_session(ny(2025, 3, 11, 16), extended=True).day == date(2025, 3, 11)
    assert calendar.trading_session(ny(2025, 4, 17, 17)).day == date(2025, 4, 21)


def test_special_closures_can_be_supplied(calendar: UsEquityCalendar) -> None:
    custom = UsEquityCalendar(special_closures={date(2026, 3, 10): "Exchange outage"})
    assert custom.session(date(2026, 3, 10)) is None
    assert calendar.session(date(2026, 3, 10)) is not None


def test_describe_time_reads_in_new_york_time() -> None:
    assert describe_time(datetime(2025, 1, 6, 14, 30, tzinfo=timezone.utc)) == "09:30 ET on Mon 6 Jan 2025"
