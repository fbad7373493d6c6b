"""IBKR historical bars (``reqHistoricalData``): request settings per interval and pure parsing of IB's bars.

Wire format (ib_insync 0.9.86 ``decoder.historicalData``, msg 17): ``reqId, startDate, endDate,
count`` then per bar ``date, open, high, low, close, volume, WAP, barCount``. With ``formatDate=2``
intraday dates are epoch seconds (UTC) and daily bars ``YYYYMMDD``; ib_insync turns them into an
aware ``datetime`` and a ``date``. Stocks ask for ``TRADES``; options for ``MIDPOINT`` (an option
may not trade for hours), whose volume IB sends as -1, read here as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.bars import bucket_start
from app.domain.market_calendar import NEW_YORK
from app.domain.models import Bar, BarInterval

BAR_SIZES: Mapping[BarInterval, str] = {
    BarInterval.MINUTE: "1 min",
    BarInterval.FIVE_MINUTES: "5 mins",
    BarInterval.HOUR: "1 hour",
    BarInterval.DAY: "1 day",
}


def duration(start: datetime, end: datetime) -> str:
    """IB's duration string covering ``start``..``end``: whole days up to a year, then whole years."""
    days = max(1, math.ceil((end - start).total_seconds() / 86400))
    return f"{days} D" if days <= 365 else f"{math.ceil(days / 365)} Y"


def what_to_show(is_option: bool) -> str:
    return "MIDPOINT" if is_option else "TRADES"


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_ibkr_bars(rows: Iterable[Any], symbol: str, interval: BarInterval) -> list[Bar]:
    """ib_insync ``BarData`` (or anything with its attributes) as bars, oldest first; unusable rows skipped."""
    out: dict[datetime, Bar] = {}
    for row in rows:
        when = getattr(row, "date", None)
        if isinstance(when, datetime):
            start = bucket_start(when if when.tzinfo else when.replace(tzinfo=UTC), interval)
        elif isinstance(when, date):
            start = datetime(when.year, when.month, when.day, tzinfo=NEW_YORK)
        else:
            continue
        prices = [_decimal(getattr(row, k, None)) for k in ("open", "high", "low", "close")]
        if any(p is None or p <= 0 for p in prices):
            continue
        volume = _decimal(getattr(row, "volume", None))
        o, h, l, c = prices  # type: ignore[misc]  # noqa: E741
        out[start] = Bar(symbol, interval, start, o, h, l, c, volume if volume is not None and volume > 0 else Decimal(0))  # type: ignore[arg-type]
    return [out[k] for k in sorted(out)]
