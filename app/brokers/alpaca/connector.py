"""The Alpaca connector: alpaca-py's sync clients run off the loop, behind one limiter and safe order sends."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import requests

from app.brokers.alpaca.bars import AlpacaBars
from app.brokers.alpaca.errors import (
    AlpacaFailure,
    auth_error,
    error_message,
    never_sent,
    order_post_failure,
    read_failure,
    retry_after_seconds,
)
from app.brokers.alpaca.orders import (
    build_order_request,
    build_replace_request,
    estimate_preview,
    replacement_client_order_id,
    resolve_position_intent,
)
from app.brokers.alpaca.parse import (
    AlpacaParseError,
    looks_like_paper_account,
    fold_replacement_chain,
    fold_replacements,
    parse_alpaca_account,
    parse_alpaca_option_snapshots,
    parse_alpaca_order,
    parse_alpaca_portfolio_history,
    parse_alpaca_position,
    parse_alpaca_positions,
    parse_alpaca_quotes,
    replaced_by,
)
from app.brokers.alpaca.stream import AlpacaQuoteStream, stream_url
from app.brokers.alpaca.sdk import (
    APIError,
    GetOrdersRequest,
    GetPortfolioHistoryRequest,
    OptionHistoricalDataClient,
    OptionSnapshotRequest,
    QueryOrderStatus,
    RESTClient,
    StockHistoricalDataClient,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    TradingClient,
)
from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
    HistoryNotOffered,
    OrderNotFound,
    OrderPreview,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    check_change,
)
from app.brokers.rate_limit import RateLimiter
from app.domain.equity_curve import EquityPoint
from app.domain.models import AssetClass, Bar, BarInterval, OrderChange, OrderRequest, PositionEffect, Quote
from app.domain.symbols import SymbolError, parse_symbol

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AlpacaEndpoints:
    trading: str
    data: str


#: The one place an environment becomes a host (alpaca-py ``alpaca/common/enums.py`` BaseURL).
#: Market data lives on one host for paper and live keys alike.
ENDPOINTS: Mapping[Environment, AlpacaEndpoints] = {
    Environment.PAPER: AlpacaEndpoints("https://paper-api.alpaca.markets", "https://data.alpaca.markets"),
    Environment.LIVE: AlpacaEndpoints("https://api.alpaca.markets", "https://data.alpaca.markets"),
}

#: Alpaca publishes 200 requests per minute per key; a burst of 10 plus 190/min keeps any 60 s window
#: at or under 200.
RATE_PER_MINUTE = 190
RATE_BURST = 10

DEFAULT_TIMEOUT = (5.0, 15.0)
_MARKET_TZ = ZoneInfo("America/New_York")
_LIST_LIMIT = 500
#: Replacements followed at most when reading one order (a trader changes an order a few times).
_MAX_REPLACEMENTS = 50


def resolve_endpoints(environment: Environment, base_url: str | None = None) -> AlpacaEndpoints:
    """The hosts for an environment; an override (a fake or a proxy) serves both trading and data."""
    if base_url:
        root = base_url.rstrip("/")
        return AlpacaEndpoints(root, root)
    return ENDPOINTS[environment]


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout: requests has none, so a hung server would hang a thread."""

    def __init__(self, timeout: float | tuple[float, float]) -> None:
        super().__init__()
        self._default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._default_timeout)
        return super().request(method, url, *args, **kwargs)


def _quiet(client: RESTClient, timeout: float | tuple[float, float]) -> RESTClient:
    """Disable alpaca-py's own retries and give it a timeout.

    alpaca-py retries *any* request, order POSTs included, on 429/504 with a blocking 3 s sleep
    (``alpaca/common/rest.py``), and its constructors treat 0 retries as "use the default 3", so the
    attributes are set after construction. Reads are retried by this connector instead (async,
    honouring Retry-After); order sends are never retried.
    """
    client._retry = 0
    client._retry_codes = []
    client._session.close()
    client._session = _TimeoutSession(timeout)
    return client


def _market_day_start(now: datetime | None = None) -> datetime:
    """Midnight in New York today, in UTC: the start of the trading day orders are listed from."""
    local = (now or datetime.now(timezone.utc)).astimezone(_MARKET_TZ)
    return datetime.combine(local.date(), time(0), tzinfo=_MARKET_TZ).astimezone(timezone.utc)


def history_period(since: datetime, now: datetime) -> str:
    """The shortest of Alpaca's portfolio-history periods (``1W``, ``1M``, ``3M``, ``6M``, ``nA``) reaching back to ``since``."""
    days = max(1, -(-(now - since) // timedelta(days=1)))
    for limit, period in ((7, "1W"), (31, "1M"), (92, "3M"), (183, "6M")):
        if days <= limit:
            return period
    return f"{-(-days // 365)}A"


def _is_uuid(value: str | None) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


class AlpacaBroker:
    """A connected Alpaca account (Trading API v2 plus Market Data), paper or live.

    Every SDK call runs in a worker thread (``asyncio.to_thread``) after taking a token from the
    connector's limiter on the loop. Reads retry 429/5xx/transport failures with backoff; an order
    POST is sent exactly once and any doubt about its fate raises ``OutcomeUnknown``.
    """

    name = "alpaca"

    def __init__(
        self,
        credentials: Mapping[str, str],
        environment: Environment,
        *,
        base_url: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        read_attempts: int = 3,
        retry_backoff: float = 0.5,
        max_retry_wait: float = 5.0,
    ) -> None:
        key_id = (credentials.get("api_key_id") or "").strip()
        secret = (credentials.get("api_secret_key") or "").strip()
        if not key_id or not secret:
            raise AuthError("Enter both the Alpaca API key ID and the API secret key.")
        self.environment = environment
        self.endpoints = resolve_endpoints(environment, base_url)
        # Only the key's kind is remembered outside the SDK clients, for hints in error messages.
        self._key_kind = {"PK": "paper", "AK": "live"}.get(key_id[:2].upper(), "")
        paper = environment is Environment.PAPER
        self._trading = _quiet(
            TradingClient(key_id, secret, paper=paper, raw_data=True, url_override=self.endpoints.trading), timeout
        )
        self._stocks = _quiet(
            StockHistoricalDataClient(key_id, secret, raw_data=True, url_override=self.endpoints.data), timeout
        )
        self._options = _quiet(
            OptionHistoricalDataClient(key_id, secret, raw_data=True, url_override=self.endpoints.data), timeout
        )
        self._limiter = RateLimiter(RATE_PER_MINUTE, 60.0, burst=RATE_BURST)
        self._bars = AlpacaBars(self.endpoints.data, key_id, secret)
        self._stream_args = (stream_url(base_url), key_id, secret)
        self._read_attempts = max(1, read_attempts)
        self._retry_backoff = retry_backoff
        self._max_retry_wait = max_retry_wait
        self._closed = False

    def __repr__(self) -> str:
        return f"AlpacaBroker(environment={self.environment.value}, trading={self.endpoints.trading})"

    def quote_stream(self) -> AlpacaQuoteStream:
        """Stock quotes and trades pushed over Alpaca's market-data websocket (see ``stream.py``)."""
        return AlpacaQuoteStream(*self._stream_args)

    # -- plumbing -------------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], /, *args: Any) -> T:
        if self._closed:
            raise BrokerUnavailable("The Alpaca connection is closed.")
        await self._limiter.acquire()
        return await asyncio.to_thread(fn, *args)

    async def _read(self, fn: Callable[..., T], /, *args: Any, what: str) -> T:
        """A call without side effects: retried on 429 (after Retry-After), 5xx and transport errors.

        4xx answers other than 429 are re-raised as ``APIError`` for the caller to interpret.
        """
        error: BrokerError | None = None
        for attempt in range(1, self._read_attempts + 1):
            try:
                return await self._run(fn, *args)
            except APIError as exc:
                status = exc.status_code or 0
                if status == 429:
                    wait = retry_after_seconds(exc.response)
                    self._limiter.pause(wait)
                    error = RateLimited("Alpaca is rate limiting requests; try again shortly.", retry_after=wait)
                    if wait > self._max_retry_wait:
                        raise error from exc
                elif status >= 500:
                    error = BrokerUnavailable(f"Alpaca answered with a server error ({status}) while {what}.")
                else:
                    raise
            except requests.RequestException as exc:
                error = BrokerUnavailable(f"Alpaca could not be reached while {what} ({type(exc).__name__}).")
            if attempt < self._read_attempts:
                log.warning("Alpaca read failed while %s (attempt %d): %s", what, attempt, error)
                if not isinstance(error, RateLimited):
                    await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
        assert error is not None
        raise error

    def _auth_error(self, exc: APIError, service: str = "trading") -> AuthError:
        return auth_error(exc, environment=self.environment, key_kind=self._key_kind, service=service)

    def _read_error(self, exc: APIError, what: str, service: str = "trading") -> BrokerError:
        if (exc.status_code or 0) in (401, 403):
            return self._auth_error(exc, service)
        return read_failure(exc, what)

    # -- Broker protocol ------------------------------------------------------------------------

    async def verify(self) -> AccountInfo:
        raw = await self._account_raw()
        try:
            info = parse_alpaca_account(raw, is_paper=self.environment is Environment.PAPER)
        except AlpacaParseError as exc:
            raise BrokerUnavailable(f"Alpaca's account answer could not be read ({exc}).") from exc
        looks_paper = looks_like_paper_account(info.account_number)
        if looks_paper != (self.environment is Environment.PAPER):
            actual = "paper" if looks_paper else "live"
            raise EnvironmentMismatch(
                f"These keys open a {actual} Alpaca account (…{info.account_last4}) but the connection is set to "
                f"{self.environment.value}. Choose the {actual} environment or use your {self.environment.value} keys."
            )
        if raw.get("trading_blocked") or raw.get("account_blocked"):
            log.warning("Alpaca reports trading is blocked on account …%s", info.account_last4)
        return info

    async def place_order(self, request: OrderRequest) -> BrokerOrder:
        coid = request.client_order_id
        intent = None
        if request.instrument.is_option:
            held = Decimal(0)
            if request.position_effect is PositionEffect.AUTO:
                held = await self._held_quantity(request.symbol)
            intent = resolve_position_intent(request.side, request.position_effect, held)
        try:
            sdk_request = build_order_request(request, intent)
        except ValueError as exc:
            raise OrderRejected(str(exc)) from exc
        try:
            raw = await self._run(self._trading.submit_order, sdk_request)
        except APIError as exc:
            failure = order_post_failure(exc, coid)
            if failure.kind == AlpacaFailure.RATE_LIMITED:
                self._limiter.pause(failure.error.retry_after)
            if failure.kind == AlpacaFailure.AUTH:
                raise self._auth_error(exc) from exc
            if failure.kind == AlpacaFailure.DUPLICATE:
                return await self._existing_order(coid, exc)
            raise failure.error from exc
        except requests.RequestException as exc:
            if never_sent(exc):
                raise BrokerUnavailable(
                    f"Alpaca could not be reached ({type(exc).__name__}); the order was not sent."
                ) from exc
            log.warning("Order %s: no answer from Alpaca (%s); outcome unknown", coid, type(exc).__name__)
            raise OutcomeUnknown(coid) from exc
        try:
            order = parse_alpaca_order(raw)
        except AlpacaParseError as exc:
            raise OutcomeUnknown(
                coid, f"Alpaca answered order {coid} in a form that could not be read; its status will be checked."
            ) from exc
        log.info("Order %s placed at Alpaca as %s (%s)", coid, order.broker_order_id, order.raw_status)
        return order

    async def _existing_order(self, coid: str, exc: APIError) -> BrokerOrder:
        """Alpaca refused a second order with this client id: the first one is the order."""
        log.warning("Alpaca already has an order with client id %s; returning it instead of a new one", coid)
        try:
            existing = await self.get_order(coid)
        except BrokerError as lookup_error:
            raise OutcomeUnknown(coid) from lookup_error
        if existing is None:
            raise OrderRejected("client_order_id must be unique") from exc
        return existing

    async def _held_quantity(self, symbol: str) -> Decimal:
        try:
            raw = await self._read(self._trading.get_open_position, symbol, what="reading the position")
        except APIError as exc:
            if exc.status_code == 404:
                return Decimal(0)
            raise self._read_error(exc, "reading the position") from exc
        return self._parse(parse_alpaca_position, raw).quantity

    async def preview_order(self, request: OrderRequest) -> OrderPreview:
        """Alpaca's Trading API has no order preview: estimate from the latest quote and buying power."""
        account_raw = await self._account_raw()
        quote = (await self.quotes([request.symbol])).get(request.symbol)
        return estimate_preview(request, account_raw, quote)

    async def _account_raw(self) -> Mapping[str, Any]:
        try:
            return await self._read(self._trading.get_account, what="reading the account")
        except APIError as exc:
            raise self._read_error(exc, "reading the account") from exc

    async def cancel_order(self, ref: OrderRef) -> BrokerOrder:
        broker_id = ref.broker_order_id
        if not _is_uuid(broker_id):
            found = await self.get_order(ref.client_order_id)
            if found is None:
                raise OrderNotFound(f"Alpaca has no order {ref.client_order_id}.")
            broker_id = found.broker_order_id
        try:
            await self._run(self._trading.cancel_order_by_id, broker_id)
        except APIError as exc:
            status = exc.status_code or 0
            if status == 404:
                raise OrderNotFound(f"Alpaca has no order {ref.client_order_id}.") from exc
            if status == 422:
                successor = await self._successor_to_cancel(ref, broker_id)
                if successor is not None:
                    return await self.cancel_order(OrderRef(ref.client_order_id, successor))
                raise OrderRejected(f"not cancelable: {error_message(exc) or 'the order is no longer open'}") from exc
            if status in (401, 403):
                raise self._auth_error(exc) from exc
            if status == 429:
                wait = retry_after_seconds(exc.response)
                self._limiter.pause(wait)
                raise RateLimited(
                    "Alpaca is rate limiting requests; the cancel was not sent.", retry_after=wait
                ) from exc
            raise BrokerUnavailable(
                f"Alpaca failed while cancelling order {ref.client_order_id} ({status}); check its status."
            ) from exc
        except requests.RequestException as exc:
            raise BrokerUnavailable(
                f"No answer from Alpaca to the cancel of order {ref.client_order_id}; check its status."
            ) from exc
        return await self._order_by_id(broker_id, ref.client_order_id)

    async def replace_order(self, ref: OrderRef, change: OrderChange) -> BrokerOrder:
        """``PATCH /v2/orders/{id}``: Alpaca answers with a new order that replaces ours; it is
        followed from then on under our client order id (see ``fold_replacement_chain``)."""
        coid = ref.client_order_id
        check_change(change, broker="Alpaca")
        chain = await self._chain(coid)
        if chain is None:
            raise OrderNotFound(f"Alpaca has no order {coid}.")
        current = self._parse(fold_replacement_chain, chain)
        if current.status.is_terminal:
            raise OrderRejected(f"order {coid} is already {current.status.value.replace('_', ' ')} and can't be changed")
        working_id = str(chain[-1].get("id"))
        try:
            sdk_request = build_replace_request(change, current, replacement_client_order_id(coid, secrets.token_hex(4)))
        except ValueError as exc:
            raise OrderRejected(str(exc)) from exc
        try:
            raw = await self._run(self._trading.replace_order_by_id, working_id, sdk_request)
        except APIError as exc:
            status = exc.status_code or 0
            if status == 404:
                raise OrderNotFound(f"Alpaca has no order {coid}.") from exc
            failure = order_post_failure(exc, coid)
            if failure.kind == AlpacaFailure.RATE_LIMITED:
                self._limiter.pause(failure.error.retry_after)
            if failure.kind == AlpacaFailure.AUTH:
                raise self._auth_error(exc) from exc
            raise failure.error from exc
        except requests.RequestException as exc:
            if never_sent(exc):
                raise BrokerUnavailable(
                    f"Alpaca could not be reached ({type(exc).__name__}); the change was not sent."
                ) from exc
            log.warning("Change of order %s: no answer from Alpaca (%s); outcome unknown", coid, type(exc).__name__)
            raise OutcomeUnknown(
                coid, f"No answer from Alpaca to the change of order {coid}; it will be checked before anything is resent."
            ) from exc
        if not isinstance(raw, Mapping):
            raise OutcomeUnknown(coid, f"Alpaca answered the change of order {coid} in a form that could not be read.")
        replaced = {**chain[-1], "status": "replaced", "replaced_by": raw.get("id")}
        order = self._parse(fold_replacement_chain, [*chain[:-1], replaced, raw])
        log.info("Order %s changed at Alpaca; now %s (%s)", coid, order.broker_order_id, order.raw_status)
        return order

    async def _chain(self, client_order_id: str) -> list[Mapping[str, Any]] | None:
        """Our order and every order that replaced it, oldest first; None when Alpaca has no such order."""
        try:
            raw = await self._read(
                self._trading.get_order_by_client_id, client_order_id, what="looking up an order"
            )
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise self._read_error(exc, "looking up an order") from exc
        chain = [raw]
        while (successor := replaced_by(chain[-1])) is not None and len(chain) < _MAX_REPLACEMENTS:
            try:
                chain.append(await self._read(self._trading.get_order_by_id, successor, what="reading an order"))
            except APIError as exc:
                raise self._read_error(exc, "reading an order") from exc
        return chain

    async def _successor_to_cancel(self, ref: OrderRef, refused_id: str) -> str | None:
        """The working order that replaced the one Alpaca refused to cancel, if the refusal was for that."""
        current = await self.get_order(ref.client_order_id) if ref.client_order_id else None
        if current is None or current.status.is_terminal or current.broker_order_id == refused_id:
            return None
        return current.broker_order_id

    async def _order_by_id(self, broker_id: str, coid: str) -> BrokerOrder:
        try:
            raw = await self._read(self._trading.get_order_by_id, broker_id, what="reading an order")
        except APIError as exc:
            if exc.status_code == 404:
                raise OrderNotFound(f"Alpaca has no order {coid}.") from exc
            raise self._read_error(exc, "reading an order") from exc
        return self._parse(parse_alpaca_order, raw)

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        chain = await self._chain(client_order_id)
        return None if chain is None else self._parse(fold_replacement_chain, chain)

    async def list_orders(self) -> list[BrokerOrder]:
        open_filter = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=_LIST_LIMIT)
        closed_filter = GetOrdersRequest(
            status=QueryOrderStatus.CLOSED, limit=_LIST_LIMIT, after=_market_day_start()
        )
        raws: dict[str, Mapping[str, Any]] = {}
        for query in (open_filter, closed_filter):
            try:
                raw = await self._read(self._trading.get_orders, query, what="listing orders")
            except APIError as exc:
                raise self._read_error(exc, "listing orders") from exc
            if not isinstance(raw, list):
                raise BrokerUnavailable("Alpaca sent an order list that could not be read.")
            for item in raw:
                raws.setdefault(str(item.get("id")), item)
        return self._parse(fold_replacements, list(raws.values()))

    async def positions(self) -> list[BrokerPosition]:
        try:
            raw = await self._read(self._trading.get_all_positions, what="reading positions")
        except APIError as exc:
            raise self._read_error(exc, "reading positions") from exc
        return self._parse(parse_alpaca_positions, raw)

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        equities: list[str] = []
        options: list[str] = []
        for text in symbols:
            try:
                instrument = parse_symbol(text)
            except SymbolError:
                continue
            target = options if instrument.asset_class is AssetClass.OPTION else equities
            if instrument.symbol not in target:
                target.append(instrument.symbol)
        result: dict[str, Quote] = {}
        if equities:
            quotes = await self._data_read(
                self._stocks.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols=equities)
            )
            trades = await self._data_read(
                self._stocks.get_stock_latest_trade, StockLatestTradeRequest(symbol_or_symbols=equities)
            )
            result.update(self._parse(parse_alpaca_quotes, quotes, trades))
        if options:
            snapshots = await self._data_read(
                self._options.get_option_snapshot, OptionSnapshotRequest(symbol_or_symbols=options)
            )
            result.update(self._parse(parse_alpaca_option_snapshots, snapshots))
        return result

    async def _data_read(self, fn: Callable[..., T], request: Any) -> T:
        try:
            return await self._read(fn, request, what="reading quotes")
        except APIError as exc:
            raise self._read_error(exc, "reading quotes", service="market data") from exc

    @staticmethod
    def _parse(parser: Callable[..., T], *raw: Any) -> T:
        try:
            return parser(*raw)
        except (AlpacaParseError, AttributeError, TypeError) as exc:
            raise BrokerUnavailable(f"Alpaca sent an answer that could not be read ({exc}).") from exc

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        """Historical bars from Alpaca's market data (see ``app/brokers/alpaca/bars.py``)."""
        if self._closed:
            raise BrokerUnavailable("The Alpaca connection is closed.")
        await self._limiter.acquire()
        return await self._bars.bars(symbol, interval, start, end)

    async def equity_history(self, since: datetime) -> list[EquityPoint]:
        """``GET /v2/account/portfolio/history`` at one point a day (``timeframe=1D``), from ``since`` on."""
        query = GetPortfolioHistoryRequest(
            period=history_period(since, datetime.now(timezone.utc)), timeframe="1D"
        )
        try:
            raw = await self._read(self._trading.get_portfolio_history, query, what="reading the portfolio history")
        except APIError as exc:
            if exc.status_code == 404:
                raise HistoryNotOffered("Alpaca has no portfolio history for this account.") from exc
            raise self._read_error(exc, "reading the portfolio history") from exc
        return [point for point in self._parse(parse_alpaca_portfolio_history, raw) if point.at >= since]

    async def close(self) -> None:
        self._closed = True
        await self._bars.close()
        for client in (self._trading, self._stocks, self._options):
            client._session.close()
