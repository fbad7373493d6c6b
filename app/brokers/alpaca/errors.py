"""How alpaca-py's failures (``APIError`` and requests exceptions) become the broker protocol's typed errors."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from app.brokers.alpaca.parse import parse_error_body
from app.brokers.alpaca.sdk import APIError
from app.brokers.base import (
    AuthError,
    BrokerError,
    BrokerUnavailable,
    Environment,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
)

#: alpaca-py sleeps this long before its own retries; used when a 429 names no wait.
DEFAULT_RETRY_AFTER = 3.0

#: Alpaca's code for credential failures ({"code": 40110000, "message": "request is not authorized"}).
_AUTH_CODES = range(40100000, 40200000)


def error_message(exc: APIError) -> str:
    """The broker's ``message`` (never the raw body: nginx sends HTML for some failures)."""
    response = exc.response
    text = response.text if response is not None else str(exc)
    return parse_error_body(text)[1]


def error_code(exc: APIError) -> int | None:
    response = exc.response
    return parse_error_body(response.text if response is not None else str(exc))[0]


def retry_after_seconds(response: requests.Response | None, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Seconds to wait after a 429: ``Retry-After``, else ``X-RateLimit-Reset`` (unix seconds), else default."""
    if response is None:
        return default
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            pass
    return default


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never left this machine (no connection was ever made)."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.InvalidURL)):
        return True
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        # requests wraps urllib3's MaxRetryError, whose ``reason`` says which step failed.
        reason = getattr(exc.args[0], "reason", None)
        return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return False


def auth_error(exc: APIError, *, environment: Environment, key_kind: str, service: str) -> AuthError:
    """A readable AuthError; it names the key's kind (paper/live) at most, never the key."""
    status = exc.status_code
    message = error_message(exc)
    detail = f"{status}: {message}" if message else f"{status}"
    text = f"Alpaca refused the API keys for {service} ({detail})."
    if key_kind and key_kind != environment.value:
        text += f" The key ID looks like a {key_kind} key but the connection is set to {environment.value}."
    else:
        text += f" Check the key ID and secret key, and that they belong to your {environment.value} account."
    return AuthError(text)


def read_failure(exc: APIError, what: str) -> BrokerError:
    """A 4xx answer to a read that is neither auth nor rate limiting: nothing happened."""
    message = error_message(exc)
    detail = f"{exc.status_code}: {message}" if message else f"{exc.status_code}"
    return BrokerUnavailable(f"Alpaca refused {what} ({detail}).")


class AlpacaFailure(enum.Enum):
    AUTH = "auth"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PostFailure:
    kind: AlpacaFailure
    error: BrokerError


def _is_duplicate(message: str) -> bool:
    normalized = message.lower().replace("_", " ")
    return "client order id" in normalized and "unique" in normalized


def order_post_failure(exc: APIError, client_order_id: str) -> PostFailure:
    """Classify an error answer to ``POST /v2/orders``.

    401 -> auth; 403 (40310000 insufficient buying power / qty, permissions) and 422 -> rejected
    with Alpaca's words; 422 "client_order_id must be unique" -> duplicate (the first order
    exists); 429 -> nothing was done; 5xx (a 504 gateway timeout included) -> outcome unknown,
    because the order may have been accepted behind the failing gateway.
    """
    status = exc.status_code or 0
    message = error_message(exc)
    code = error_code(exc)
    if status == 401 or (code is not None and code in _AUTH_CODES):
        return PostFailure(AlpacaFailure.AUTH, AuthError(message or "request is not authorized"))
    if status == 429:
        wait = retry_after_seconds(exc.response)
        return PostFailure(
            AlpacaFailure.RATE_LIMITED,
            RateLimited("Alpaca is rate limiting requests; the order was not sent.", retry_after=wait),
        )
    if status >= 500:
        return PostFailure(
            AlpacaFailure.UNKNOWN,
            OutcomeUnknown(
                client_order_id,
                f"Alpaca failed while handling order {client_order_id} ({status}); "
                "its status will be checked before anything is resent.",
            ),
        )
    if status == 422 and _is_duplicate(message):
        return PostFailure(AlpacaFailure.DUPLICATE, OrderRejected(message))
    return PostFailure(AlpacaFailure.REJECTED, OrderRejected(message or f"refused by Alpaca ({status})"))
