"""Tradier connector: REST over httpx (Bearer token, JSON answers, form bodies) behind the Broker protocol.

Tradier has no idempotency key: our client order id travels as the order ``tag`` and is found again
by listing orders with ``includeTags=true``. Requests are paced per Tradier rate-limit bucket
(standard, market data, trading), and the ``X-Ratelimit-*`` headers pause a bucket that is used up.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import httpx

from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    HistoryNotOffered,
    Environment,
    OrderNotFound,
    OrderPreview,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    check_change,
)
from app.brokers.rate_limit import RateLimiter
from app.brokers.rest import DEFAULT_TIMEOUT, RestTransport
from app.brokers.tradier.bars import fetch_tradier_bars
from app.brokers.tradier.http import (
    TRADIER_LIMITS,
    TradierLimits,
    decode,
    error_for,
    honour_rate_headers,
    json_or_none,
    limiter_for,
    readable,
)
from app.brokers.tradier.parse import (
    collection,
    error_messages,
    is_open_status,
    modify_form,
    order_form,
    parse_tradier_account,
    parse_tradier_order,
    parse_tradier_positions,
    parse_tradier_preview,
    parse_tradier_quotes,
    profile_accounts,
    tradier_side,
    unmatched_symbols,
)
from app.domain.equity_curve import EquityPoint
from app.domain.models import Bar, BarInterval, OrderChange, OrderRequest, OrderStatus, PositionEffect, Quote
from app.domain.symbols import compact_occ

log = logging.getLogger(__name__)

#: The one place an environment becomes a host.
TRADIER_ENDPOINTS: Mapping[Environment, str] = MappingProxyType(
    {
        Environment.PAPER: "https://sandbox.tradier.com/v1",
        Environment.LIVE: "https://api.tradier.com/v1",
    }
)

ORDERS_PAGE_SIZE = 100
MAX_ORDER_PAGES = 20
#: ``filter=all`` is for occasional use only: Tradier may disable tokens that poll it.
HISTORY_TTL_SECONDS = 600.0
QUOTE_CHUNK = 100


@dataclass(frozen=True, slots=True)
class _Channel:
    """One rate-limit bucket: its own transport and limiter, so a used-up bucket pauses only itself."""

    transport: RestTransport
    limiter: RateLimiter


class TradierBroker:
    """A Tradier brokerage account (sandbox or live) behind the ``Broker`` protocol."""

    name = "tradier"

    def __init__(
        self,
        credentials: Mapping[str, str],
        environment: Environment,
        *,
        base_url: str | None = None,
        limits: TradierLimits | None = None,
        timeout: float | None = None,
    ) -> None:
        token = (credentials.get("access_token") or "").strip()
        account = (credentials.get("account_number") or "").strip().upper()
        if not token:
            raise AuthError("Enter your Tradier access token.")
        if not account:
            raise AuthError("Enter your Tradier account number.")
        self.environment = environment
        self._account = account
        self._base_url = (base_url or TRADIER_ENDPOINTS[environment]).rstrip("/")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        limits = limits or TRADIER_LIMITS[environment]
        http_timeout = DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout, connect=min(timeout, 5.0))

        def channel(per_minute: int) -> _Channel:
            limiter = limiter_for(per_minute)
            transport = RestTransport(
                self._base_url, limiter=limiter, headers=headers, timeout=http_timeout, broker_name="Tradier"
            )
            return _Channel(transport, limiter)

        self._standard = channel(limits.standard)
        self._market = channel(limits.market_data)
        self._trading = channel(limits.trading)
        self._order_ids: dict[str, str] = {}
        self._history: tuple[float, list[Mapping[str, Any]]] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"TradierBroker(environment={self.environment.value}, account=…{self._account[-4:]})"

    @property
    def base_url(self) -> str:
        """The API root this connector talks to (the environment's host, or the override)."""
        return self._base_url

    @property
    def _orders_path(self) -> str:
        return f"/accounts/{self._account}/orders"

    # ------------------------------------------------------------------ protocol

    async def verify(self) -> AccountInfo:
        profile_account = await self._profile_account()
        balances = await self._get(self._standard, f"/accounts/{self._account}/balances")
        try:
            return parse_tradier_account(
                self._account, balances, profile_account, is_paper=self.environment is Environment.PAPER
            )
        except ValueError as exc:
            raise BrokerUnavailable(f"Tradier sent balances this app cannot read ({exc}).") from exc

    async def place_order(self, request: OrderRequest) -> BrokerOrder:
        form = order_form(request, await self._side_for(request))
        coid = request.client_order_id
        log.info("Tradier: sending order %s (%s %s %s)", coid, form["side"], form["quantity"], request.symbol)
        response = await self._send(self._trading, "POST", self._orders_path, client_order_id=coid, data=form)
        if response.status_code >= 400:
            raise self._error(response, order=True)
        try:
            payload = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise OutcomeUnknown(
                coid, f"Tradier's answer to order {coid} could not be read; its status will be checked first."
            ) from None
        rejection = error_messages(payload)
        if rejection:
            raise OrderRejected("; ".join(rejection))
        order = payload.get("order") if isinstance(payload, Mapping) else None
        order_id = order.get("id") if isinstance(order, Mapping) else None
        if not order_id:
            raise OutcomeUnknown(coid, f"Tradier accepted order {coid} without an order id; checking its status.")
        self._order_ids[coid] = str(order_id)
        placed = await self._state_after_placement(request, str(order_id))
        if placed.status is OrderStatus.REJECTED:
            raise OrderRejected(placed.reason or "Tradier rejected the order.")
        return placed

    async def preview_order(self, request: OrderRequest) -> OrderPreview:
        form = order_form(request, await self._side_for(request), preview=True)
        # A preview places nothing, so it is safe to send through the retrying read path.
        payload = await self._get(self._trading, self._orders_path, method="POST", order=True, data=form)
        rejection = error_messages(payload)
        if rejection:
            raise OrderRejected("; ".join(rejection))
        try:
            return parse_tradier_preview(payload)
        except ValueError as exc:
            raise BrokerUnavailable(f"Tradier sent a preview this app cannot read ({exc}).") from exc

    async def cancel_order(self, ref: OrderRef) -> BrokerOrder:
        order_id = await self._order_id(ref)
        response = await self._send(self._trading, "DELETE", f"{self._orders_path}/{order_id}")
        # A 400 is "order already in finalized state: filled" (a plain-text body).
        await self._accept_change(response, order_id)
        try:
            raw = await self._fetch_order(order_id)
        except BrokerError as exc:
            log.warning("Tradier: cancel of %s accepted, state unread (%s)", order_id, type(exc).__name__)
            raw = None
        if raw is None:
            return BrokerOrder(
                client_order_id=ref.client_order_id,
                broker_order_id=order_id,
                symbol="",
                status=OrderStatus.PENDING_CANCEL,
                filled_quantity=Decimal(0),
                average_fill_price=None,
                updated_at=datetime.now(UTC),
                raw_status="ok",
            )
        return self._remember(raw, ref.client_order_id)

    async def replace_order(self, ref: OrderRef, change: OrderChange) -> BrokerOrder:
        """``PUT /accounts/{id}/orders/{order_id}``: Tradier changes type, duration and prices in place
        (same order id, same tag); it has no way to change the quantity."""
        coid = ref.client_order_id
        check_change(change, broker="Tradier", quantity_allowed=False)
        order_id = await self._order_id(ref)
        raw = await self._fetch_order(order_id)
        if raw is None:
            raise OrderNotFound(f"Tradier has no order {order_id} on account …{self._account[-4:]}.")
        current = self._remember(raw, coid)
        if current.status.is_terminal:
            raise OrderRejected(f"order {coid} is already {current.status.value.replace('_', ' ')} and can't be changed")
        form = modify_form(raw, change)
        log.info("Tradier: changing order %s (%s)", coid, order_id)
        response = await self._send(
            self._trading, "PUT", f"{self._orders_path}/{order_id}", client_order_id=coid, data=form
        )
        await self._accept_change(response, order_id)
        try:
            changed = await self._fetch_order(order_id)
        except BrokerError as exc:
            log.warning("Tradier: change of %s accepted, state unread (%s)", order_id, type(exc).__name__)
            changed = None
        return self._remember(changed, coid) if changed is not None else current

    async def _order_id(self, ref: OrderRef) -> str:
        """Tradier's id of the order: given, remembered, or found by the order's tag."""
        order_id = ref.broker_order_id or self._order_ids.get(ref.client_order_id)
        if order_id is not None:
            return order_id
        found = await self.get_order(ref.client_order_id)
        if found is None:
            raise OrderNotFound(f"Tradier has no order {ref.client_order_id}.")
        return found.broker_order_id

    async def _accept_change(self, response: httpx.Response, order_id: str) -> None:
        """Raise unless Tradier took a cancel or change of ``order_id``: unknown order, refusal, or error."""
        if response.status_code in (401, 404):
            await self._raise_if_unauthorised(response)
            raise OrderNotFound(f"Tradier has no order {order_id} on account …{self._account[-4:]}.")
        if response.status_code == 400:
            raise OrderRejected(readable(response))
        if response.status_code >= 400:
            raise self._error(response, order=True)
        rejection = error_messages(json_or_none(response))
        if rejection:
            raise OrderRejected("; ".join(rejection))

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        known = self._order_ids.get(client_order_id)
        if known is not None:
            raw = await self._fetch_order(known)
            if raw is not None:
                return self._remember(raw, client_order_id)
        for raw in await self._intraday_orders():
            if raw.get("tag") == client_order_id:
                return self._remember(raw, client_order_id)
        for raw in await self._history_orders():
            if raw.get("tag") == client_order_id:
                fresh = await self._fetch_order(str(raw.get("id")))
                return self._remember(fresh or raw, client_order_id)
        return None

    async def list_orders(self) -> list[BrokerOrder]:
        today = {str(raw.get("id")): raw for raw in await self._intraday_orders()}
        for raw in await self._history_orders():
            order_id = str(raw.get("id"))
            # GTC orders from earlier sessions are still working but are not in today's list.
            if order_id not in today and is_open_status(str(raw.get("status") or "")):
                fresh = await self._fetch_order(order_id)
                if fresh is not None:
                    today[order_id] = fresh
        return [self._remember(raw, None) for raw in today.values()]

    async def positions(self) -> list[BrokerPosition]:
        payload = await self._get(self._standard, f"/accounts/{self._account}/positions")
        return parse_tradier_positions(payload)

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(dict.fromkeys(compact_occ(s) for s in symbols if s and s.strip()))
        result: dict[str, Quote] = {}
        for start in range(0, len(wanted), QUOTE_CHUNK):
            chunk = wanted[start : start + QUOTE_CHUNK]
            payload = await self._get(
                self._market, "/markets/quotes", params={"symbols": ",".join(chunk), "greeks": "false"}
            )
            missing = unmatched_symbols(payload)
            if missing:
                log.debug("Tradier has no quote for %s", ", ".join(missing))
            result.update(parse_tradier_quotes(payload, fallback_time=datetime.now(UTC)))
        return result

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        """Historical bars: ``/markets/history`` for days, ``/markets/timesales`` intraday (see ``tradier/bars.py``)."""
        return await fetch_tradier_bars(
            lambda path, params: self._get(self._market, path, params=params), compact_occ(symbol), interval, start, end
        )

    async def equity_history(self, since: datetime) -> list[EquityPoint]:
        """Tradier's API documents no history of the account's value (docs/brokers/tradier.md); the app
        builds the curve from the balances it reads itself."""
        if self._closed:
            raise BrokerUnavailable("The Tradier connection is closed.")
        raise HistoryNotOffered("Tradier gives no history of the account's value through its API.")

    async def close(self) -> None:
        self._closed = True
        for channel in (self._standard, self._market, self._trading):
            await channel.transport.close()

    # ------------------------------------------------------------------ orders helpers

    async def _side_for(self, request: OrderRequest) -> str:
        held = Decimal(0)
        if request.position_effect is PositionEffect.AUTO:
            symbol = compact_occ(request.symbol)
            held = sum((p.quantity for p in await self.positions() if p.symbol == symbol), Decimal(0))
        return tradier_side(request.instrument, request.side, request.position_effect, held)

    async def _state_after_placement(self, request: OrderRequest, order_id: str) -> BrokerOrder:
        """Tradier reports downstream rejections on the order itself, so read it back once."""
        try:
            raw = await self._fetch_order(order_id)
        except BrokerError as exc:
            # The order is placed; failing to read it back must not look like a failed placement.
            log.warning("Tradier: order %s placed, state unread (%s)", order_id, type(exc).__name__)
            raw = None
        if raw is None:
            return BrokerOrder(
                client_order_id=request.client_order_id,
                broker_order_id=order_id,
                symbol=compact_occ(request.symbol),
                status=OrderStatus.PENDING_SUBMIT,
                filled_quantity=Decimal(0),
                average_fill_price=None,
                updated_at=datetime.now(UTC),
                quantity=request.quantity,
                raw_status="ok",
            )
        return self._remember(raw, request.client_order_id)

    def _remember(self, raw: Mapping[str, Any], client_order_id: str | None) -> BrokerOrder:
        order = parse_tradier_order(raw)
        if not order.client_order_id and client_order_id:
            order = dataclasses.replace(order, client_order_id=client_order_id)
        if order.client_order_id and order.broker_order_id:
            self._order_ids[order.client_order_id] = order.broker_order_id
        return order

    async def _fetch_order(self, order_id: str) -> Mapping[str, Any] | None:
        """One order by Tradier id, or None when the account has no such order."""
        response = await self._read(self._standard, f"{self._orders_path}/{order_id}", {"includeTags": "true"})
        if response.status_code in (401, 404):
            await self._raise_if_unauthorised(response)
            return None
        if response.status_code >= 400:
            raise self._error(response)
        payload = decode(response)
        order = payload.get("order") if isinstance(payload, Mapping) else None
        if not isinstance(order, Mapping):
            return None
        reasons = error_messages(payload)
        if reasons and not order.get("reason_description"):
            order = {**order, "reason_description": "; ".join(reasons)}
        return order

    async def _paged_orders(self, filter_name: str) -> list[Mapping[str, Any]]:
        seen: set[str] = set()
        orders: list[Mapping[str, Any]] = []
        for page in range(1, MAX_ORDER_PAGES + 1):
            params = {
                "includeTags": "true",
                "filter": filter_name,
                "page": str(page),
                "limit": str(ORDERS_PAGE_SIZE),
            }
            payload = await self._get(self._standard, self._orders_path, params=params)
            batch = collection(payload, "orders", "order")
            fresh = [raw for raw in batch if str(raw.get("id")) not in seen]
            seen.update(str(raw.get("id")) for raw in fresh)
            orders.extend(fresh)
            # A short page is the last one; a page of repeats means the server ignored paging.
            if len(batch) < ORDERS_PAGE_SIZE or not fresh:
                break
        else:
            log.warning("Tradier: stopped listing %s orders after %d pages", filter_name, MAX_ORDER_PAGES)
        return orders

    async def _intraday_orders(self) -> list[Mapping[str, Any]]:
        return await self._paged_orders("intraday")

    async def _history_orders(self) -> list[Mapping[str, Any]]:
        """Up to a month of orders (``filter=all``), fetched at most once per ``HISTORY_TTL_SECONDS``."""
        now = time.monotonic()
        if self._history is None or now - self._history[0] > HISTORY_TTL_SECONDS:
            self._history = (now, await self._paged_orders("all"))
        return self._history[1]

    # ------------------------------------------------------------------ account helpers

    async def _profile_account(self) -> Mapping[str, Any] | None:
        """The token's profile entry for our account; None when the profile endpoint is unavailable."""
        response = await self._read(self._standard, "/user/profile")
        if response.status_code in (401, 403):
            raise self._error(response)
        if response.status_code >= 400:
            # Some sandboxes refuse /user/profile; balances still prove the account is the token's.
            log.info("Tradier: profile unavailable (%d); the balances check the account", response.status_code)
            return None
        for account in profile_accounts(decode(response)):
            if str(account.get("account_number") or "").strip().upper() == self._account:
                if str(account.get("status") or "active").lower() == "closed":
                    raise AuthError(f"Tradier account …{self._account[-4:]} is closed.")
                return account
        raise AuthError(
            f"This Tradier token has no access to account …{self._account[-4:]}; check the account number."
        )

    async def _raise_if_unauthorised(self, response: httpx.Response) -> None:
        """Tradier answers 401 both for a bad token and for an order id that is not this account's.

        Reading the balances tells them apart: they load with a good token, so the order is missing.
        """
        if response.status_code != 401:
            return
        probe = await self._read(self._standard, f"/accounts/{self._account}/balances")
        if probe.status_code in (401, 403):
            raise self._error(probe)

    # ------------------------------------------------------------------ transport helpers

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerUnavailable("The Tradier connection is closed.")

    async def _read(
        self,
        channel: _Channel,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        **kwargs: Any,
    ) -> httpx.Response:
        self._check_open()
        response = await channel.transport.read(method, path, params=params, **kwargs)
        honour_rate_headers(response, channel.limiter)
        return response

    async def _send(self, channel: _Channel, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._check_open()
        response = await channel.transport.write(method, path, **kwargs)
        honour_rate_headers(response, channel.limiter)
        return response

    async def _get(
        self,
        channel: _Channel,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        method: str = "GET",
        order: bool = False,
        **kwargs: Any,
    ) -> Any:
        response = await self._read(channel, path, params, method=method, **kwargs)
        if response.status_code >= 400:
            raise self._error(response, order=order)
        return decode(response)

    def _error(self, response: httpx.Response, *, order: bool = False) -> BrokerError:
        return error_for(response, account_last4=self._account[-4:], base_url=self._base_url, order=order)
