"""Immutable trading records shared by every layer: instruments, order requests, orders, fills, quotes."""

from __future__ import annotations

import enum
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.Enum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"

    @property
    def needs_limit(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def needs_stop(self) -> bool:
        return self in (OrderType.STOP, OrderType.STOP_LIMIT)


class TimeInForce(enum.Enum):
    DAY = "day"
    GTC = "gtc"


class AssetClass(enum.Enum):
    EQUITY = "equity"
    OPTION = "option"


class OptionRight(enum.Enum):
    CALL = "C"
    PUT = "P"


class PositionEffect(enum.Enum):
    """Whether an order opens or closes a position; AUTO lets the connector decide from holdings."""

    AUTO = "auto"
    OPEN = "open"
    CLOSE = "close"


class TradingMode(enum.Enum):
    PAPER = "paper"
    LIVE = "live"


class OrderStatus(enum.Enum):
    """Life cycle of an order, common to the paper engine and every broker.

    UNKNOWN means the request may or may not have reached the broker: it stays UNKNOWN until the
    broker proves the outcome (found by client order id, or proven absent).
    """

    PENDING_SUBMIT = "pending_submit"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_cancelable(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_SUBMIT)


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class OptionDetails:
    underlying: str
    expiry: date
    right: OptionRight
    strike: Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument. Equities use their ticker; options their compact OCC symbol."""

    symbol: str
    asset_class: AssetClass = AssetClass.EQUITY
    option: OptionDetails | None = None

    @property
    def multiplier(self) -> Decimal:
        return Decimal(100) if self.asset_class is AssetClass.OPTION else Decimal(1)

    @property
    def is_option(self) -> bool:
        return self.asset_class is AssetClass.OPTION


def new_client_order_id() -> str:
    """A unique id we attach to every order: letters, digits and '-', 26 characters.

    It fits every broker's client-id field (Alpaca <= 48, Tradier tag letters/digits/'-',
    IBKR orderRef, Tastytrade external-identifier) and sorts by creation time.
    """
    millis = int(time.time() * 1000)
    return f"tb-{millis:013x}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the trader asked for. Validated before it is built (see domain.validation)."""

    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    position_effect: PositionEffect = PositionEffect.AUTO
    client_order_id: str = field(default_factory=new_client_order_id)

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


@dataclass(frozen=True, slots=True)
class Fill:
    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    filled_at: datetime
    fill_id: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """The state of one order at a point in time, paper or live."""

    request: OrderRequest
    mode: TradingMode
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    filled_quantity: Decimal = Decimal(0)
    average_fill_price: Decimal | None = None
    broker_order_id: str | None = None
    status_reason: str = ""
    stop_triggered: bool = False
    #: The connection's broker key ("alpaca", …) for live orders; "" for paper.
    broker: str = ""
    #: Last 4 characters of the broker account a live order belongs to; never the whole number.
    account_last4: str = ""
    #: A live order placed outside TradeBridge (e.g. in the broker's own app) and adopted at reconciliation.
    external: bool = False
    #: When a paper order last lost its place in the queue (a new price or a larger size); None: when placed.
    queued_at: datetime | None = None

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def remaining_quantity(self) -> Decimal:
        return self.request.quantity - self.filled_quantity

    @property
    def queue_time(self) -> datetime:
        """The order's time priority: orders are worked, and holdings matched to them, earliest first."""
        return self.queued_at or self.created_at


@dataclass(frozen=True, slots=True)
class OrderChange:
    """A modification of a working order: the new total quantity and/or prices; None keeps the current value."""

    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


class BarInterval(enum.Enum):
    MINUTE = "1min"
    FIVE_MINUTES = "5min"
    HOUR = "1h"
    DAY = "1d"


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``start`` is the aware start time of the interval."""

    symbol: str
    interval: BarInterval
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book and last trade. Any price may be missing; prices are never invented."""

    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    timestamp: datetime
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    #: The previous session's close, where the source gives it (for change and % change).
    prev_close: Decimal | None = None
    #: Shares or contracts traded in the session so far, where the source gives it.
    volume: Decimal | None = None

    @property
    def mark(self) -> Decimal | None:
        """Mid of a two-sided market, else the last trade."""
        if self.bid is not None and self.ask is not None and self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2
        return self.last


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    asset_class: AssetClass
    quantity: Decimal
    average_cost: Decimal
    realized_pnl: Decimal = Decimal(0)

    @property
    def multiplier(self) -> Decimal:
        return Decimal(100) if self.asset_class is AssetClass.OPTION else Decimal(1)

    def market_value(self, mark: Decimal | None) -> Decimal | None:
        return None if mark is None else self.quantity * mark * self.multiplier

    def unrealized_pnl(self, mark: Decimal | None) -> Decimal | None:
        return None if mark is None else (mark - self.average_cost) * self.quantity * self.multiplier


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Cash, equity and buying power of an account, paper or live."""

    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    currency: str = "USD"
    #: The day's P&L since the previous close and its % of the equity then; None when not known.
    day_pnl: Decimal | None = None
    day_change_pct: Decimal | None = None
