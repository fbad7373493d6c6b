"""Bar arithmetic: New York buckets, merging, coarser intervals and bars built from quotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.bars import QuoteBarBuilder, aggregate, bucket_start, merge_bars
from app.domain.market_calendar import NEW_YORK
from app.domain.models import Bar, BarInterval, Quote

D = Decimal


def _bar(start: datetime, o: str, h: str, l: str, c: str, v: str = "100", interval=BarInterval.MINUTE) -> Bar:  # noqa: E741
    return Bar("AAPL", interval, start, D(o), D(h), D(l), D(c), D(v))


def test_buckets_align_in_new_york_time():
    moment = datetime(2026, 11, 24, 15, 37, 42, tzinfo=UTC)  # 10:37:42 New York
    assert bucket_start(moment, BarInterval.MINUTE) == datetime(2026, 11, 24, 10, 37, tzinfo=NEW_YORK)
    assert bucket_start(moment, BarInterval.FIVE_MINUTES) == datetime(2026, 11, 24, 10, 35, tzinfo=NEW_YORK)
    assert bucket_start(moment, BarInterval.HOUR) == datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)
    # 01:00 UTC on the 25th is still the 24th in New York.
    late = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert bucket_start(late, BarInterval.DAY) == datetime(2026, 11, 24, tzinfo=NEW_YORK)


def test_five_minute_bars_from_minutes():
    start = datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK)
    minutes = [
        _bar(start + timedelta(minutes=i), o, h, l, c)
        for i, (o, h, l, c) in enumerate(  # noqa: E741
            [("10", "11", "9", "10.5"), ("10.5", "12", "10", "11"), ("11", "11", "8", "9"), ("9", "9.5", "8.5", "9"),
             ("9", "10", "9", "9.8"), ("9.8", "10", "9.7", "9.9")]
        )
    ]
    five = aggregate(minutes, BarInterval.FIVE_MINUTES)
    assert [(b.start.minute, b.open, b.high, b.low, b.close, b.volume) for b in five] == [
        (30, D("10"), D("12"), D("8"), D("9.8"), D("500")),
        (35, D("9.8"), D("10"), D("9.7"), D("9.9"), D("100")),
    ]
    assert all(b.interval is BarInterval.FIVE_MINUTES for b in five)


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(1, 10_000), st.integers(0, 500), st.integers(0, 10**6)), min_size=1, max_size=60, unique_by=lambda t: t[0]))
def test_aggregation_keeps_the_extremes_and_the_volume(rows):
    start = datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK)
    bars = [
        Bar("X", BarInterval.MINUTE, start + timedelta(minutes=m), D(p), D(p + r), D(p), D(p + r), D(v))
        for m, p, r, v in rows
    ]
    for interval in (BarInterval.FIVE_MINUTES, BarInterval.HOUR, BarInterval.DAY):
        out = aggregate(bars, interval)
        assert max(b.high for b in out) == max(b.high for b in bars)
        assert min(b.low for b in out) == min(b.low for b in bars)
        assert sum(b.volume for b in out) == sum(b.volume for b in bars)
        assert [b.start for b in out] == sorted({bucket_start(b.start, interval) for b in bars})


def test_merging_prefers_the_newer_bar_for_the_same_start():
    start = datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK)
    old = [_bar(start, "1", "2", "1", "2"), _bar(start + timedelta(minutes=1), "2", "2", "2", "2")]
    new = [_bar(start + timedelta(minutes=1), "2", "3", "2", "3"), _bar(start + timedelta(minutes=2), "3", "3", "3", "3")]
    merged = merge_bars(old, new)
    assert [b.close for b in merged] == [D("2"), D("3"), D("3")]


def test_bars_built_from_quotes():
    builder = QuoteBarBuilder("AAPL", BarInterval.MINUTE)
    at = datetime(2026, 11, 24, 15, 30, 5, tzinfo=UTC)

    def quote(seconds: int, last: str | None, bid: str | None = None, ask: str | None = None) -> Quote:
        return Quote("AAPL", D(bid) if bid else None, D(ask) if ask else None, D(last) if last else None, at + timedelta(seconds=seconds))

    assert builder.add(quote(0, "100")) is not None
    builder.add(quote(10, "101.5"))
    builder.add(quote(20, "99.25"))
    assert builder.add(quote(20, "150")) is None  # the same moment again brings nothing new
    assert builder.add(quote(30, None)) is None  # no price at all
    builder.add(quote(70, None, bid="100", ask="100.50"))  # the next minute, priced at the mid
    assert builder.add(Quote("MSFT", None, None, D("1"), at + timedelta(seconds=80))) is None
    first, second = builder.bars
    assert (first.open, first.high, first.low, first.close, first.volume) == (D("100"), D("101.5"), D("99.25"), D("99.25"), D(0))
    assert second.open == second.close == D("100.25")
    assert second.start == first.start + timedelta(minutes=1)
