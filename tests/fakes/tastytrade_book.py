"""State behind the fake Tastytrade API: accounts, access tokens, quotes, orders, fills, positions.

Everything is kept in Tastytrade's own terms (dasherized wire dicts, padded OCC symbols) so the
HTTP layer in ``tests.fakes.tastytrade`` only wraps it in envelopes. Fill rules follow the
contract harness: a market order fills at the ask (buy) or bid (sell); a limit order that crosses
fills at its limit; every other order rests until cancelled.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

TERMINAL = frozenset({"Filled", "Cancelled", "Expired", "Rejected", "Removed", "Partially Removed"})
CANCELLABLE = frozenset({"Received", "Routed", "In Flight", "Live", "Contingent"})
ACTIONS = frozenset({"Buy to Open", "Buy to Close", "Sell to Open", "Sell to Close"})


def iso(moment: datetime) -> str:
    """Tastytrade's timestamp spelling: milliseconds and an explicit +00:00 offset."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def compact(symbol: str) -> str:
    return symbol.replace(" ", "").upper()


def money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.001")).normalize(), "f")


@dataclass
class FakeAccount:
    number: str = "5WT00001"
    type_name: str = "Individual"
    margin_or_cash: str = "Margin"
    authority: str = "owner"
    closed: bool = False
    cash: Decimal = Decimal("100000")

    def wire(self) -> dict[str, Any]:
        return {
            "account": {
                "account-number": self.number,
                "external-id": f"A{self.number}",
                "opened-at": "2024-01-02T15:00:00.000+00:00",
                "nickname": self.type_name,
                "account-type-name": self.type_name,
                "day-trader-status": False,
                "is-closed": self.closed,
                "is-firm-error": False,
                "is-firm-proprietary": False,
                "is-futures-approved": False,
                "is-test-drive": False,
                "margin-or-cash": self.margin_or_cash,
                "is-foreign": False,
                "funding-date": "2024-01-03",
                "investment-objective": "GROWTH",
                "suitable-options-level": "No Restrictions",
                "created-at": "2024-01-02T15:00:00.000+00:00",
            },
            "authority-level": self.authority,
        }


@dataclass
class FakeOrder:
    id: int
    account: str
    time_in_force: str
    order_type: str
    legs: list[dict[str, Any]]
    price: Decimal | None
    price_effect: str | None
    stop_trigger: Decimal | None
    external_identifier: str | None
    received_at: datetime
    status: str = "Received"
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    terminal_at: datetime | None = None
    cancelled_at: datetime | None = None
    #: Placed outside the API (the tastytrade platform), so not counted as one of the app's orders.
    external: bool = False
    replaces_order_id: int | None = None
    replacing_order_id: int | None = None

    @property
    def leg(self) -> dict[str, Any]:
        return self.legs[0]

    def set_status(self, status: str) -> None:
        now = datetime.now(UTC)
        self.status = status
        self.updated_at = now
        if status in TERMINAL:
            self.terminal_at = now
        if status == "Cancelled":
            self.cancelled_at = now

    def wire(self, *, with_id: bool = True) -> dict[str, Any]:
        leg = self.leg
        underlying = leg["symbol"].split(" ")[0] if leg["instrument-type"] == "Equity Option" else leg["symbol"]
        body: dict[str, Any] = {
            "account-number": self.account,
            "time-in-force": self.time_in_force,
            "order-type": self.order_type,
            "size": leg["quantity"],
            "underlying-symbol": underlying,
            "underlying-instrument-type": "Equity",
            "status": self.status,
            "cancellable": self.status in CANCELLABLE,
            "editable": self.status in CANCELLABLE,
            "edited": False,
            "received-at": iso(self.received_at),
            # Real order payloads carry updated-at as epoch milliseconds, not ISO text.
            "updated-at": int(self.updated_at.timestamp() * 1000),
            "legs": [dict(leg, fills=list(leg["fills"])) for leg in self.legs],
        }
        if with_id:
            body["id"] = self.id
        if self.price is not None:
            body["price"] = format(self.price, "f")
            body["price-effect"] = self.price_effect
        if self.stop_trigger is not None:
            body["stop-trigger"] = format(self.stop_trigger, "f")
        if self.external_identifier is not None:
            body["external-identifier"] = self.external_identifier
        if self.terminal_at is not None:
            body["terminal-at"] = iso(self.terminal_at)
        if self.cancelled_at is not None:
            body["cancelled-at"] = iso(self.cancelled_at)
        if self.replaces_order_id is not None:
            body["replaces-order-id"] = str(self.replaces_order_id)
        if self.replacing_order_id is not None:
            body["replacing-order-id"] = str(self.replacing_order_id)
        return body


@dataclass
class FakePosition:
    symbol: str
    instrument_type: str
    quantity: Decimal
    average_price: Decimal
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def multiplier(self) -> Decimal:
        return Decimal(100) if self.instrument_type == "Equity Option" else Decimal(1)


class TastytradeBook:
    """Thread-safe: the HTTP server answers on its own threads while tests steer from theirs."""

    def __init__(self, *, client_secret: str, refresh_token: str, accounts: list[FakeAccount]) -> None:
        self.lock = threading.RLock()
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.accounts = {account.number: account for account in accounts}
        self.token_ttl = 900
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self.quotes: dict[str, tuple[Decimal, Decimal, Decimal, datetime]] = {}
        self.orders: dict[int, FakeOrder] = {}
        self.positions: dict[tuple[str, str], FakePosition] = {}
        self._next_id = 272985726

    # --- tokens ---------------------------------------------------------------------------

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_ttl
        return token

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and time.monotonic() < expires

    def expire_tokens(self) -> None:
        """Every issued access token is now past its lifetime (what 15 idle minutes do)."""
        self.tokens = {token: 0.0 for token in self.tokens}

    # --- quotes, balances -----------------------------------------------------------------

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        self.quotes[compact(symbol)] = (bid, ask, last, datetime.now(UTC))

    def mark(self, symbol: str) -> Decimal | None:
        quote = self.quotes.get(compact(symbol))
        return (quote[0] + quote[1]) / 2 if quote else None

    def account_positions(self, account: str) -> list[FakePosition]:
        return [p for (owner, _), p in self.positions.items() if owner == account]

    def buying_power(self, account: FakeAccount) -> Decimal:
        factor = Decimal(2) if account.margin_or_cash == "Margin" else Decimal(1)
        return max(account.cash, Decimal(0)) * factor

    def balances(self, number: str) -> dict[str, Any]:
        account = self.accounts[number]
        long_value = sum(
            (
                p.quantity * (self.mark(p.symbol) or p.average_price) * p.multiplier
                for p in self.account_positions(number)
            ),
            Decimal(0),
        )
        net_liq = account.cash + long_value
        power = self.buying_power(account)
        zero = "0.0"
        return {
            "account-number": number,
            "cash-balance": money(account.cash),
            "long-equity-value": money(long_value),
            "short-equity-value": zero,
            "long-derivative-value": zero,
            "short-derivative-value": zero,
            "margin-equity": money(net_liq),
            "equity-buying-power": money(power),
            "derivative-buying-power": money(account.cash),
            "day-trading-buying-power": zero,
            "available-trading-funds": money(account.cash),
            "maintenance-requirement": zero,
            "net-liquidating-value": money(net_liq),
            "cash-available-to-withdraw": money(account.cash),
            "pending-cash": zero,
            "pending-cash-effect": "None",
            "reg-t-margin-requirement": zero,
            "maintenance-excess": money(power),
            "snapshot-date": datetime.now(UTC).date().isoformat(),
            "updated-at": iso(datetime.now(UTC)),
        }

    # --- orders ---------------------------------------------------------------------------

    def add_order(self, account: str, body: dict[str, Any]) -> FakeOrder:
        self._next_id += 1
        order = self.build_order(self._next_id, account, body)
        self.orders[order.id] = order
        return order

    @staticmethod
    def build_order(order_id: int, account: str, body: dict[str, Any]) -> FakeOrder:
        """An order from a validated request body (a dry run builds one without keeping it)."""
        leg = body["legs"][0]
        return FakeOrder(
            id=order_id,
            account=account,
            time_in_force=body["time-in-force"],
            order_type=body["order-type"],
            legs=[
                {
                    "instrument-type": leg["instrument-type"],
                    "symbol": leg["symbol"],
                    "quantity": leg["quantity"],
                    "remaining-quantity": leg["quantity"],
                    "action": leg["action"],
                    "fills": [],
                }
            ],
            price=Decimal(str(body["price"])) if body.get("price") is not None else None,
            price_effect=body.get("price-effect"),
            stop_trigger=Decimal(str(body["stop-trigger"])) if body.get("stop-trigger") is not None else None,
            external_identifier=body.get("external-identifier"),
            received_at=datetime.now(UTC),
        )

    @property
    def order_count(self) -> int:
        """Orders placed through the API (not those placed elsewhere, nor replacements of placed ones)."""
        return sum(1 for order in self.orders.values() if not order.external and order.replaces_order_id is None)

    def advance(self) -> None:
        """Move every order one step: received -> live (or filled), cancel requested -> cancelled."""
        for order in self.orders.values():
            if order.status == "Cancel Requested":
                order.set_status("Cancelled")
            elif order.status in ("Received", "Routed", "Live"):
                if not self._try_fill(order) and order.status != "Live":
                    order.set_status("Live")

    def fill_price(self, order: FakeOrder) -> Decimal | None:
        quote = self.quotes.get(compact(order.leg["symbol"]))
        if quote is None:
            return None
        bid, ask, _, _ = quote
        buying = order.leg["action"].startswith("Buy")
        if order.order_type == "Market":
            return ask if buying else bid
        if order.order_type == "Limit" and order.price is not None:
            crosses = ask <= order.price if buying else bid >= order.price
            return order.price if crosses else None
        return None

    def _try_fill(self, order: FakeOrder) -> bool:
        price = self.fill_price(order)
        if price is None:
            return False
        self.fill(order, None, price)
        return True

    def fill(self, order: FakeOrder, quantity: Decimal | None, price: Decimal) -> None:
        """Execute ``quantity`` (default: what remains) at ``price``; the order stays Live until nothing remains."""
        leg = order.leg
        remaining = Decimal(str(leg["remaining-quantity"]))
        quantity = remaining if quantity is None else min(quantity, remaining)
        if quantity <= 0:
            return
        now = datetime.now(UTC)
        number = len(leg["fills"]) + 1
        leg["fills"].append(
            {
                "ext-group-fill-id": str(order.id),
                "ext-exec-id": secrets.token_hex(6),
                "fill-id": f"{order.id}_{number}",
                "quantity": _wire_quantity(quantity),
                "fill-price": format(price, "f"),
                "filled-at": iso(now),
                "destination-venue": "MARKET_SIMULATOR_A",
            }
        )
        left = remaining - quantity
        leg["remaining-quantity"] = int(left) if left == left.to_integral_value() else str(left)
        order.set_status("Filled" if left == 0 else "Live")
        self._book_fill(order.account, leg, quantity, price)

    def _book_fill(self, account: str, leg: dict[str, Any], quantity: Decimal, price: Decimal) -> None:
        key = (account, leg["symbol"])
        signed = quantity if leg["action"].startswith("Buy") else -quantity
        position = self.positions.get(key) or FakePosition(leg["symbol"], leg["instrument-type"], Decimal(0), price)
        self.accounts[account].cash -= signed * price * position.multiplier
        new_quantity = position.quantity + signed
        if position.quantity == 0 or (position.quantity > 0) == (signed > 0):
            total = abs(position.quantity) * position.average_price + quantity * price
            position.average_price = total / abs(new_quantity)
        elif (new_quantity > 0) != (position.quantity > 0) and new_quantity != 0:
            position.average_price = price
        position.quantity = new_quantity
        if new_quantity == 0:
            self.positions.pop(key, None)
        else:
            self.positions[key] = position

    def replace_order(self, old: FakeOrder, body: dict[str, Any]) -> FakeOrder:
        """Cancel-replace: a new order with the old one's legs (what is left of them) and the new terms."""
        self._next_id += 1
        legs = [dict(leg, quantity=leg["remaining-quantity"], fills=[]) for leg in old.legs]
        new = FakeOrder(
            id=self._next_id,
            account=old.account,
            time_in_force=body.get("time-in-force") or old.time_in_force,
            order_type=body.get("order-type") or old.order_type,
            legs=legs,
            price=Decimal(str(body["price"])) if body.get("price") is not None else None,
            price_effect=body.get("price-effect"),
            stop_trigger=Decimal(str(body["stop-trigger"])) if body.get("stop-trigger") is not None else None,
            external_identifier=body.get("external-identifier", old.external_identifier),
            received_at=datetime.now(UTC),
            replaces_order_id=old.id,
        )
        self.orders[new.id] = new
        old.replacing_order_id = new.id
        old.set_status("Cancelled")
        return new

    def cancel(self, order: FakeOrder) -> None:
        order.set_status("Cancel Requested")

    def order_cost(self, account: str, body: dict[str, Any]) -> Decimal:
        """What a buy would take from buying power, priced as the preflight check does."""
        leg = body["legs"][0]
        quantity = Decimal(str(leg["quantity"]))
        multiplier = Decimal(100) if leg["instrument-type"] == "Equity Option" else Decimal(1)
        price = body.get("price") or body.get("stop-trigger")
        if price is None:
            quote = self.quotes.get(compact(leg["symbol"]))
            price = quote[1] if quote else Decimal(0)
        return Decimal(str(price)) * quantity * multiplier

    def fees(self, body: dict[str, Any]) -> dict[str, str]:
        """Illustrative fees: $1 commission per option contract opened, clearing per contract/share."""
        leg = body["legs"][0]
        quantity = Decimal(str(leg["quantity"]))
        option = leg["instrument-type"] == "Equity Option"
        commission = quantity if option and leg["action"].endswith("Open") else Decimal(0)
        clearing = quantity * (Decimal("0.10") if option else Decimal("0.0008"))
        total = commission + clearing
        return {
            "regulatory-fees": "0.0",
            "regulatory-fees-effect": "None",
            "clearing-fees": money(clearing),
            "clearing-fees-effect": "Debit",
            "commission": money(commission),
            "commission-effect": "Debit" if commission else "None",
            "proprietary-index-option-fees": "0.0",
            "proprietary-index-option-fees-effect": "None",
            "total-fees": money(total),
            "total-fees-effect": "Debit",
        }

    def buying_power_effect(self, account: str, body: dict[str, Any]) -> dict[str, Any]:
        cost = self.order_cost(account, body)
        buying = body["legs"][0]["action"].startswith("Buy")
        current = self.buying_power(self.accounts[account])
        new = current - cost if buying else current + cost
        effect = "Debit" if buying else "Credit"
        return {
            "change-in-margin-requirement": money(cost),
            "change-in-margin-requirement-effect": effect,
            "change-in-buying-power": money(cost),
            "change-in-buying-power-effect": effect,
            "current-buying-power": money(current),
            "current-buying-power-effect": "Credit",
            "new-buying-power": money(abs(new)),
            "new-buying-power-effect": "Credit" if new >= 0 else "Debit",
            "isolated-order-margin-requirement": money(cost),
            "isolated-order-margin-requirement-effect": "Debit",
            "is-spread": False,
            "impact": money(cost),
            "effect": effect,
        }

    def quote_item(self, symbol: str) -> dict[str, Any] | None:
        quote = self.quotes.get(compact(symbol))
        if quote is None:
            return None
        bid, ask, last, updated = quote
        option = len(compact(symbol)) > 15 and compact(symbol)[-9] in "CP"
        mid = (bid + ask) / 2
        return {
            "symbol": symbol,
            "instrument-type": "Equity Option" if option else "Equity",
            "updated-at": updated.strftime("%Y-%m-%dT%H:%M:%S.") + f"{updated.microsecond // 1000:03d}Z",
            "bid": format(bid, "f"),
            "bid-size": "100.0",
            "ask": format(ask, "f"),
            "ask-size": "200.0",
            "mid": format(mid, "f"),
            "mark": format(mid, "f"),
            "last": format(last, "f"),
            "last-mkt": format(last, "f"),
            "close-price-type": "Regular",
            "prev-close-price-type": "Regular",
            "summary-date": updated.date().isoformat(),
            "is-trading-halted": False,
            "halt-start-time": -1,
            "halt-end-time": -1,
        }


def _wire_quantity(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f") if quantity != quantity.to_integral_value() else str(int(quantity))
