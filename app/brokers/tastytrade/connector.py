"""Tastytrade connector: OAuth2 refresh-token auth, REST orders/accounts/positions and REST quotes.

The wire format lives in ``parse``; this module does the I/O and the safety rules:

* Auth is the OAuth2 refresh-token grant only (session login is gone). The 15-minute access token is
  renewed when less than a minute is left, and once more after a 401; a second 401 is an AuthError.
* A token request that the broker refuses is never repeated on its own: Tastytrade blocks an IP
  after repeated failed logins. Every later call fails fast with AuthError until ``verify()`` is
  called again, which makes exactly one new attempt.
* Orders are sent once. A lost answer is OutcomeUnknown; ``get_order`` then finds the order by our
  client order id in ``external-identifier`` (Tastytrade has no server-side idempotency key).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

import httpx

import app
from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    Environment,
    HistoryNotOffered,
    OrderNotFound,
    OrderPreview,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    check_change,
)
from app.brokers.rate_limit import RateLimiter
from app.brokers.rest import DEFAULT_TIMEOUT, RestTransport
from app.brokers.tastytrade.parse import (
    ErrorInfo,
    build_order_body,
    fold_replacements,
    has_more_pages,
    items_of,
    order_of,
    parse_error,
    parse_net_liq_history,
    parse_tastytrade_account,
    parse_tastytrade_order,
    parse_tastytrade_positions,
    parse_tastytrade_preview,
    parse_tastytrade_quotes,
    preview_errors,
    quote_request_params,
    replacement_body,
    resolve_position_effect,
    unwrap,
)
from app.domain.equity_curve import EquityPoint
from app.domain.models import Bar, BarInterval, OrderChange, OrderRequest, PositionEffect, Quote
from app.domain.symbols import compact_occ

log = logging.getLogger(__name__)

#: The one place an environment becomes an endpoint.
BASE_URLS: Mapping[Environment, str] = {
    Environment.PAPER: "https://api.cert.tastyworks.com",
    Environment.LIVE: "https://api.tastyworks.com",
}
#: Order-api version pinned in production (release notes 20261012: searches need a start date,
#: live lists may paginate; both handled here). The sandbox does not accept the header.
API_VERSION = "20261012"
#: Renew the access token when less than this is left (tastyware uses the same margin).
REFRESH_MARGIN_SECONDS = 60.0
DEFAULT_TOKEN_LIFETIME = 900.0
#: Tastytrade publishes no numeric limit ("reasonable thresholds", 429 without headers). Two
#: requests a second with bursts of ten keeps a polling desktop client far below any plausible
#: threshold while still letting a connect (token, accounts, balances) or an order go out at once.
RATE_PER_SECOND = 2
RATE_BURST = 10
QUOTE_BATCH = 100  # "up to 100 symbols across all instrument-type parameters"
HISTORY_DAYS = 30
HISTORY_PAGE_SIZE = 50
HISTORY_MAX_PAGES = 10
LIVE_MAX_PAGES = 20
#: ``time-back`` spans of the net-liq history, shortest first, with the days each reaches back.
NET_LIQ_SPANS = ((1, "1d"), (7, "1w"), (31, "1m"), (92, "3m"), (183, "6m"), (366, "1y"))


class TastytradeBroker:
    """A Tastytrade account over the REST API. See ``app.brokers.base`` for the contract."""

    name = "tastytrade"

    def __init__(
        self,
        credentials: Mapping[str, str],
        environment: Environment,
        *,
        base_url: str | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.environment = environment
        self._client_secret = (credentials.get("client_secret") or "").strip()
        self._refresh_token = (credentials.get("refresh_token") or "").strip()
        self._wanted_account = (credentials.get("account_number") or "").strip().upper()
        headers = {"User-Agent": f"TradeBridge/{app.__version__}", "Accept": "application/json"}
        if environment is Environment.LIVE:
            headers["Accept-Version"] = API_VERSION
        self._transport = RestTransport(
            base_url or BASE_URLS[environment],
            limiter=RateLimiter(RATE_PER_SECOND, 1.0, burst=RATE_BURST),
            headers=headers,
            timeout=timeout or DEFAULT_TIMEOUT,
            broker_name="Tastytrade",
        )
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self._auth_refused: str | None = None
        self._account_number: str | None = None

    def __repr__(self) -> str:
        account = f"…{self._account_number[-4:]}" if self._account_number else "unverified"
        return f"TastytradeBroker(environment={self.environment.value}, account={account})"

    # --- auth ------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """Broker text is shown to the trader; make sure it can never carry our secrets."""
        for secret in (self._client_secret, self._refresh_token, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _fetch_token(self) -> str:
        """One refresh-token grant. A refusal latches: no automatic second attempt."""
        if self._auth_refused is not None:
            raise AuthError(self._auth_refused)
        if not self._client_secret or not self._refresh_token:
            raise AuthError("Enter the Tastytrade client secret and refresh token.")
        body = {
            "grant_type": "refresh_token",
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }
        response = await self._transport.write(
            "POST", "/oauth/token", content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        if response.status_code >= 400:
            info = parse_error(_json(response), response.status_code)
            self._token = None
            self._auth_refused = self._scrub(
                f"Tastytrade refused the client secret or refresh token ({info.code}). Check that both were "
                f"created for the {'sandbox' if self.environment is Environment.PAPER else 'production'} "
                "environment, then connect again."
            )
            log.warning("Tastytrade refused the token request (%s); no retry before a reconnect", response.status_code)
            raise AuthError(self._auth_refused)
        payload = _json(response)
        token = payload.get("access_token") if isinstance(payload, Mapping) else None
        if not isinstance(token, str) or not token:
            raise BrokerUnavailable("Tastytrade answered the token request without an access token.")
        try:
            lifetime = float(payload.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        self._token = token
        self._token_expires_at = time.monotonic() + lifetime
        log.info("Tastytrade access token obtained (valid %.0f s)", lifetime)
        return token

    async def _bearer(self, *, stale: str | None = None) -> str:
        """A usable access token; ``stale`` is one the broker just refused with 401."""
        async with self._token_lock:
            fresh_enough = self._token_expires_at - time.monotonic() >= REFRESH_MARGIN_SECONDS
            if self._token is not None and self._token != stale and fresh_enough:
                return self._token
            return await self._fetch_token()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        client_order_id: str | None = None,
        write: bool = False,
    ) -> httpx.Response:
        """One API call with a bearer token; a 401 renews the token once and repeats the call once.

        Repeating a write after a 401 is safe: the broker refused it before doing anything.
        """
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["content"] = json.dumps(body)
        token = await self._bearer()
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            if write:
                response = await self._transport.write(
                    method, path, client_order_id=client_order_id, headers=headers, **kwargs
                )
            else:
                response = await self._transport.read(method, path, headers=headers, **kwargs)
            if response.status_code != 401:
                return response
            if attempt == 0:
                log.info("Tastytrade answered 401 to %s %s; renewing the access token once", method, path)
                token = await self._bearer(stale=token)
        raise AuthError("Tastytrade no longer accepts this login's access token; connect again.")

    async def _get(self, path: str, *, doing: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await self._send("GET", path, params=params)
        if response.status_code >= 400:
            _fail(response, doing)
        return _json(response)

    # --- account ---------------------------------------------------------------------------

    async def _select_account(self) -> tuple[Mapping[str, Any], str]:
        body = await self._get("/customers/me/accounts", doing="list the accounts of this login")
        entries = [
            (entry["account"], str(entry.get("authority-level") or ""))
            for entry in items_of(body)
            if isinstance(entry.get("account"), Mapping) and not entry["account"].get("is-closed")
        ]
        if self._wanted_account:
            for account, authority in entries:
                if str(account.get("account-number", "")).upper() == self._wanted_account:
                    return account, authority
            raise AuthError(f"Account {self._wanted_account} is not an open account of this Tastytrade login.")
        if len(entries) == 1:
            return entries[0]
        if not entries:
            raise AuthError("This Tastytrade login has no open account.")
        numbers = ", ".join(str(account.get("account-number")) for account, _ in entries)
        raise AuthError(f"This Tastytrade login has several accounts ({numbers}); enter the account number to use.")

    async def _account(self) -> str:
        if self._account_number is None:
            account, _ = await self._select_account()
            self._account_number = str(account["account-number"])
        return self._account_number

    async def verify(self) -> AccountInfo:
        # An explicit reconnect is the only thing that may try a refused token grant again.
        self._auth_refused = None
        account, authority = await self._select_account()
        number = str(account["account-number"])
        balances = unwrap(await self._get(f"/accounts/{number}/balances", doing="read the account balances"))
        self._account_number = number
        return parse_tastytrade_account(
            account,
            balances if isinstance(balances, Mapping) else {},
            is_paper=self.environment is Environment.PAPER,
            authority_level=authority,
        )

    # --- orders ----------------------------------------------------------------------------

    async def _held_quantity(self, symbol: str) -> Decimal:
        key = compact_occ(symbol)
        return sum((p.quantity for p in await self.positions() if compact_occ(p.symbol) == key), Decimal(0))

    async def _order_body(self, request: OrderRequest) -> dict[str, Any]:
        held = Decimal(0)
        if request.position_effect is PositionEffect.AUTO:
            held = await self._held_quantity(request.symbol)
        try:
            return build_order_body(request, resolve_position_effect(request, held))
        except ValueError as exc:
            raise OrderRejected(str(exc)) from None

    async def place_order(self, request: OrderRequest) -> BrokerOrder:
        account = await self._account()
        body = await self._order_body(request)
        response = await self._send(
            "POST", f"/accounts/{account}/orders", body=body, client_order_id=request.client_order_id, write=True
        )
        if response.status_code >= 400:
            raise OrderRejected(self._scrub(parse_error(_json(response), response.status_code).reason))
        raw = order_of(_json(response))
        if raw is None:
            # 2xx means the broker took it; without a readable order we must not guess its state.
            raise OutcomeUnknown(request.client_order_id)
        order = parse_tastytrade_order(raw)
        log.info(
            "Tastytrade order %s placed as %s (%s)", request.client_order_id, order.broker_order_id, order.raw_status
        )
        if not order.client_order_id:
            order = dataclasses.replace(order, client_order_id=request.client_order_id)
        return order

    async def preview_order(self, request: OrderRequest) -> OrderPreview:
        account = await self._account()
        body = await self._order_body(request)
        # A dry run routes nothing, so an unanswered one is simply unavailable, not unknown.
        response = await self._send("POST", f"/accounts/{account}/orders/dry-run", body=body, write=True)
        payload = _json(response)
        if response.status_code >= 400:
            raise OrderRejected(self._scrub(parse_error(payload, response.status_code).reason))
        errors = preview_errors(payload)
        if errors:
            raise OrderRejected("; ".join(errors))
        return parse_tastytrade_preview(payload, request)

    async def _pages(
        self, path: str, params: Mapping[str, Any], *, doing: str, max_pages: int
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Items of a list endpoint, following ``pagination`` when the answer has one."""
        for page in range(max_pages):
            body = await self._get(path, doing=doing, params={**params, "page-offset": page} if page else params)
            for item in items_of(body):
                yield item
            if not has_more_pages(body):
                return
        log.warning("Stopped reading %s after %d pages", path, max_pages)

    async def _live_orders(self) -> list[Mapping[str, Any]]:
        account = await self._account()
        return [
            raw
            async for raw in self._pages(
                f"/accounts/{account}/orders/live", {}, doing="list today's orders", max_pages=LIVE_MAX_PAGES
            )
        ]

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        # Every order carrying our id: a cancel-replace leaves the old one and its replacement.
        ours = [raw for raw in await self._live_orders() if raw.get("external-identifier") == client_order_id]
        if ours:
            return _only(fold_replacements(ours))
        # Not among today's or still-working orders: search the recent history, newest first.
        account = await self._account()
        start = (datetime.now(UTC) - timedelta(days=HISTORY_DAYS)).date().isoformat()
        params = {"per-page": HISTORY_PAGE_SIZE, "start-date": start, "sort": "Desc"}
        async for raw in self._pages(
            f"/accounts/{account}/orders", params, doing="search the order history", max_pages=HISTORY_MAX_PAGES
        ):
            if raw.get("external-identifier") == client_order_id:
                ours.append(raw)
        return _only(fold_replacements(ours)) if ours else None

    async def list_orders(self) -> list[BrokerOrder]:
        return fold_replacements(await self._live_orders())

    async def replace_order(self, ref: OrderRef, change: OrderChange) -> BrokerOrder:
        """``PUT /accounts/{n}/orders/{id}``: cancel-replace with new prices. Tastytrade gives the
        replacement an id of its own; it carries our external identifier, so it stays our order."""
        coid = ref.client_order_id
        check_change(change, broker="Tastytrade", quantity_allowed=False)
        current = await self.get_order(coid) if coid else None
        broker_id = current.broker_order_id if current is not None else ref.broker_order_id
        if not broker_id:
            raise OrderNotFound(f"Tastytrade has no order {coid}.")
        account = await self._account()
        response = await self._send("GET", f"/accounts/{account}/orders/{broker_id}")
        if response.status_code == 404:
            raise OrderNotFound(f"Tastytrade has no order {coid} ({broker_id}).")
        if response.status_code >= 400:
            _fail(response, "read the order")
        raw = order_of(_json(response))
        if raw is None:
            raise OrderNotFound(f"Tastytrade has no order {coid} ({broker_id}).")
        status = parse_tastytrade_order(raw).status
        if status.is_terminal:
            raise OrderRejected(f"order {coid} is already {status.value.replace('_', ' ')} and can't be changed")
        try:
            body = replacement_body(raw, change)
        except ValueError as exc:
            raise OrderRejected(str(exc)) from None
        response = await self._send(
            "PUT", f"/accounts/{account}/orders/{broker_id}", body=body, client_order_id=coid, write=True
        )
        if response.status_code == 404:
            raise OrderNotFound(f"Tastytrade has no order {coid} ({broker_id}).")
        if response.status_code >= 400:
            raise OrderRejected(self._scrub(parse_error(_json(response), response.status_code).reason))
        placed = order_of(_json(response))
        if placed is None:
            raise OutcomeUnknown(coid, f"Tastytrade answered the change of order {coid} without the order.")
        log.info("Tastytrade order %s replaced by %s", coid, placed.get("id"))
        replacement = {**placed, "replaces-order-id": placed.get("replaces-order-id") or raw.get("id")}
        order = _only(fold_replacements([{**raw, "replacing-order-id": placed.get("id")}, replacement]))
        return order if order.client_order_id else dataclasses.replace(order, client_order_id=coid)

    async def cancel_order(self, ref: OrderRef) -> BrokerOrder:
        broker_id = ref.broker_order_id
        if not broker_id:
            found = await self.get_order(ref.client_order_id)
            if found is None or not found.broker_order_id:
                raise OrderNotFound(f"Tastytrade has no order {ref.client_order_id}.")
            broker_id = found.broker_order_id
        account = await self._account()
        response = await self._send("DELETE", f"/accounts/{account}/orders/{broker_id}", write=True)
        payload = _json(response)
        if response.status_code == 404:
            raise OrderNotFound(f"Tastytrade has no order {ref.client_order_id} ({broker_id}).")
        if response.status_code >= 400:
            raise OrderRejected(self._scrub(parse_error(payload, response.status_code).reason))
        raw = order_of(payload)
        if raw is None:
            raw = order_of(await self._get(f"/accounts/{account}/orders/{broker_id}", doing="read the order"))
        if raw is None:
            raise OrderNotFound(f"Tastytrade has no order {ref.client_order_id} ({broker_id}).")
        order = parse_tastytrade_order(raw)
        if not order.client_order_id:
            order = dataclasses.replace(order, client_order_id=ref.client_order_id)
        return order

    # --- positions and quotes --------------------------------------------------------------

    async def positions(self) -> list[BrokerPosition]:
        account = await self._account()
        body = await self._get(f"/accounts/{account}/positions", doing="read the positions")
        return parse_tastytrade_positions(items_of(body))

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        _, asked = quote_request_params(symbols)
        texts = list(asked.values())
        result: dict[str, Quote] = {}
        for start in range(0, len(texts), QUOTE_BATCH):
            params, _ = quote_request_params(texts[start : start + QUOTE_BATCH])
            response = await self._send("GET", "/market-data/by-type", params=params)
            if response.status_code >= 400:
                info = parse_error(_json(response), response.status_code)
                raise BrokerUnavailable(
                    f"Tastytrade did not provide quotes ({info.code}: {info.message}). Its REST quotes are "
                    "only for funded production accounts; the sandbox has no market data."
                )
            for symbol, quote in parse_tastytrade_quotes(items_of(_json(response))).items():
                if symbol in asked:
                    result[asked[symbol]] = dataclasses.replace(quote, symbol=asked[symbol])
        return result

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        """Tastytrade's REST API has no candles: they come only as DXLink streamer ``Candle`` events."""
        raise BrokerUnavailable(
            "Tastytrade serves price history only through its DXLink streamer, which TradeBridge does not use yet."
        )

    async def equity_history(self, since: datetime) -> list[EquityPoint]:
        """``GET /accounts/{n}/net-liq/history``: the net liquidating value's candles over the shortest
        ``time-back`` span reaching back to ``since``. Refused (404, 403 ``not_permitted``: the sandbox
        has no such history) it is ``HistoryNotOffered``, not a failure."""
        account = await self._account()
        days = -(-(datetime.now(UTC) - since) // timedelta(days=1))
        span = next((name for limit, name in NET_LIQ_SPANS if days <= limit), "all")
        response = await self._send("GET", f"/accounts/{account}/net-liq/history", params={"time-back": span})
        if response.status_code in (403, 404):
            info = parse_error(_json(response), response.status_code)
            raise HistoryNotOffered(f"Tastytrade gives no net-liq history for this account ({info.code}).")
        if response.status_code >= 400:
            _fail(response, "read the net-liq history")
        return [point for point in parse_net_liq_history(items_of(_json(response))) if point.at >= since]

    async def close(self) -> None:
        await self._transport.close()


def _only(orders: list[BrokerOrder]) -> BrokerOrder:
    """The one order a set of our orders folds into (the newest, should history hold strays)."""
    return max(orders, key=lambda order: order.updated_at)


def _json(response: httpx.Response) -> Any:
    """The body as JSON with exact decimals; None when it is not JSON (nginx's HTML 401 page)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None


def _fail(response: httpx.Response, doing: str) -> NoReturn:
    info: ErrorInfo = parse_error(_json(response), response.status_code)
    if response.status_code == 403:
        raise AuthError(f"Tastytrade does not permit this login to {doing} ({info.code}: {info.reason}).")
    raise BrokerUnavailable(f"Tastytrade could not {doing} ({response.status_code} {info.code}: {info.reason}).")
