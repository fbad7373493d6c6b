"""The status bar's market clock: open/closed and the countdown, in New York time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.market_clock import describe_wait, market_clock


def test_open_session_counts_down_to_the_close() -> None:
    clock = market_clock(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))  # Tue 10:30 ET
    assert clock.is_open
    assert clock.text() == "Market open · closes 16:00 ET (in 5h 30m)"


def test_before_the_open_counts_down_to_todays_open() -> None:
    clock = market_clock(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # Tue 08:00 ET
    assert not clock.is_open
    assert clock.text() == "Market closed · opens 09:30 ET (in 1h 30m)"


def test_weekend_names_the_day_of_the_next_open() -> None:
    clock = market_clock(datetime(2026, 11, 28, 17, 0, tzinfo=UTC))  # Sat 12:00 ET
    assert clock.text() == "Market closed · opens Mon 09:30 ET (in 1d 21h)"


def test_early_close_after_thanksgiving_is_named() -> None:
    clock = market_clock(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Fri 10:00 ET, day after Thanksgiving
    assert clock.text() == "Market open · closes early 13:00 ET (in 3h 00m)"


def test_holiday_is_closed() -> None:
    clock = market_clock(datetime(2026, 11, 26, 16, 0, tzinfo=UTC))  # Thanksgiving
    assert not clock.is_open
    assert clock.next_change == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)))
def test_the_next_change_is_always_ahead_and_within_a_week(now: datetime) -> None:
    clock = market_clock(now)
    assert now < clock.next_change <= now + timedelta(days=14)


@given(st.integers(min_value=0, max_value=10**7))
def test_countdown_never_overstates_the_wait(seconds: int) -> None:
    text = describe_wait(timedelta(seconds=seconds))
    parts = {p[-1]: int(p[:-1]) for p in text.split()}
    shown = parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60
    assert shown <= seconds < shown + (3600 if "d" in parts else 60)
