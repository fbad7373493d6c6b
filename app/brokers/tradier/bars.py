"""Tradier historical bars: ``/markets/history`` (daily) and ``/markets/timesales`` (intraday), pure parsers.

Wire format (documentation.tradier.com, Market Data → Get historical quotes / Get time and sales):

* ``GET /v1/markets/history?symbol=&interval=daily&start=YYYY-MM-DD&end=YYYY-MM-DD`` →
  ``{"history": {"day": [{"date", "open", "high", "low", "close", "volume"}] | {one} } | null}``.
* ``GET /v1/markets/timesales?symbol=&interval=1min|5min|15min&start=YYYY-MM-DD HH:MM&end=…&session_filter=all``
  (New York times) → ``{"series": {"data": [{"time": New York, no offset, "timestamp": epoch s,
  "price", "open", "high", "low", "close", "volume", "vwap"}] | {one} } | null}``. A single row
  comes as a bare object, as everywhere in Tradier's JSON.

Hour bars are built from 15-minute bars. Tradier keeps about 20 days of one-minute and 40 days of
5- and 15-minute bars; requests are clipped to that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.bars import aggregate, bucket_start
from app.domain.market_calendar import NEW_YORK
from app.domain.models import Bar, BarInterval

TIMESALES_INTERVAL = {BarInterval.MINUTE: "1min", BarInterval.FIVE_MINUTES: "5min", BarInterval.HOUR: "15min"}
TIMESALES_HISTORY = {BarInterval.MINUTE: timedelta(days=20), BarInterval.FIVE_MINUTES: timedelta(days=40), BarInterval.HOUR: timedelta(days=40)}


def _rows(container: Any, key: str) -> list[Mapping[str, Any]]:
    """Tradier's one-or-many: a list, a single object, or null/"null" for none."""
    if not isinstance(container, Mapping):
        return []
    rows = container.get(key)
    if isinstance(rows, Mapping):
        return [rows]
    return [row for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "NaN":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _bar(symbol: str, interval: BarInterval, start: datetime, row: Mapping[str, Any]) -> Bar | None:
    prices = [_decimal(row.get(k)) for k in ("open", "high", "low", "close")]
    if any(p is None or p <= 0 for p in prices):
        return None
    volume = _decimal(row.get("volume"))
    o, h, l, c = prices  # type: ignore[misc]  # noqa: E741
    return Bar(symbol, interval, start, o, h, l, c, volume if volume is not None and volume >= 0 else Decimal(0))  # type: ignore[arg-type]


def parse_tradier_history(raw: Mapping[str, Any], symbol: str) -> list[Bar]:
    """A ``/markets/history`` body as day bars starting at midnight New York, oldest first."""
    bars: dict[datetime, Bar] = {}
    for row in _rows(raw.get("history"), "day"):
        try:
            day = date.fromisoformat(str(row.get("date", "")))
        except ValueError:
            continue
        start = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
        bar = _bar(symbol, BarInterval.DAY, start, row)
        if bar is not None:
            bars[start] = bar
    return [bars[k] for k in sorted(bars)]


def parse_tradier_timesales(raw: Mapping[str, Any], symbol: str, interval: BarInterval) -> list[Bar]:
    """A ``/markets/timesales`` body as bars of ``interval`` (1 or 5 minutes, or 15 for hour bars), oldest first."""
    bars: dict[datetime, Bar] = {}
    for row in _rows(raw.get("series"), "data"):
        stamp = row.get("timestamp")
        if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
            start = datetime.fromtimestamp(stamp, UTC)
        else:
            try:
                start = datetime.fromisoformat(str(row.get("time", ""))).replace(tzinfo=NEW_YORK)
            except ValueError:
                continue
        bar = _bar(symbol, interval, bucket_start(start, BarInterval.MINUTE), row)
        if bar is not None:
            bars[bar.start] = bar
    return [bars[k] for k in sorted(bars)]


async def fetch_tradier_bars(
    get: Callable[[str, Mapping[str, str]], Awaitable[Any]],
    symbol: str,
    interval: BarInterval,
    start: datetime,
    end: datetime,
) -> list[Bar]:
    """Bars through the connector's market-data ``get(path, params)`` (which raises its BrokerErrors)."""
    if interval is BarInterval.DAY:
        payload = await get(
            "/markets/history",
            {"symbol": symbol, "interval": "daily", "start": f"{start.astimezone(NEW_YORK):%Y-%m-%d}", "end": f"{end.astimezone(NEW_YORK):%Y-%m-%d}"},
        )
        # Asked for by date: the first day's bar starts at midnight, before a mid-day ``start``.
        return [bar for bar in parse_tradier_history(payload if isinstance(payload, Mapping) else {}, symbol) if bar.start < end]
    start = max(start, end - TIMESALES_HISTORY[interval])
    payload = await get(
        "/markets/timesales",
        {
            "symbol": symbol,
            "interval": TIMESALES_INTERVAL[interval],
            "start": f"{start.astimezone(NEW_YORK):%Y-%m-%d %H:%M}",
            "end": f"{end.astimezone(NEW_YORK):%Y-%m-%d %H:%M}",
            "session_filter": "all",
        },
    )
    rows = parse_tradier_timesales(payload if isinstance(payload, Mapping) else {}, symbol, interval)
    bars = aggregate(rows, BarInterval.HOUR) if interval is BarInterval.HOUR else rows
    return [bar for bar in bars if bucket_start(start, interval) <= bar.start < end]
