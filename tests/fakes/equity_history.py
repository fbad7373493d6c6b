"""Account value histories the fakes serve: Alpaca's portfolio history and Tastytrade's net-liq history.

A test sets the points (time, equity; equity None where the account was not funded yet) and each fake
answers in its broker's wire form, as recorded in ``tests/fixtures/<broker>/SOURCES.md``:

- Alpaca ``GET /v2/account/portfolio/history``: parallel arrays ``timestamp`` (unix seconds),
  ``equity`` (JSON numbers or null), ``profit_loss``, ``profit_loss_pct`` against ``base_value``
  (the first funded equity), ``base_value_asof``, ``timeframe``; 422 for a timeframe or period it
  does not know.
- Tastytrade ``GET /accounts/{n}/net-liq/history``: ``data.items`` of OHLC candles with dasherized keys,
  values as decimal strings, ``time`` an ISO timestamp; ``time-back`` one of its documented spans or a
  ``start-time``. The sandbox answers 404 (the history is a production service).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

ALPACA_TIMEFRAMES = frozenset({"1Min", "5Min", "15Min", "1H", "1D"})
_ALPACA_PERIOD = re.compile(r"^\d+[DWMA]$")
TASTYTRADE_TIME_BACKS = frozenset({"1d", "1w", "1m", "3m", "6m", "1y", "all"})

Point = tuple[datetime, Decimal | None]


class EquityHistory:
    """The points one fake account serves, oldest first; safe to set from the test's thread while it serves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._points: list[Point] = []
        self.requests: list[dict[str, list[str]]] = []

    def set(self, points: Iterable[Point]) -> None:
        with self._lock:
            self._points = sorted(points, key=lambda point: point[0])

    def points(self, query: dict[str, list[str]]) -> list[Point]:
        with self._lock:
            self.requests.append(dict(query))
            return list(self._points)


def _number(value: Decimal) -> float | int:
    # Alpaca's history arrays are JSON numbers (alpaca-py's PortfolioHistory model: List[float]).
    return int(value) if value == value.to_integral_value() else float(value)


def alpaca_portfolio_history(points: list[Point], timeframe: str) -> dict[str, Any]:
    funded = [equity for _, equity in points if equity is not None]
    base = funded[0] if funded else Decimal(0)
    base_at = next((at for at, equity in points if equity is not None), None)
    profit = [None if equity is None else _number(equity - base) for _, equity in points]
    percent = [
        None if equity is None or base == 0 else float(round((equity - base) / base, 6)) for _, equity in points
    ]
    return {
        "timestamp": [int(at.timestamp()) for at, _ in points],
        "equity": [None if equity is None else _number(equity) for _, equity in points],
        "profit_loss": profit,
        "profit_loss_pct": percent,
        "base_value": _number(base),
        "base_value_asof": base_at.astimezone(UTC).date().isoformat() if base_at else None,
        "timeframe": timeframe,
    }


def alpaca_query_problem(query: dict[str, list[str]]) -> str | None:
    timeframe = (query.get("timeframe") or ["1D"])[0]
    period = (query.get("period") or ["1M"])[0]
    if timeframe not in ALPACA_TIMEFRAMES:
        return f"invalid timeframe: {timeframe}"
    if not _ALPACA_PERIOD.match(period):
        return f"invalid period: {period}"
    return None


def tastytrade_net_liq_items(points: list[Point]) -> list[dict[str, str]]:
    items = []
    for at, equity in points:
        if equity is None:
            continue
        value = str(equity)
        items.append(
            {
                "open": value, "high": value, "low": value, "close": value,
                "pending-cash-open": "0.0", "pending-cash-high": "0.0", "pending-cash-low": "0.0",
                "pending-cash-close": "0.0",
                "total-open": value, "total-high": value, "total-low": value, "total-close": value,
                "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }
        )
    return items


def tastytrade_query_problem(query: dict[str, list[str]]) -> str | None:
    time_back = (query.get("time-back") or [None])[0]
    start = (query.get("start-time") or [None])[0]
    if time_back is None and start is None:
        return "time-back or start-time is required"
    if time_back is not None and time_back not in TASTYTRADE_TIME_BACKS:
        return f"time-back must be one of {sorted(TASTYTRADE_TIME_BACKS)}"
    return None
