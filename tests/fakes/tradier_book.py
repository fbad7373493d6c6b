"""State of the fake Tradier broker: accounts, quotes, orders and fills, rendered in Tradier's JSON shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
EQUITY_SIDES = ("buy", "buy_to_cover", "sell", "sell_short")
OPTION_SIDES = ("buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close")
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
DURATIONS = ("day", "gtc", "pre", "post")
FINAL_STATUSES = ("filled", "canceled", "expired", "rejected", "error")
TAG = re.compile(r"^[A-Za-z0-9-]*$")
OCC = re.compile(r"^(?P<root>[A-Z]{1,6})\d{6}[CP]\d{8}$")
#: Classic Tradier buying-power text (tradier.rb order_with_warnings.json; broker-apis.md §2.6).
NO_BUYING_POWER = "You do not have enough buying power for this trade."


def wire(value: Any) -> Any:
    """Decimals as JSON numbers, the way Tradier sends amounts and quantities."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire(item) for item in value]
    return value


def one_or_many(items: list[Any]) -> Any:
    """Tradier's quirk: one element is a bare object, several are an array."""
    return items[0] if len(items) == 1 else items


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class FakeQuote:
    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    at: datetime

    def to_wire(self) -> dict[str, Any]:
        option = OCC.match(self.symbol)
        body: dict[str, Any] = {
            "symbol": self.symbol,
            "description": self.symbol,
            "exch": "Q",
            "type": "option" if option else "stock",
            "last": self.last,
            "change": 0,
            "volume": 1000,
            "open": self.last,
            "high": self.last,
            "low": self.last,
            "close": None,
            "bid": self.bid,
            "ask": self.ask,
            "trade_date": millis(self.at),
            "bidsize": 2,
            "bidexch": "Q",
            "bid_date": millis(self.at),
            "asksize": 3,
            "askexch": "Q",
            "ask_date": millis(self.at),
        }
        if option:
            body.update(underlying=option.group("root"), root_symbol=option.group("root"), contract_size=100)
        else:
            body["root_symbols"] = self.symbol
        return wire(body)


@dataclass
class FakePosition:
    symbol: str
    quantity: Decimal
    cost_basis: Decimal
    acquired: datetime
    id: int


@dataclass
class FakeOrder:
    id: int
    account: str
    klass: str
    symbol: str
    option_symbol: str
    side: str
    quantity: Decimal
    type: str
    duration: str
    price: Decimal | None
    stop: Decimal | None
    tag: str
    status: str
    created: datetime
    updated: datetime
    exec_quantity: Decimal = Decimal(0)
    avg_fill_price: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    last_fill_quantity: Decimal = Decimal(0)
    reason_description: str = ""

    @property
    def instrument(self) -> str:
        return self.option_symbol if self.klass == "option" else self.symbol

    @property
    def multiplier(self) -> Decimal:
        return Decimal(100) if self.klass == "option" else Decimal(1)

    @property
    def buys(self) -> bool:
        return self.side.startswith("buy")

    def to_wire(self, include_tag: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "status": self.status,
            "duration": self.duration,
            "avg_fill_price": self.avg_fill_price,
            "exec_quantity": self.exec_quantity,
            "last_fill_price": self.last_fill_price,
            "last_fill_quantity": self.last_fill_quantity,
            "remaining_quantity": self.quantity - self.exec_quantity if self.status not in FINAL_STATUSES else 0,
            "create_date": iso(self.created),
            "transaction_date": iso(self.updated),
            "class": self.klass,
        }
        if self.price is not None:
            body["price"] = self.price
        if self.stop is not None:
            body["stop_price"] = self.stop
        if self.klass == "option":
            body["option_symbol"] = self.option_symbol
        if self.reason_description:
            body["reason_description"] = self.reason_description
        if include_tag and self.tag:
            body["tag"] = self.tag
        return wire(body)


@dataclass
class FakeAccount:
    number: str
    classification: str = "individual"
    type: str = "margin"
    #: Which sub-object the balances carry: margin, cash or pdt.
    balances_kind: str = "margin"
    cash: Decimal = Decimal("100000")
    status: str = "active"
    positions: dict[str, FakePosition] = field(default_factory=dict)

    def profile_entry(self) -> dict[str, Any]:
        return {
            "account_number": self.number,
            "classification": self.classification,
            "date_created": "2024-01-02T15:00:00.000Z",
            "day_trader": self.balances_kind == "pdt",
            "option_level": 6,
            "status": self.status,
            "type": self.type,
            "last_update_date": "2024-01-02T15:00:00.000Z",
        }


class FakeBook:
    """Accounts, quotes and orders; fills follow the contract harness's rules."""

    def __init__(self) -> None:
        self.accounts: dict[str, FakeAccount] = {}
        self.quotes: dict[str, FakeQuote] = {}
        self.orders: list[FakeOrder] = []
        self.market_open = True
        self._next_id = 1000
        self._next_position_id = 5000

    # ------------------------------------------------------------------ quotes and fills

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        self.quotes[symbol.upper()] = FakeQuote(symbol.upper(), bid, ask, last, datetime.now(UTC))
        for order in self.orders:
            if order.instrument == symbol.upper() and order.status in ("open", "partially_filled"):
                self.work(order)

    def work(self, order: FakeOrder) -> None:
        """Market fills at the ask/bid, a crossing limit at its limit; everything else rests."""
        if not self.market_open:
            order.status = "pending"
            return
        quote = self.quotes.get(order.instrument)
        price = self._fill_price(order, quote) if quote else None
        if price is None:
            order.status = "open" if order.exec_quantity == 0 else "partially_filled"
            return
        self.fill(order, order.quantity - order.exec_quantity, price)

    def _fill_price(self, order: FakeOrder, quote: FakeQuote) -> Decimal | None:
        touch = quote.ask if order.buys else quote.bid
        kind = order.type
        if kind in ("stop", "stop_limit"):
            assert order.stop is not None
            triggered = quote.last >= order.stop if order.buys else quote.last <= order.stop
            if not triggered:
                return None
            kind = "market" if kind == "stop" else "limit"
        if kind == "market":
            return touch
        assert order.price is not None
        crosses = touch <= order.price if order.buys else touch >= order.price
        return order.price if crosses else None

    def fill(self, order: FakeOrder, quantity: Decimal, price: Decimal) -> None:
        """Execute part or all of an order and move the position and cash."""
        before = order.exec_quantity
        order.exec_quantity = before + quantity
        order.avg_fill_price = (order.avg_fill_price * before + price * quantity) / order.exec_quantity
        order.last_fill_price = price
        order.last_fill_quantity = quantity
        order.status = "filled" if order.exec_quantity >= order.quantity else "partially_filled"
        order.updated = datetime.now(UTC)
        account = self.accounts[order.account]
        signed = quantity if order.buys else -quantity
        account.cash -= signed * price * order.multiplier
        self._move_position(account, order.instrument, signed, price * order.multiplier)

    def _move_position(self, account: FakeAccount, symbol: str, signed: Decimal, unit_cost: Decimal) -> None:
        position = account.positions.get(symbol)
        if position is None:
            self._next_position_id += 1
            account.positions[symbol] = FakePosition(
                symbol, signed, signed * unit_cost, datetime.now(UTC), self._next_position_id
            )
            return
        new_quantity = position.quantity + signed
        if new_quantity == 0:
            del account.positions[symbol]
        elif (position.quantity > 0) == (signed > 0):
            position.cost_basis += signed * unit_cost
        elif (new_quantity > 0) == (position.quantity > 0):
            position.cost_basis = position.cost_basis * new_quantity / position.quantity
        else:
            position.cost_basis = new_quantity * unit_cost
        position.quantity = new_quantity

    # ------------------------------------------------------------------ orders

    def new_order(self, account: str, form: dict[str, str], status: str = "pending") -> FakeOrder:
        self._next_id += 1
        now = datetime.now(UTC)
        order = FakeOrder(
            id=self._next_id,
            account=account,
            klass=form["class"],
            symbol=form["symbol"].upper(),
            option_symbol=form.get("option_symbol", "").upper(),
            side=form["side"],
            quantity=Decimal(form["quantity"]),
            type=form["type"],
            duration=form["duration"],
            price=Decimal(form["price"]) if form.get("price") else None,
            stop=Decimal(form["stop"]) if form.get("stop") else None,
            tag=form.get("tag", ""),
            status=status,
            created=now,
            updated=now,
        )
        self.orders.append(order)
        return order

    def find(self, account: str, order_id: str) -> FakeOrder | None:
        for order in self.orders:
            if order.account == account and str(order.id) == order_id:
                return order
        return None

    def order_cost(self, account: str, form: dict[str, str]) -> Decimal:
        instrument = form.get("option_symbol") or form["symbol"]
        quote = self.quotes.get(instrument.upper())
        price = Decimal(form["price"]) if form.get("price") else (quote.ask if quote else Decimal(0))
        multiplier = Decimal(100) if form["class"] == "option" else Decimal(1)
        return price * Decimal(form["quantity"]) * multiplier

    def session_orders(self, account: str, filter_name: str) -> list[FakeOrder]:
        """``intraday``: created in today's Eastern session; ``all``: the last month."""
        today = datetime.now(EASTERN).date()
        month_ago = datetime.now(UTC) - timedelta(days=31)
        mine = [order for order in self.orders if order.account == account]
        if filter_name == "all":
            return [order for order in mine if order.created >= month_ago]
        return [order for order in mine if order.created.astimezone(EASTERN).date() == today]

    # ------------------------------------------------------------------ balances

    def balances(self, account: FakeAccount) -> dict[str, Any]:
        stock_long = option_long = short = Decimal(0)
        for position in account.positions.values():
            quote = self.quotes.get(position.symbol)
            multiplier = Decimal(100) if OCC.match(position.symbol) else Decimal(1)
            mark = quote.last if quote else abs(position.cost_basis / position.quantity) / multiplier
            value = position.quantity * mark * multiplier
            if value < 0:
                short += value
            elif multiplier == 1:
                stock_long += value
            else:
                option_long += value
        market_value = stock_long + option_long + short
        equity = account.cash + market_value
        body: dict[str, Any] = {
            "option_short_value": 0,
            "total_equity": equity,
            "account_number": account.number,
            "account_type": account.balances_kind,
            "close_pl": 0,
            "current_requirement": 0,
            "equity": 0,
            "long_market_value": stock_long + option_long,
            "market_value": market_value,
            "open_pl": 0,
            "option_long_value": option_long,
            "option_requirement": 0,
            "pending_orders_count": sum(
                1 for o in self.orders if o.account == account.number and o.status in ("pending", "open")
            ),
            "short_market_value": short,
            "stock_long_value": stock_long,
            "total_cash": account.cash,
            "uncleared_funds": 0,
            "pending_cash": 0,
        }
        if account.balances_kind == "cash":
            body["cash"] = {"cash_available": account.cash, "sweep": 0, "unsettled_funds": 0}
        else:
            leverage = Decimal(4) if account.balances_kind == "pdt" else Decimal(2)
            margin = {
                "fed_call": 0,
                "maintenance_call": 0,
                "option_buying_power": max(Decimal(0), account.cash),
                "stock_buying_power": max(Decimal(0), account.cash * leverage),
                "stock_short_value": short,
            }
            if account.balances_kind == "margin":
                margin["sweep"] = 0
            body[account.balances_kind] = margin
        return wire({"balances": body})

    def buying_power(self, account: FakeAccount) -> Decimal:
        kind = account.balances_kind
        section = self.balances(account)["balances"][kind]
        return Decimal(str(section["cash_available" if kind == "cash" else "stock_buying_power"]))

    def positions(self, account: FakeAccount) -> dict[str, Any]:
        entries = [
            wire(
                {
                    "cost_basis": p.cost_basis,
                    "date_acquired": iso(p.acquired),
                    "id": p.id,
                    "quantity": p.quantity,
                    "symbol": p.symbol,
                }
            )
            for p in account.positions.values()
        ]
        return {"positions": {"position": one_or_many(entries)} if entries else "null"}
