"""Alpaca historical bars over httpx: ``GET /v2/stocks/{symbol}/bars`` (no pandas, no SDK data client).

Wire format (alpaca-py ``tests/data/test_historical_stock_data.py``; Alpaca Market Data v2):
``{"bars": [{"t": RFC 3339 UTC, "o", "h", "l", "c", "v", "n", "vw"}, ...] | null, "symbol",
"next_page_token": str | null}``. Query: ``timeframe`` (1Min, 5Min, 1Hour, 1Day), ``start``/``end``
(RFC 3339), ``limit`` (up to 10,000 a page), ``adjustment=raw``, ``feed`` (iex without a paid plan),
``page_token`` for the next page. Day bars are stamped at midnight New York. Option bars are on
another endpoint (``/v1beta1/options/bars``) and are not read here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from app.brokers.base import AuthError, BrokerUnavailable, RateLimited
from app.domain.bars import bucket_start
from app.domain.models import Bar, BarInterval
from app.domain.symbols import SymbolError, parse_symbol

log = logging.getLogger(__name__)

TIMEFRAMES: Mapping[BarInterval, str] = {
    BarInterval.MINUTE: "1Min",
    BarInterval.FIVE_MINUTES: "5Min",
    BarInterval.HOUR: "1Hour",
    BarInterval.DAY: "1Day",
}
PAGE_LIMIT = 10_000
#: A chart never needs more; a runaway pagination stops here.
MAX_PAGES = 20
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class AlpacaBarsError(ValueError):
    """A bars body that could not be read."""


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise AlpacaBarsError(f"not a number: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise AlpacaBarsError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise AlpacaBarsError(f"not a finite number: {value!r}")
    return number


def parse_alpaca_bars(raw: Mapping[str, Any], symbol: str, interval: BarInterval) -> tuple[list[Bar], str | None]:
    """One page: its bars oldest first (``sort=desc`` pages are reversed) and the next page's token."""
    rows = raw.get("bars")
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise AlpacaBarsError("'bars' is not a list")
    bars: list[Bar] = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise AlpacaBarsError("a bar is not an object")
        try:
            moment = datetime.fromisoformat(str(row["t"]).replace("Z", "+00:00"))
        except (KeyError, ValueError) as exc:
            raise AlpacaBarsError(f"bad bar time {row.get('t')!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        bars.append(
            Bar(
                symbol,
                interval,
                bucket_start(moment, interval),
                _decimal(row.get("o")),
                _decimal(row.get("h")),
                _decimal(row.get("l")),
                _decimal(row.get("c")),
                _decimal(row.get("v")),
            )
        )
    token = raw.get("next_page_token")
    return sorted(bars, key=lambda b: b.start), token if isinstance(token, str) and token else None


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AlpacaBars:
    """Fetches bars for the connector with its own httpx client and the connection's key headers."""

    def __init__(self, data_url: str, key_id: str, secret: str, *, feed: str = "iex") -> None:
        self._url = data_url.rstrip("/")
        self._headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret, "Accept": "application/json"}
        self._feed = feed
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"AlpacaBars({self._url})"

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        try:
            instrument = parse_symbol(symbol)
        except SymbolError as exc:
            raise BrokerUnavailable(str(exc)) from exc
        if instrument.is_option:
            raise BrokerUnavailable("TradeBridge reads Alpaca bars for stocks and ETFs only.")
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        params: dict[str, str] = {
            "timeframe": TIMEFRAMES[interval],
            "start": _rfc3339(start),
            "end": _rfc3339(end),
            "limit": str(PAGE_LIMIT),
            "adjustment": "raw",
            "feed": self._feed,
        }
        found: list[Bar] = []
        for _ in range(MAX_PAGES):
            page = await self._get(f"/v2/stocks/{instrument.symbol}/bars", params)
            try:
                bars, token = parse_alpaca_bars(page, instrument.symbol, interval)
            except AlpacaBarsError as exc:
                raise BrokerUnavailable(f"Alpaca sent bars that could not be read ({exc}).") from exc
            found.extend(bars)
            if token is None:
                break
            params["page_token"] = token
        return found

    async def _get(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        assert self._client is not None
        try:
            response = await self._client.get(f"{self._url}{path}", params=params, headers=self._headers)
        except httpx.HTTPError as exc:
            raise BrokerUnavailable(f"Alpaca market data could not be reached ({type(exc).__name__}).") from exc
        if response.status_code in (401, 403):
            raise AuthError("Alpaca refused the market-data request: check the API keys and the data subscription.")
        if response.status_code == 429:
            retry = float(response.headers.get("Retry-After", "1") or 1)
            raise RateLimited("Alpaca is rate limiting market-data requests.", retry_after=retry)
        if response.status_code != 200:
            log.warning("Alpaca bars answered %d", response.status_code)
            raise BrokerUnavailable(f"Alpaca market data answered with an error ({response.status_code}).")
        try:
            payload = response.json()
        except ValueError as exc:
            raise BrokerUnavailable("Alpaca sent bars that could not be read.") from exc
        if not isinstance(payload, Mapping):
            raise BrokerUnavailable("Alpaca sent bars that could not be read.")
        return payload
