"""Keyless delayed bars from Cboe's public chart files: daily history, and today's one-minute bars.

Endpoints (those behind the charts on cboe.com's delayed-quote pages):

* ``{base}/charts/historical/{FILE}.json``: ``{"data": [{"date": "YYYY-MM-DD", "open", "high",
  "low", "close", "volume"}, ...]}``, one row per session, numbers as JSON numbers or text.
* ``{base}/charts/intraday/{FILE}.json``: ``{"data": [{"datetime": "YYYY-MM-DDTHH:MM:SS",
  "price": {"open", "high", "low", "close"}, "volume": {"stock_volume", ...}}, ...]}``: the latest
  session's one-minute bars, each labelled by the New York minute it *ends* (09:31 covers 09:30-09:31).

Five-minute and hour bars are built from the one-minute bars, so intraday charts hold the latest
session only. Option charts are not published; they raise ``BarsUnavailable`` and the chart builds
bars from quotes instead. Same terms as the quotes: personal, non-commercial viewing, best effort.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from app.domain.bars import aggregate
from app.domain.market_calendar import NEW_YORK
from app.domain.models import Bar, BarInterval
from app.domain.symbols import SymbolError, parse_symbol
from app.marketdata.bars import BarsUnavailable
from app.marketdata.cboe import CBOE_CDN, DEFAULT_TIMEOUT, USER_AGENT, cboe_file_symbol

log = logging.getLogger(__name__)
ONE_MINUTE = timedelta(minutes=1)


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _bar(symbol: str, interval: BarInterval, start: datetime, o: Any, h: Any, l: Any, c: Any, v: Any) -> Bar | None:  # noqa: E741
    prices = [_number(x) for x in (o, h, l, c)]
    if any(p is None or p <= 0 for p in prices):
        return None
    open_, high, low, close = prices  # type: ignore[misc]
    if not (low <= min(open_, close) and max(open_, close) <= high):  # type: ignore[operator]
        return None
    volume = _number(v)
    return Bar(symbol, interval, start, open_, high, low, close, volume if volume is not None and volume >= 0 else Decimal(0))  # type: ignore[arg-type]


def parse_cboe_daily(raw: Mapping[str, Any], symbol: str) -> list[Bar]:
    """A ``charts/historical`` body as day bars (start: midnight New York), oldest first; bad rows are skipped."""
    rows = raw.get("data")
    if not isinstance(rows, list):
        return []
    out: dict[datetime, Bar] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        try:
            day = date.fromisoformat(str(row.get("date", "")))
        except ValueError:
            continue
        start = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
        bar = _bar(symbol, BarInterval.DAY, start, row.get("open"), row.get("high"), row.get("low"), row.get("close"), row.get("volume"))
        if bar is not None:
            out[start] = bar
    return [out[k] for k in sorted(out)]


def parse_cboe_intraday(raw: Mapping[str, Any], symbol: str) -> list[Bar]:
    """A ``charts/intraday`` body as one-minute bars, each starting a minute before its label, oldest first."""
    rows = raw.get("data")
    if not isinstance(rows, list):
        return []
    out: dict[datetime, Bar] = {}
    for row in rows:
        if not isinstance(row, Mapping) or not isinstance(row.get("price"), Mapping):
            continue
        try:
            ends = datetime.fromisoformat(str(row.get("datetime", "")))
        except ValueError:
            continue
        ends = ends.replace(tzinfo=NEW_YORK) if ends.tzinfo is None else ends.astimezone(NEW_YORK)
        price = row["price"]
        volume = row.get("volume")
        shares = volume.get("stock_volume") if isinstance(volume, Mapping) else volume
        start = ends - ONE_MINUTE
        bar = _bar(symbol, BarInterval.MINUTE, start, price.get("open"), price.get("high"), price.get("low"), price.get("close"), shares)
        if bar is not None:
            out[start] = bar
    return [out[k] for k in sorted(out)]


def _decode(content: bytes) -> Mapping[str, Any]:
    payload = json.loads(content, parse_float=Decimal)
    if not isinstance(payload, Mapping):
        raise ValueError("top level is not an object")
    return payload


class CboeDelayedBars:
    """Charts without a broker or key: Cboe's delayed chart files, fetched with httpx."""

    name = "Cboe delayed charts"
    delayed = True

    def __init__(self, base_url: str = CBOE_CDN, *, client: httpx.AsyncClient | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._owns_client = client is None
        # Made on the first request: most starts never draw a chart from Cboe.
        self._client = client
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}

    async def close(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        try:
            instrument = parse_symbol(symbol)
        except SymbolError as exc:
            raise BarsUnavailable(str(exc)) from exc
        if instrument.is_option:
            raise BarsUnavailable("Cboe publishes no charts for options.")
        name = cboe_file_symbol(instrument.symbol)
        if interval is BarInterval.DAY:
            payload = await self._get(f"/charts/historical/{name}.json")
            found = parse_cboe_daily(payload, instrument.symbol) if payload is not None else []
        else:
            payload = await self._get(f"/charts/intraday/{name}.json")
            minutes = parse_cboe_intraday(payload, instrument.symbol) if payload is not None else []
            found = minutes if interval is BarInterval.MINUTE else aggregate(minutes, interval)
        return [bar for bar in found if start <= bar.start < end]

    async def _get(self, path: str) -> Mapping[str, Any] | None:
        try:
            if self._client is None:
                self._client = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
            response = await self._client.get(f"{self._base_url}{path}", headers=self._headers)
        except httpx.HTTPError as exc:
            log.warning("Cboe chart request %s failed: %s", path, type(exc).__name__)
            raise BarsUnavailable(f"Cboe delayed charts could not be reached ({type(exc).__name__}).") from exc
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            raise BarsUnavailable(f"Cboe delayed charts answered with an error ({response.status_code}).")
        try:
            # Twenty years of daily bars is a few megabytes of JSON: decode it off the UI's loop.
            return await asyncio.to_thread(_decode, response.content)
        except ValueError as exc:
            raise BarsUnavailable("Cboe delayed charts sent a response that could not be read.") from exc
