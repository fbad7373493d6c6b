"""The one async protocol every broker connector implements, its records and its typed errors.

Contract (every connector implements all of it):

=====================  ==========================================================================
call                   behaviour
=====================  ==========================================================================
``verify()``           Authenticates and returns ``AccountInfo`` (account number, type, buying
                       power, cash, equity, paper/live). Raises ``AuthError`` on bad or expired
                       credentials, ``EnvironmentMismatch`` when the account is of the other
                       environment than the one asked for.
``place_order(req)``   Sends one order carrying ``req.client_order_id`` (our id) and returns the
                       broker's view of it. **Never retried blindly**: when the request may have
                       reached the broker but no answer came back, raises ``OutcomeUnknown``; the
                       caller then looks the order up with ``get_order(client_order_id)``.
``preview_order(req)`` Validates the order with the broker (buying power, permissions) without
                       placing it; raises ``OrderRejected`` with the broker's reason.
``replace_order(ref,   Changes a working order: the new total quantity and/or limit/stop price
change)``              (``OrderChange``; None keeps the current value). Returns the order as the
                       broker now reports it, still under our ``ref.client_order_id`` (a broker
                       that replaces by a new order is followed to it). ``OrderNotFound`` for an
                       unknown order, ``OrderRejected`` when the broker refuses or the order is
                       finished; checked before sending (``check_change``): a change of nothing,
                       impossible values, a quantity change where ``Capabilities.replace_quantity``
                       is false. Like ``place_order`` it is **never retried blindly**: a lost
                       answer raises ``OutcomeUnknown``; look the order up with ``get_order``.
``cancel_order(ref)``  Requests cancellation; returns the order as the broker now reports it.
                       Raises ``OrderNotFound`` for an unknown order and ``OrderRejected`` when the
                       order can no longer be cancelled.
``get_order(coid)``    The order with our client order id, or ``None`` when the broker has none.
``list_orders()``      Open orders plus today's finished ones.
``positions()``        Current positions, average cost in price per share/contract.
``quotes(symbols)``    Latest quotes; unknown symbols are simply absent from the mapping.
``bars(symbol, ...)``  OHLCV bars of one symbol at a ``BarInterval`` with ``start <= bar.start <
                       end``, oldest first, starts aligned as ``domain.bars.bucket_start`` aligns
                       them; an unknown symbol or no data gives ``[]``. Raises ``BrokerUnavailable``
                       when the API serves no bars for it (``Capabilities.bars`` False: none at all).
``equity_history(      The account's value over time as the broker records it, ``EquityPoint``s from
since)``               ``since`` on, oldest first (cash ``None``: histories give equity only); a new
                       account gives ``[]``. Optional: ``HistoryNotOffered`` when the API has no such
                       history or refuses it to this account (``Capabilities.equity_history`` False:
                       never offered), so the caller falls back to the balances it read itself.
``close()``            Releases connections; afterwards every call raises ``BrokerUnavailable``
                       ("… connection is closed") and nothing reaches the broker.
=====================  ==========================================================================

Errors: every failure is one of the ``BrokerError`` subclasses below, with a message a trader can
read. Nothing secret is ever put into an error message.

Non-blocking: every method is a coroutine awaited on the app's single asyncio loop; connectors with
a blocking SDK run it with ``asyncio.to_thread``. Money and quantities are ``Decimal``; timestamps
are timezone-aware.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from app.domain.equity_curve import EquityPoint
from app.domain.models import (
    AssetClass,
    Bar,
    BarInterval,
    Order,
    OrderChange,
    OrderRequest,
    OrderStatus,
    OrderType,
    Quote,
    Side,
    TimeInForce,
)


class Environment(enum.Enum):
    """Which of the broker's worlds a connection talks to: paper/sandbox money or real money."""

    PAPER = "paper"
    LIVE = "live"


class AccountType(enum.Enum):
    CASH = "cash"
    MARGIN = "margin"
    IRA = "ira"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_number: str
    account_type: AccountType
    buying_power: Decimal
    cash: Decimal
    equity: Decimal
    is_paper: bool
    account_type_label: str = ""
    currency: str = "USD"

    @property
    def account_last4(self) -> str:
        return self.account_number[-4:]

    def __repr__(self) -> str:
        return (
            f"AccountInfo(account=…{self.account_last4}, type={self.account_type.value}, "
            f"paper={self.is_paper}, buying_power={self.buying_power})"
        )


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """An order as the broker reports it."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    updated_at: datetime
    quantity: Decimal | None = None
    reason: str = ""
    raw_status: str = ""
    #: What was ordered, where the broker reports it (used to adopt orders placed outside the app).
    side: Side | None = None
    order_type: OrderType | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    #: The commission of all the order's executions so far, where the broker reports it; None when it does not.
    commission: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    symbol: str
    asset_class: AssetClass
    quantity: Decimal
    average_cost: Decimal
    market_value: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """What the broker says an order would cost, without placing it."""

    estimated_cost: Decimal | None
    commission: Decimal | None
    buying_power_effect: Decimal | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderRef:
    """Both ids of an order; connectors use whichever their API needs."""

    client_order_id: str
    broker_order_id: str | None = None

    @classmethod
    def of(cls, order: Order | BrokerOrder) -> OrderRef:
        return cls(order.client_order_id, order.broker_order_id)


class BrokerError(Exception):
    """Base of every connector error; ``str()`` is a message for the trader."""


class AuthError(BrokerError):
    """Bad, expired or revoked credentials."""


class EnvironmentMismatch(BrokerError):
    """The account belongs to the other environment (a paper connection reached a live account)."""


class OrderRejected(BrokerError):
    """The broker refused the order; ``reason`` is the broker's own words."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Order rejected: {reason}")
        self.reason = reason


class OrderNotFound(BrokerError):
    """The broker has no order with that id."""


class RateLimited(BrokerError):
    """Too many requests; try again after ``retry_after`` seconds."""

    def __init__(self, message: str = "The broker is rate limiting requests.", retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or failed on its side; nothing is known to have happened."""


class HistoryNotOffered(BrokerError):
    """The broker keeps no account history this API gives out (or not to this account); nothing failed."""


class OutcomeUnknown(BrokerError):
    """An order request may or may not have reached the broker; look it up before doing anything else."""

    def __init__(self, client_order_id: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"No answer from the broker for order {client_order_id}; its status will be checked before anything is resent."
        )
        self.client_order_id = client_order_id


@dataclass(frozen=True, slots=True)
class CredentialField:
    """One field of a broker's connection form."""

    name: str
    label: str
    secret: bool = False
    help: str = ""
    default: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Capabilities:
    options: bool = True
    stop_limit: bool = True
    preview: bool = True
    extended_hours: bool = True
    fractional: bool = False
    #: ``replace_order`` changes a working order's prices; with ``replace_quantity`` its quantity too.
    replace: bool = True
    replace_quantity: bool = True
    #: ``bars()`` serves historical bars over the connector's API (Tastytrade's are streamer-only).
    bars: bool = True
    #: ``quote_stream()`` streams quotes (``app/brokers/streaming.py``); otherwise quotes are polled.
    quote_stream: bool = False
    #: ``equity_history()`` serves the account's value over time; otherwise it raises ``HistoryNotOffered``.
    equity_history: bool = False


def check_change(change: OrderChange, *, broker: str, quantity_allowed: bool = True) -> None:
    """Refuse, before anything is sent, a change that changes nothing or that the broker can't make."""
    if change.quantity is None and change.limit_price is None and change.stop_price is None:
        raise OrderRejected("nothing to change: give a new quantity, limit price or stop price")
    if change.quantity is not None and change.quantity <= 0:
        raise OrderRejected(f"the new quantity must be more than zero (got {change.quantity})")
    for name, price in (("limit", change.limit_price), ("stop", change.stop_price)):
        if price is not None and price <= 0:
            raise OrderRejected(f"the new {name} price must be more than zero (got {price})")
    if change.quantity is not None and not quantity_allowed:
        raise OrderRejected(
            f"{broker} can change a working order's prices but not its quantity; cancel it and place a new order"
        )


@runtime_checkable
class Broker(Protocol):
    """A connected broker account. See the module docstring for the contract."""

    name: str
    environment: Environment

    async def verify(self) -> AccountInfo: ...

    async def place_order(self, request: OrderRequest) -> BrokerOrder: ...

    async def preview_order(self, request: OrderRequest) -> OrderPreview: ...

    async def replace_order(self, ref: OrderRef, change: OrderChange) -> BrokerOrder: ...

    async def cancel_order(self, ref: OrderRef) -> BrokerOrder: ...

    async def get_order(self, client_order_id: str) -> BrokerOrder | None: ...

    async def list_orders(self) -> list[BrokerOrder]: ...

    async def positions(self) -> list[BrokerPosition]: ...

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]: ...

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]: ...

    async def equity_history(self, since: datetime) -> list[EquityPoint]: ...

    async def close(self) -> None: ...


class BrokerFactory(Protocol):
    """Builds a connector from the fields of its connection form."""

    def __call__(
        self,
        credentials: Mapping[str, str],
        environment: Environment,
        *,
        base_url: str | None = None,
    ) -> Broker: ...


@dataclass(frozen=True, slots=True)
class BrokerSpec:
    """Registry entry: how to build a connector and what its connection form asks for."""

    key: str
    display_name: str
    factory: BrokerFactory
    fields: tuple[CredentialField, ...]
    environments: tuple[Environment, ...] = (Environment.PAPER, Environment.LIVE)
    capabilities: Capabilities = field(default_factory=Capabilities)
    docs: str = ""
