"""Keyless delayed quotes for stocks, ETFs and listed options from Cboe's public CDN (about 15 minutes late).

Endpoints (the ones cboe.com's own delayed-quote pages and OpenBB's ``cboe`` provider read):

* ``{base}/quotes/{SYMBOL}.json``: one stock, ETF or index (indices with a leading underscore,
  ``_SPX``). Body: ``{"timestamp": <UTC snapshot time>, "data": {"symbol", "bid", "ask",
  "bid_size", "ask_size", "current_price", "last_trade_time": <US/Eastern, no offset>, ...},
  "symbol"}``.
* ``{base}/options/{UNDERLYING}.json``: the whole chain, the underlying's fields as above plus
  ``data.options``: rows keyed by ``option`` (compact OCC symbol) with ``bid``, ``ask``,
  ``bid_size``, ``ask_size``, ``last_trade_price`` and ``last_trade_time``.

Cboe writes ``0`` for a missing bid, ask or last trade; those become ``None`` here. Use is governed
by Cboe's website terms (``TERMS_URL``): personal, non-commercial viewing, best effort, no
guarantee. See docs/quotes.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx

from app import __version__
from app.domain.models import Instrument, Quote
from app.domain.symbols import SymbolError, compact_occ, parse_symbol
from app.marketdata.base import QuoteUnavailable

log = logging.getLogger(__name__)

_T = TypeVar("_T")

CBOE_CDN = "https://cdn.cboe.com/api/global/delayed_quotes"
TERMS_URL = "https://www.cboe.com/common/terms-and-conditions-for-use-of-cboe-websites"
USER_AGENT = f"TradeBridge/{__version__} (desktop paper trading; delayed quotes)"
# httpx times each read, not the whole body, so a 13 MB index chain fits; 20 s of silence means Cboe is not answering.
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)

# Cboe's clock for trade times is the US market's: ISO text without an offset.
_EASTERN = ZoneInfo("America/New_York")
# Cboe files index quotes and index chains under a leading underscore.
_INDEXES = frozenset({"SPX", "XSP", "NDX", "RUT", "VIX", "DJX", "OEX", "XEO"})
# Weekly and PM-settled index options carry their own OCC root but sit in the index's chain.
_ROOT_TO_UNDERLYING = {"SPXW": "SPX", "NDXP": "NDX", "RUTW": "RUT", "VIXW": "VIX"}
# Adjusted options (after splits or mergers) get a digit appended to the root, e.g. "TSLA1".
_ADJUSTED_ROOT = re.compile(r"^(?P<root>[A-Z]+)\d+$")


def cboe_file_symbol(symbol: str) -> str:
    """The name Cboe files a stock, ETF or index under: ``BRK/B`` -> ``BRK.B``, ``SPX`` -> ``_SPX``."""
    name = symbol.upper().replace("/", ".")
    return f"_{name}" if name in _INDEXES else name


def chain_underlying(instrument: Instrument) -> str:
    """The Cboe file name of the chain that lists an option: ``SPXW...`` -> ``_SPX``, ``AAPL...`` -> ``AAPL``."""
    if instrument.option is None:
        raise ValueError(f"{instrument.symbol} is not an option")
    root = instrument.option.underlying
    adjusted = _ADJUSTED_ROOT.match(root)
    if adjusted:
        root = adjusted.group("root")
    return cboe_file_symbol(_ROOT_TO_UNDERLYING.get(root, root))


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                return None
            # repr() is the shortest text that reads back as the same float: the JSON as sent.
            return Decimal(repr(value))
        number = Decimal(value) if isinstance(value, (int, Decimal)) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _positive(value: Any) -> Decimal | None:
    """A price or size, or None where Cboe writes 0 (or junk) for "there is none"."""
    number = _decimal(value)
    return number if number is not None and number > 0 else None


def _eastern_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_EASTERN)


def _snapshot_time(value: Any) -> datetime | None:
    """Cboe's ``timestamp``: when the file was written, in UTC (it matches the CDN's Last-Modified)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _quote_time(
    bid: Decimal | None, ask: Decimal | None, traded_at: datetime | None, as_of: datetime | None
) -> datetime | None:
    """The time a quote describes, chosen so a quote never looks fresher than it is.

    A two-sided market is as recent as the snapshot (``as_of``, or the row's own later trade);
    otherwise the mark falls back to the last trade, so the quote is as old as that trade.
    """
    if bid is not None and ask is not None:
        candidates = [t for t in (as_of, traded_at) if t is not None]
        return max(candidates) if candidates else None
    return traded_at or as_of


def _clean_symbol(value: Any) -> str:
    # Index quotes come back as "^SPX" or "_SPX"; the trader typed "SPX".
    return str(value or "").strip().upper().lstrip("^_")


def parse_cboe_quote(raw: Mapping[str, Any]) -> Quote | None:
    """A ``quotes/{SYMBOL}.json`` body (or an options body's underlying) as a Quote; None if unusable."""
    data = raw.get("data")
    if not isinstance(data, Mapping):
        return None
    symbol = _clean_symbol(data.get("symbol") or raw.get("symbol"))
    if not symbol:
        return None
    bid, ask = _positive(data.get("bid")), _positive(data.get("ask"))
    # The last trade dates a stock's quote: after the close the file is rewritten all night with
    # the closing market, and its snapshot time would make that look fresh.
    timestamp = _eastern_time(data.get("last_trade_time")) or _snapshot_time(raw.get("timestamp"))
    if timestamp is None:
        return None
    return Quote(
        symbol=symbol,
        bid=bid,
        ask=ask,
        last=_positive(data.get("current_price")),
        timestamp=timestamp,
        bid_size=_positive(data.get("bid_size")) if bid is not None else None,
        ask_size=_positive(data.get("ask_size")) if ask is not None else None,
        prev_close=_previous_close(data),
        volume=_decimal(data.get("volume")),
    )


def _previous_close(data: Mapping[str, Any]) -> Decimal | None:
    """The close before the quote's session: the price less its change, else ``prev_day_close``.

    After the bell Cboe rewrites ``prev_day_close`` with the session's own close, while
    ``price_change`` keeps the session's move, so the difference stays right day and night.
    """
    price, change = _positive(data.get("current_price")), _decimal(data.get("price_change"))
    if price is not None and change is not None:
        return price - change
    return _positive(data.get("prev_day_close"))


def parse_cboe_option_chain(raw: Mapping[str, Any]) -> dict[str, Quote]:
    """An ``options/{UNDERLYING}.json`` body as quotes keyed by compact OCC symbol."""
    data = raw.get("data")
    if not isinstance(data, Mapping):
        return {}
    rows = data.get("options")
    if not isinstance(rows, list):
        return {}
    # The chain has no time of its own per row; the underlying's last trade dates the snapshot.
    as_of = _eastern_time(data.get("last_trade_time")) or _snapshot_time(raw.get("timestamp"))
    quotes: dict[str, Quote] = {}
    for row in rows:
        if not isinstance(row, Mapping) or not isinstance(row.get("option"), str):
            continue
        symbol = compact_occ(row["option"])
        bid, ask = _positive(row.get("bid")), _positive(row.get("ask"))
        traded_at = _eastern_time(row.get("last_trade_time"))
        # A last price without a trade time is Cboe's placeholder for "never traded".
        last = _positive(row.get("last_trade_price")) if traded_at is not None else None
        timestamp = _quote_time(bid, ask, traded_at if last is not None else None, as_of)
        if timestamp is None:
            continue
        quotes[symbol] = Quote(
            symbol=symbol,
            bid=bid,
            ask=ask,
            last=last,
            timestamp=timestamp,
            bid_size=_positive(row.get("bid_size")) if bid is not None else None,
            ask_size=_positive(row.get("ask_size")) if ask is not None else None,
        )
    return quotes


def _decode(content: bytes) -> Mapping[str, Any]:
    # parse_float=Decimal keeps every price exactly as Cboe wrote it.
    payload = json.loads(content, parse_float=Decimal)
    if not isinstance(payload, Mapping):
        raise ValueError("top level is not an object")
    return payload


def _decode_chain(content: bytes) -> dict[str, Quote]:
    return parse_cboe_option_chain(_decode(content))


@dataclass(frozen=True, slots=True)
class _Failure:
    symbols: tuple[str, ...]
    error: QuoteUnavailable


class CboeDelayedQuotes:
    """The default paper-trading quote source: Cboe's public delayed quotes, fetched with httpx.

    Several symbols are fetched concurrently, at most ``max_concurrency`` requests at a time.
    Option quotes come from the underlying's whole chain, cached for ``chain_ttl`` seconds so a
    ticket polling a few contracts of one underlying downloads the chain once. 403 and 404 mean
    "Cboe has no such file" (an unknown symbol, left out); transport errors, timeouts, other
    statuses and unreadable bodies raise ``QuoteUnavailable``.
    """

    name = "Cboe delayed quotes"
    delayed = True

    def __init__(
        self,
        base_url: str = CBOE_CDN,
        *,
        client: httpx.AsyncClient | None = None,
        max_concurrency: int = 4,
        chain_ttl: float = 5.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._owns_client = client is None
        # Made on the first request: building one (its TLS context) costs start-up time a quiet start never uses.
        self._client = client
        self._timeout = timeout
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._gate = asyncio.Semaphore(max_concurrency)
        self._chain_ttl = chain_ttl
        self._clock = clock
        self._chains: dict[str, tuple[float, dict[str, Quote]]] = {}
        self._chain_locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        self._chains.clear()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        equities: dict[str, str] = {}
        chains: dict[str, list[str]] = {}
        for text in symbols:
            try:
                instrument = parse_symbol(text)
            except SymbolError:
                log.debug("Not a symbol, left out of the Cboe request: %r", text)
                continue
            if instrument.is_option:
                wanted = chains.setdefault(chain_underlying(instrument), [])
                if instrument.symbol not in wanted:
                    wanted.append(instrument.symbol)
            else:
                equities[instrument.symbol] = cboe_file_symbol(instrument.symbol)
        self._drop_expired_chains()

        found: dict[str, Quote] = {}
        failures: list[_Failure] = []

        async def equity(symbol: str, file_symbol: str) -> None:
            try:
                payload = await self._get(f"/quotes/{file_symbol}.json", _decode)
            except QuoteUnavailable as exc:
                failures.append(_Failure((symbol,), exc))
                return
            quote = parse_cboe_quote(payload) if payload is not None else None
            if quote is not None:
                found[symbol] = replace(quote, symbol=symbol)

        async def options(underlying: str, wanted: list[str]) -> None:
            try:
                chain = await self._chain(underlying)
            except QuoteUnavailable as exc:
                failures.append(_Failure(tuple(wanted), exc))
                return
            for symbol in wanted:
                if symbol in chain:
                    found[symbol] = chain[symbol]

        async with asyncio.TaskGroup() as group:
            for symbol, file_symbol in equities.items():
                group.create_task(equity(symbol, file_symbol))
            for underlying, wanted in chains.items():
                group.create_task(options(underlying, wanted))

        if failures:
            failed = tuple(s for failure in failures for s in failure.symbols)
            raise QuoteUnavailable(
                f"{failures[0].error} No quote for {', '.join(sorted(failed))}.", partial=found, failed=failed
            )
        return found

    async def _chain(self, underlying: str) -> dict[str, Quote]:
        lock = self._chain_locks.setdefault(underlying, asyncio.Lock())
        # One download per underlying even when several callers ask at once.
        async with lock:
            cached = self._chains.get(underlying)
            if cached is not None and self._clock() - cached[0] < self._chain_ttl:
                return cached[1]
            chain = await self._get(f"/options/{underlying}.json", _decode_chain, in_thread=True)
            # An unknown underlying is cached too, so polling it does not hammer the CDN.
            result = chain if chain is not None else {}
            self._chains[underlying] = (self._clock(), result)
            return result

    def _drop_expired_chains(self) -> None:
        now = self._clock()
        for underlying in [u for u, (at, _) in self._chains.items() if now - at >= self._chain_ttl]:
            del self._chains[underlying]

    async def _get(self, path: str, decode: Callable[[bytes], _T], *, in_thread: bool = False) -> _T | None:
        """GET one CDN file and decode it; None when Cboe has no such file."""
        url = f"{self._base_url}{path}"
        async with self._gate:
            try:
                response = await self._http().get(url, headers=self._headers)
            except httpx.HTTPError as exc:
                log.warning("Cboe request %s failed: %s", path, type(exc).__name__)
                raise QuoteUnavailable(f"Cboe delayed quotes could not be reached ({type(exc).__name__}).") from exc
        if response.status_code in (403, 404):
            log.debug("Cboe has no %s (%d)", path, response.status_code)
            return None
        if response.status_code != 200:
            log.warning("Cboe answered %d for %s", response.status_code, path)
            raise QuoteUnavailable(f"Cboe delayed quotes answered with an error ({response.status_code}).")
        try:
            # A full index chain takes a moment to decode; keep that off the UI's event loop.
            return await asyncio.to_thread(decode, response.content) if in_thread else decode(response.content)
        except ValueError as exc:
            log.warning("Cboe sent an unreadable body for %s: %s", path, exc)
            raise QuoteUnavailable("Cboe delayed quotes sent a response that could not be read.") from exc
