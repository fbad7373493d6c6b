"""Tradier HTTP plumbing: rate-limit buckets and headers, exact-decimal JSON decoding, status-to-error mapping."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import httpx

from app.brokers.base import (
    AuthError,
    BrokerError,
    BrokerUnavailable,
    Environment,
    EnvironmentMismatch,
    OrderRejected,
)
from app.brokers.rate_limit import RateLimiter
from app.brokers.tradier.parse import error_messages

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TradierLimits:
    """Published requests per minute per token, by Tradier's rate-limit bucket."""

    standard: int
    market_data: int
    trading: int


#: documentation.tradier.com/brokerage-api/overview/rate-limiting (standard bucket); the market-data and
#: trading numbers are cut off there and come from third-party summaries (see docs/brokers/tradier.md).
TRADIER_LIMITS: Mapping[Environment, TradierLimits] = MappingProxyType(
    {
        Environment.PAPER: TradierLimits(standard=60, market_data=60, trading=60),
        Environment.LIVE: TradierLimits(standard=120, market_data=120, trading=60),
    }
)

#: Never hold a bucket back longer than one rate-limit window, whatever the server clock says.
MAX_HEADER_PAUSE = 60.0


def limiter_plan(per_minute: int) -> tuple[int, int]:
    """(refill per minute, burst) whose sum never exceeds ``per_minute`` in any 60-second span.

    Tradier counts requests in fixed one-minute windows; a token bucket can spend its burst and a
    whole minute of refill inside one window, so both together must fit under the published limit.
    """
    burst = max(1, per_minute // 6)
    return per_minute - burst, burst


def limiter_for(per_minute: int) -> RateLimiter:
    rate, burst = limiter_plan(per_minute)
    return RateLimiter(rate=rate, per=60.0, burst=burst)


def honour_rate_headers(response: httpx.Response, limiter: RateLimiter) -> None:
    """When Tradier says a bucket is used up, hold it until the window's ``X-Ratelimit-Expiry`` (epoch ms)."""
    try:
        available = int(response.headers["X-Ratelimit-Available"])
        expiry_ms = int(response.headers["X-Ratelimit-Expiry"])
    except (KeyError, ValueError):
        return
    if available > 0:
        return
    wait = min(MAX_HEADER_PAUSE, expiry_ms / 1000 - time.time())
    if wait > 0:
        log.info("Tradier rate-limit window used up; pausing %.1fs", wait)
        limiter.pause(wait)


def json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal) if response.content else None
    except ValueError:
        return None


def decode(response: httpx.Response) -> Any:
    """JSON with exact decimals; anything else (Tradier's default XML, an HTML error page) is unreadable."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise BrokerUnavailable(
            f"Tradier sent an answer that is not JSON ({response.headers.get('content-type', 'no type')})."
        ) from None


def readable(response: httpx.Response) -> str:
    """The broker's own words from an ``errors`` payload or a plain-text body."""
    messages = error_messages(json_or_none(response))
    if messages:
        return "; ".join(messages)
    text = " ".join(response.text.split())[:300]
    return text or f"HTTP {response.status_code}"


def error_for(response: httpx.Response, *, account_last4: str, base_url: str, order: bool = False) -> BrokerError:
    """The typed error for a 4xx/5xx answer; ``order`` turns a refusal into ``OrderRejected``."""
    status = response.status_code
    if status == 401:
        # The body names the account or is a gateway text; neither goes into the message.
        if "apiproduct" in response.text.lower():
            return EnvironmentMismatch(
                "This Tradier token belongs to the other environment: sandbox and live tokens are separate."
            )
        return AuthError(
            f"Tradier did not accept the access token for account …{account_last4} "
            "(wrong, expired or revoked token, or an account of another user)."
        )
    if status == 403:
        return AuthError("Tradier refused access: the token lacks permission for this request.")
    if status == 404:
        return BrokerUnavailable(f"Tradier has no such endpoint at {base_url} (404).")
    if 400 <= status < 500:
        text = readable(response)
        return OrderRejected(text) if order else BrokerError(f"Tradier refused the request: {text}")
    return BrokerUnavailable(f"Tradier answered with an unexpected status ({status}).")
