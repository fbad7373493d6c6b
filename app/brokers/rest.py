"""The httpx transport shared by the REST connectors: pacing, read retries, and safe order sends.

Reads (``idempotent=True``) are retried with backoff on 429, 5xx and transport errors. Writes are
sent exactly once: when a write may have reached the broker but no answer came back (timeout,
dropped connection, 5xx), ``OutcomeUnknown`` is raised and nothing is resent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from app.brokers.base import BrokerUnavailable, OutcomeUnknown, RateLimited
from app.brokers.rate_limit import RateLimiter

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def retry_after_seconds(response: httpx.Response, default: float = 2.0) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds form), else the default."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


class RestTransport:
    """One ``httpx.AsyncClient`` per connector, behind a rate limiter."""

    def __init__(
        self,
        base_url: str,
        *,
        limiter: RateLimiter,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        read_attempts: int = 3,
        backoff_base: float = 0.5,
        broker_name: str = "The broker",
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, headers=dict(headers or {}), timeout=timeout)
        self._limiter = limiter
        self._read_attempts = read_attempts
        self._backoff_base = backoff_base
        self._broker_name = broker_name
        self._closed = False

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        self._closed = True
        await self._client.aclose()

    def _check_open(self) -> None:
        # httpx raises a bare RuntimeError on a closed client; callers only ever see BrokerError.
        if self._closed:
            raise BrokerUnavailable(f"The {self._broker_name} connection is closed.")

    async def read(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request with no side effect: retried on 429, 5xx and transport errors."""
        self._check_open()
        last_error: Exception | None = None
        for attempt in range(self._read_attempts):
            if attempt:
                await asyncio.sleep(self._backoff_base * (2 ** (attempt - 1)) * (1 + random.random() / 4))
            await self._limiter.acquire()
            self._check_open()
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                last_error = exc
                log.warning("%s %s failed (%s), attempt %d", method, path, type(exc).__name__, attempt + 1)
                continue
            if response.status_code == 429:
                wait = retry_after_seconds(response)
                self._limiter.pause(wait)
                last_error = RateLimited(f"{self._broker_name} is rate limiting requests.", retry_after=wait)
                continue
            if response.status_code >= 500:
                last_error = BrokerUnavailable(
                    f"{self._broker_name} answered with a server error ({response.status_code})."
                )
                continue
            return response
        if isinstance(last_error, (RateLimited, BrokerUnavailable)):
            raise last_error
        raise BrokerUnavailable(f"{self._broker_name} could not be reached ({type(last_error).__name__}).")

    async def write(
        self,
        method: str,
        path: str,
        *,
        client_order_id: str | None = None,
        on_unknown: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """A request with a side effect, sent once. 429 is safe to report (nothing was done)."""
        self._check_open()
        await self._limiter.acquire()
        self._check_open()
        try:
            response = await self._client.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # The connection was never made, so the request never left this machine.
            raise BrokerUnavailable(f"{self._broker_name} could not be reached ({type(exc).__name__}).") from exc
        except httpx.TransportError as exc:
            if client_order_id is not None:
                raise OutcomeUnknown(client_order_id) from exc
            raise BrokerUnavailable(f"No answer from {self._broker_name} ({type(exc).__name__}).") from exc
        if response.status_code == 429:
            wait = retry_after_seconds(response)
            self._limiter.pause(wait)
            raise RateLimited(f"{self._broker_name} is rate limiting requests; nothing was sent.", retry_after=wait)
        if response.status_code >= 500:
            if client_order_id is not None:
                raise OutcomeUnknown(
                    client_order_id,
                    f"{self._broker_name} failed while handling order {client_order_id} "
                    f"({response.status_code}); its status will be checked before anything is resent.",
                )
            raise BrokerUnavailable(f"{self._broker_name} answered with a server error ({response.status_code}).")
        return response
