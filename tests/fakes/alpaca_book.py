"""The fake Alpaca's books: orders and their life cycle, fills, positions, cash and quotes, in Alpaca's JSON."""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

OCC = re.compile(r"^[A-Z]{1,6}\d{6}[CP]\d{8}$")

OPEN_STATUSES = frozenset(
    {"new", "partially_filled", "accepted", "pending_new", "pending_cancel", "pending_replace", "held", "done_for_day"}
)
CLOSED_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "replaced"})


def wire_time(ns: int | None = None) -> str:
    """Alpaca's RFC 3339 timestamps carry nanoseconds: '2024-05-01T14:02:43.651613184Z'."""
    ns = time.time_ns() if ns is None else ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:09d}Z"


def wire_number(value: Decimal | None) -> str | None:
    """The Trading API sends numbers as strings ('189.6', '3')."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def asset_class_of(symbol: str) -> str:
    return "us_option" if OCC.match(symbol) else "us_equity"


@dataclass
class BookQuote:
    bid: Decimal
    ask: Decimal
    last: Decimal
    bid_size: int = 3
    ask_size: int = 2
    ns: int = field(default_factory=time.time_ns)


@dataclass
class BookOrder:
    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    position_intent: str | None
    status: str = "accepted"
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    created_ns: int = field(default_factory=time.time_ns)
    updated_ns: int = 0
    filled_ns: int | None = None
    canceled_ns: int | None = None
    failed_ns: int | None = None
    asset_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    stop_triggered: bool = False
    replaces: str | None = None
    replaced_by: str | None = None
    replaced_ns: int | None = None

    @property
    def multiplier(self) -> Decimal:
        return Decimal(100) if asset_class_of(self.symbol) == "us_option" else Decimal(1)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def touch(self) -> None:
        self.updated_ns = time.time_ns()

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": wire_time(self.created_ns),
            "updated_at": wire_time(self.updated_ns or self.created_ns),
            "submitted_at": wire_time(self.created_ns),
            "filled_at": wire_time(self.filled_ns) if self.filled_ns else None,
            "expired_at": None,
            "expires_at": None,
            "canceled_at": wire_time(self.canceled_ns) if self.canceled_ns else None,
            "failed_at": wire_time(self.failed_ns) if self.failed_ns else None,
            "replaced_at": wire_time(self.replaced_ns) if self.replaced_ns else None,
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": self.asset_id,
            "symbol": self.symbol,
            "asset_class": asset_class_of(self.symbol),
            "notional": None,
            "qty": wire_number(self.qty),
            "filled_qty": wire_number(self.filled_qty),
            "filled_avg_price": wire_number(self.filled_avg_price),
            "order_class": "simple",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": self.position_intent,
            "time_in_force": self.time_in_force,
            "limit_price": wire_number(self.limit_price),
            "stop_price": wire_number(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "subtag": None,
            "source": None,
        }


@dataclass
class BookPosition:
    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    asset_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class AlpacaBook:
    """Account state shared by the fake's handler threads; every method takes the lock."""

    def __init__(self, *, cash: Decimal, multiplier: str) -> None:
        self.lock = threading.RLock()
        self.cash = cash
        self.multiplier = multiplier
        self.orders: list[BookOrder] = []
        self.positions: dict[str, BookPosition] = {}
        self.quotes: dict[str, BookQuote] = {}

    # -- reads --------------------------------------------------------------------------------

    def order_by_id(self, order_id: str) -> BookOrder | None:
        return next((o for o in self.orders if o.id == order_id), None)

    def order_by_client_id(self, client_order_id: str) -> BookOrder | None:
        return next((o for o in self.orders if o.client_order_id == client_order_id), None)

    def mark(self, symbol: str, fallback: Decimal) -> Decimal:
        quote = self.quotes.get(symbol)
        if quote is None:
            return fallback
        return (quote.bid + quote.ask) / 2 if quote.bid > 0 and quote.ask > 0 else quote.last

    def market_value(self) -> Decimal:
        total = Decimal(0)
        for position in self.positions.values():
            multiplier = Decimal(100) if asset_class_of(position.symbol) == "us_option" else Decimal(1)
            total += position.qty * self.mark(position.symbol, position.avg_entry_price) * multiplier
        return total

    def reserved(self) -> Decimal:
        """Buying power held back by open buy orders (Alpaca reduces it as soon as they are accepted)."""
        total = Decimal(0)
        for order in self.orders:
            if order.is_open and order.side == "buy":
                price = order.limit_price or order.stop_price or self.mark(order.symbol, Decimal(0))
                total += (order.qty - order.filled_qty) * price * order.multiplier
        return total

    def buying_power(self) -> Decimal:
        return max(Decimal(0), self.cash * Decimal(self.multiplier) - self.reserved())

    def account_wire(self, account_number: str, account_id: str) -> dict[str, Any]:
        long_value = sum(
            (self.positions[s].qty * self.mark(s, self.positions[s].avg_entry_price) for s in self.positions
             if self.positions[s].qty > 0),
            Decimal(0),
        )
        equity = self.cash + self.market_value()
        cash_power = max(Decimal(0), self.cash - self.reserved())
        # The day-trading fields (daytrading_buying_power, pattern_day_trader, daytrade_count) were
        # removed from Alpaca's responses on 2026-07-06, so they are absent here too.
        return {
            "id": account_id,
            "account_number": account_number,
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "buying_power": wire_number(self.buying_power()),
            "regt_buying_power": wire_number(self.buying_power()),
            "non_marginable_buying_power": wire_number(cash_power),
            "options_buying_power": wire_number(cash_power),
            "cash": wire_number(self.cash),
            "accrued_fees": "0",
            "portfolio_value": wire_number(equity),
            "equity": wire_number(equity),
            "last_equity": wire_number(equity),
            "long_market_value": wire_number(long_value),
            "short_market_value": wire_number(self.market_value() - long_value),
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "multiplier": self.multiplier,
            "shorting_enabled": self.multiplier != "1",
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "created_at": "2024-01-02T15:04:05.123456Z",
            "options_approved_level": 2,
            "options_trading_level": 2,
        }

    def position_wire(self, position: BookPosition) -> dict[str, Any]:
        asset_class = asset_class_of(position.symbol)
        multiplier = Decimal(100) if asset_class == "us_option" else Decimal(1)
        price = self.mark(position.symbol, position.avg_entry_price)
        value = position.qty * price * multiplier
        cost = position.qty * position.avg_entry_price * multiplier
        return {
            "asset_id": position.asset_id,
            "symbol": position.symbol,
            "exchange": "OPRA" if asset_class == "us_option" else "NASDAQ",
            "asset_class": asset_class,
            "asset_marginable": asset_class == "us_equity",
            "avg_entry_price": wire_number(position.avg_entry_price),
            "qty": wire_number(position.qty),
            "qty_available": wire_number(position.qty),
            "side": "long" if position.qty > 0 else "short",
            "market_value": wire_number(value),
            "cost_basis": wire_number(cost),
            "unrealized_pl": wire_number(value - cost),
            "unrealized_plpc": "0",
            "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0",
            "current_price": wire_number(price),
            "lastday_price": wire_number(price),
            "change_today": "0",
        }

    # -- life cycle -----------------------------------------------------------------------------

    def route(self, order: BookOrder) -> None:
        """What Alpaca does after accepting: the order goes 'new' at the venue, then may fill."""
        order.status = "new"
        order.touch()
        self._try_fill(order)

    def _try_fill(self, order: BookOrder) -> None:
        quote = self.quotes.get(order.symbol)
        if quote is None or not order.is_open or order.status == "pending_cancel":
            return
        buying = order.side == "buy"
        kind = order.type
        if kind in ("stop", "stop_limit") and not order.stop_triggered:
            return
        if kind in ("market", "stop"):
            self.fill(order, order.qty - order.filled_qty, quote.ask if buying else quote.bid)
        elif order.limit_price is not None:
            crosses = quote.ask <= order.limit_price if buying else quote.bid >= order.limit_price
            if crosses:
                self.fill(order, order.qty - order.filled_qty, order.limit_price)

    def on_quote(self, symbol: str) -> None:
        """A new quote can trigger resting stops and fill resting limits."""
        quote = self.quotes[symbol]
        for order in self.orders:
            if order.symbol != symbol or not order.is_open:
                continue
            if order.type in ("stop", "stop_limit") and not order.stop_triggered and order.stop_price is not None:
                if (order.side == "buy" and quote.last >= order.stop_price) or (
                    order.side == "sell" and quote.last <= order.stop_price
                ):
                    order.stop_triggered = True
            self._try_fill(order)

    def fill(self, order: BookOrder, qty: Decimal, price: Decimal) -> None:
        if qty <= 0:
            return
        previous = order.filled_qty
        order.filled_qty = previous + qty
        order.filled_avg_price = ((order.filled_avg_price or Decimal(0)) * previous + price * qty) / order.filled_qty
        order.status = "filled" if order.filled_qty >= order.qty else "partially_filled"
        order.filled_ns = time.time_ns()
        order.touch()
        signed = qty if order.side == "buy" else -qty
        self.cash -= signed * price * order.multiplier
        self._apply_position(order.symbol, signed, price)

    def _apply_position(self, symbol: str, signed_qty: Decimal, price: Decimal) -> None:
        position = self.positions.get(symbol)
        if position is None:
            self.positions[symbol] = BookPosition(symbol, signed_qty, price)
            return
        new_qty = position.qty + signed_qty
        if new_qty == 0:
            del self.positions[symbol]
        elif (position.qty > 0) == (signed_qty > 0):
            position.avg_entry_price = (position.avg_entry_price * position.qty + price * signed_qty) / new_qty
            position.qty = new_qty
        elif (new_qty > 0) != (position.qty > 0):
            # Flipped through zero: what remains was opened at this price.
            position.qty, position.avg_entry_price = new_qty, price
        else:
            position.qty = new_qty

    def cancel(self, order: BookOrder, *, pending: bool) -> None:
        order.status = "pending_cancel" if pending else "canceled"
        if not pending:
            order.canceled_ns = time.time_ns()
        order.touch()

    def settle_pending_cancels(self) -> None:
        for order in self.orders:
            if order.status == "pending_cancel":
                order.status = "canceled"
                order.canceled_ns = time.time_ns()
                order.touch()

    def reject(self, order: BookOrder) -> None:
        order.status = "rejected"
        order.failed_ns = time.time_ns()
        order.touch()
