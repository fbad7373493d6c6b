"""OHLCV bar arithmetic: interval buckets in New York time, merging, coarser intervals, bars built from quotes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.market_calendar import NEW_YORK, require_aware
from app.domain.models import Bar, BarInterval, Quote

INTERVAL_LENGTH: dict[BarInterval, timedelta] = {
    BarInterval.MINUTE: timedelta(minutes=1),
    BarInterval.FIVE_MINUTES: timedelta(minutes=5),
    BarInterval.HOUR: timedelta(hours=1),
    BarInterval.DAY: timedelta(days=1),
}
INTERVAL_LABELS: dict[BarInterval, str] = {
    BarInterval.MINUTE: "1 min",
    BarInterval.FIVE_MINUTES: "5 min",
    BarInterval.HOUR: "1 hour",
    BarInterval.DAY: "1 day",
}
#: How far back a chart asks for, per interval: about 2,000 to 5,000 bars of regular hours.
DEFAULT_LOOKBACK: dict[BarInterval, timedelta] = {
    BarInterval.MINUTE: timedelta(days=5),
    BarInterval.FIVE_MINUTES: timedelta(days=30),
    BarInterval.HOUR: timedelta(days=180),
    BarInterval.DAY: timedelta(days=5 * 365),
}
ZERO = Decimal(0)


def bucket_start(moment: datetime, interval: BarInterval) -> datetime:
    """The start of the bar that holds ``moment``, aligned in New York time (a day bar starts at midnight ET).

    Hour bars start on the clock hour, as Alpaca, Tradier and IBKR label them.
    """
    local = require_aware(moment).astimezone(NEW_YORK)
    if interval is BarInterval.DAY:
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is BarInterval.HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    step = 5 if interval is BarInterval.FIVE_MINUTES else 1
    return local.replace(minute=local.minute - local.minute % step, second=0, microsecond=0)


def merge_bars(older: Sequence[Bar], newer: Sequence[Bar]) -> list[Bar]:
    """One series in time order; where both have a bar for the same start, the newer one wins."""
    by_start = {bar.start: bar for bar in older}
    by_start.update({bar.start: bar for bar in newer})
    return [by_start[start] for start in sorted(by_start)]


def aggregate(bars: Iterable[Bar], interval: BarInterval) -> list[Bar]:
    """Finer bars combined into ``interval`` bars: first open, highest high, lowest low, last close, summed volume."""
    out: list[Bar] = []
    for bar in sorted(bars, key=lambda b: b.start):
        start = bucket_start(bar.start, interval)
        if out and out[-1].start == start:
            last = out[-1]
            out[-1] = replace(
                last, high=max(last.high, bar.high), low=min(last.low, bar.low), close=bar.close, volume=last.volume + bar.volume
            )
        else:
            out.append(replace(bar, interval=interval, start=start))
    return out


def quote_price(quote: Quote) -> Decimal | None:
    """The price a quote-built bar records: the last trade, else the mid of a two-sided market."""
    return quote.last if quote.last is not None else quote.mark


class QuoteBarBuilder:
    """Bars for one symbol and interval, built from the quotes the app has seen.

    Used where no source serves bars: each quote's price (last, else mid) extends the current bar or
    opens the next one. Volume is zero because a quote does not say how much traded. Each quote costs
    one bar update, whatever the history's length.
    """

    def __init__(self, symbol: str, interval: BarInterval, bars: Sequence[Bar] = ()) -> None:
        self.symbol = symbol
        self.interval = interval
        self._bars: list[Bar] = list(bars)
        self._last_seen: datetime | None = None

    @property
    def bars(self) -> list[Bar]:
        return list(self._bars)

    def add(self, quote: Quote) -> Bar | None:
        """The bar this quote changed or opened, or None when it brought nothing new."""
        price = quote_price(quote)
        if price is None or quote.symbol != self.symbol:
            return None
        if self._last_seen is not None and quote.timestamp <= self._last_seen:
            return None
        self._last_seen = quote.timestamp
        start = bucket_start(quote.timestamp, self.interval)
        if self._bars and self._bars[-1].start == start:
            last = self._bars[-1]
            bar = replace(last, high=max(last.high, price), low=min(last.low, price), close=price)
            self._bars[-1] = bar
        elif self._bars and self._bars[-1].start > start:
            return None
        else:
            bar = Bar(self.symbol, self.interval, start, price, price, price, price, ZERO)
            self._bars.append(bar)
        return bar
