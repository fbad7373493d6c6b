"""The fake TWS's books: listed contracts, quotes, accounts, orders, executions and positions, and the fill rules.

Plain state with no sockets; ``tests.fakes.tws`` serves it over the API and sends the messages.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal

from tests.fakes.tws_wire import OrderRecord, RequestedContract, WireContract

_OCC = re.compile(r"^(?P<root>[A-Z][A-Z0-9]{0,5})\s*(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")
DONE = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})


@dataclass(frozen=True, slots=True)
class FakeQuote:
    bid: Decimal
    ask: Decimal
    last: Decimal
    #: False: the trader has no subscription, so TWS gives delayed data or error 354.
    live: bool = True
    size: Decimal = Decimal(100)


@dataclass(frozen=True, slots=True)
class FakeExecution:
    order: OrderRecord
    exec_id: str
    time_text: str
    shares: Decimal
    price: Decimal
    cum_qty: Decimal
    avg_price: Decimal
    commission: Decimal


def ib_time() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d %H:%M:%S UTC")


class TwsBook:
    """What TWS knows: its market, its accounts' money, orders and positions."""

    def __init__(self, accounts: Iterable[str] = ("DU1234567",), *, cash: Decimal = Decimal("100000")) -> None:
        self.accounts: tuple[str, ...] = tuple(accounts)
        self.quotes: dict[str, FakeQuote] = {}
        self.orders: list[OrderRecord] = []
        self.executions: list[FakeExecution] = []
        self.positions: dict[tuple[str, str], tuple[WireContract, Decimal, Decimal]] = {}
        self.cash: dict[str, Decimal] = {}
        self.initial_cash = cash
        self.accepted = 0
        self._contracts: dict[str, WireContract] = {}
        self._con_ids = itertools.count(265598)
        self._perm_ids = itertools.count(1001)
        self._exec_ids = itertools.count(1)
        self._next_ids: dict[int, int] = {}

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal, *, live: bool = True) -> None:
        self.quotes[symbol] = FakeQuote(bid, ask, last, live)

    def hold_position(self, symbol: str, quantity: Decimal, avg_cost: Decimal) -> None:
        """A position held before the session (average cost as TWS reports it: per contract for options)."""
        self.positions[(self.accounts[0], symbol)] = (self.listed(symbol), quantity, avg_cost)

    def order(self, order_ref: str) -> OrderRecord:
        return next(o for o in self.orders if o.order_ref == order_ref)

    def submit_order(self, client_id: int, order_id: int, symbol: str, action: str, quantity: Decimal,
                     limit_price: Decimal, order_ref: str = "") -> OrderRecord:
        """An order placed by another API client (it may reuse one of our orderIds)."""
        contract = self.listed(symbol)
        order = OrderRecord(order_id, client_id, self.new_perm_id(), contract, action, quantity, "LMT", limit_price,
                            None, "DAY", self.accounts[0], order_ref, "Submitted", Decimal(0))
        self.orders.append(order)
        self.note_order_id(client_id, order_id)
        return order

    def next_order_id(self, client_id: int) -> int:
        """TWS's nextValidId for a client: above every orderId that client used."""
        return self._next_ids.get(client_id, 1)

    def book(self, order: OrderRecord) -> OrderRecord:
        self.orders.append(order)
        self.accepted += 1
        return order

    def new_perm_id(self) -> int:
        return next(self._perm_ids)

    def book_fill(
        self, order: OrderRecord, price: Decimal, shares: Decimal | None = None
    ) -> tuple[OrderRecord, FakeExecution, tuple[Decimal, Decimal]]:
        """Fill ``shares`` (default: the rest) of an order: the execution, cash and position change."""
        remaining = order.quantity - order.filled
        shares = remaining if shares is None else min(shares, remaining)
        previous = [e for e in self.executions if e.order.perm_id == order.perm_id]
        notional = sum((e.shares * e.price for e in previous), Decimal(0)) + shares * price
        cumulative = order.filled + shares
        status = "Filled" if cumulative >= order.quantity else order.status
        order = self.update(order, status=status, filled=cumulative)
        commission = self.commission(order.contract, shares)
        ex = FakeExecution(order, f"0000e0d5.{order.perm_id:08x}.01.{next(self._exec_ids):02d}", ib_time(), shares,
                           price, cumulative, notional / cumulative, commission)
        self.executions.append(ex)
        multiplier = Decimal(order.contract.multiplier or 1)
        signed = shares if order.action == "BUY" else -shares
        cash = self.cash.setdefault(order.account, self.initial_cash)
        self.cash[order.account] = cash - signed * price * multiplier - commission
        position = self._move_position(order.account, order.contract, signed, price * multiplier)
        return order, ex, position

    def update(self, order: OrderRecord, **changes: object) -> OrderRecord:
        updated = replace(order, **changes)  # type: ignore[arg-type]
        self.orders[self.orders.index(order)] = updated
        return updated

    def average_price(self, order: OrderRecord) -> Decimal:
        return next((e.avg_price for e in reversed(self.executions) if e.order.perm_id == order.perm_id), Decimal(0))

    def note_order_id(self, client_id: int, order_id: int) -> None:
        self._next_ids[client_id] = max(self._next_ids.get(client_id, 1), order_id + 1)

    def _move_position(
        self, account: str, contract: WireContract, signed: Decimal, unit_cost: Decimal
    ) -> tuple[Decimal, Decimal]:
        _, quantity, avg_cost = self.positions.get((account, contract.key), (contract, Decimal(0), Decimal(0)))
        new_quantity = quantity + signed
        if quantity == 0 or ((quantity > 0) != (new_quantity > 0) and new_quantity != 0):
            avg_cost = unit_cost
        elif abs(new_quantity) > abs(quantity):
            avg_cost = (quantity * avg_cost + signed * unit_cost) / new_quantity
        if new_quantity == 0:
            avg_cost = Decimal(0)
        self.positions[(account, contract.key)] = (contract, new_quantity, avg_cost)
        return new_quantity, avg_cost

    def execution_price(self, key: str, action: str, order_type: str, limit: Decimal | None) -> Decimal | None:
        """The harness fill rules: market at the touch, a crossing limit at its limit, the rest rests."""
        quote = self.quotes.get(key)
        if quote is None or order_type not in ("MKT", "LMT"):
            return None
        touch = quote.ask if action == "BUY" else quote.bid
        if order_type == "MKT":
            return touch
        assert limit is not None
        crosses = limit >= touch if action == "BUY" else limit <= touch
        return limit if crosses else None

    @staticmethod
    def commission(contract: WireContract, quantity: Decimal) -> Decimal:
        if contract.sec_type == "OPT":
            return (Decimal("0.65") * quantity).quantize(Decimal("0.01"))
        return max(Decimal("1.00"), (Decimal("0.005") * quantity).quantize(Decimal("0.01")))

    def account_values(self, account: str) -> dict[str, tuple[str, str]]:
        cash = self.cash.get(account, self.initial_cash)
        gross = Decimal(0)
        for (owner, key), (contract, quantity, _) in self.positions.items():
            quote = self.quotes.get(key)
            if owner == account and quote is not None:
                gross += quantity * quote.last * Decimal(contract.multiplier or 1)
        net = cash + gross
        money = {
            "NetLiquidation": net, "TotalCashValue": cash, "SettledCash": cash, "AvailableFunds": cash,
            "BuyingPower": cash * 4, "EquityWithLoanValue": net, "GrossPositionValue": abs(gross),
        }
        values = {tag: (f"{value:.2f}", "USD") for tag, value in money.items()}
        values["AccountType"] = ("INDIVIDUAL", "")
        return values

    def buying_power(self, account: str) -> Decimal:
        return Decimal(self.account_values(account)["BuyingPower"][0])

    def listed(self, key: str) -> WireContract:
        contract = self._contracts.get(key)
        if contract is None:
            occ = _OCC.match(key)
            if occ:
                root, day, right, strike = occ.group("root"), occ.group("date"), occ.group("right"), occ.group("strike")
                strike_text = format((Decimal(int(strike)) / 1000).normalize(), "f")
                contract = WireContract(key, next(self._con_ids), root, "OPT", f"20{day}", strike_text, right, "100",
                                        local_symbol=f"{root:<6}{day}{right}{strike}", trading_class=root,
                                        primary_exchange="")
            else:
                contract = WireContract(key, next(self._con_ids), key.replace(".", " "), "STK",
                                        local_symbol=key.replace(".", " "), trading_class="NMS")
            self._contracts[key] = contract
        return contract

    def resolve(self, requested: RequestedContract) -> WireContract | None:
        """A stock exists when it has a quote; an option when its underlying does."""
        if requested.sec_type == "OPT":
            text = requested.local_symbol.replace(" ", "")
            if not text and requested.symbol:
                strike = int(Decimal(requested.strike or "0") * 1000)
                text = f"{requested.symbol}{requested.expiry[2:]}{requested.right[:1]}{strike:08d}"
            occ = _OCC.match(text)
            if not occ or occ.group("root") not in self.quotes:
                return None
            return self.listed(text)
        key = (requested.symbol or requested.local_symbol).replace(" ", ".")
        return self.listed(key) if key in self.quotes else None
