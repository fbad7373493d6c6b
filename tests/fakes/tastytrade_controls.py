"""The fake Tastytrade's side of the test API every fake shares (tests/fakes/__init__.py), thread-safe."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.fakes.control import FakeOrderView, OrderCall
from tests.fakes.http_server import Request, RestFakeControls
from tests.fakes.tastytrade_book import TERMINAL, FakeOrder, FakePosition, compact

if TYPE_CHECKING:
    from tests.fakes.tastytrade import TastytradeFake

_OCC = re.compile(r"^[A-Z][A-Z0-9 ]{5}\d{6}[CP]\d{8}$")


def _json_or_none(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None


class TastytradeControls(RestFakeControls):
    """Mixed into ``TastytradeFake``: every call takes the book's lock, as the server threads do."""


    @property
    def address(self: TastytradeFake) -> str:
        return self.url

    def set_quote(self: TastytradeFake, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        with self.book.lock:
            self.book.set_quote(symbol, bid, ask, last)

    def credentials(self: TastytradeFake) -> dict[str, str]:
        return {"client_secret": self.book.client_secret, "refresh_token": self.book.refresh_token,
                "account_number": self._first_account}

    @property
    def _first_account(self: TastytradeFake) -> str:
        return next(iter(self.book.accounts))

    def _find_any(self: TastytradeFake, order_id: str) -> FakeOrder:
        for order in self.book.orders.values():
            if order.external_identifier == order_id or str(order.id) == order_id:
                return order
        raise KeyError(f"the fake Tastytrade has no order {order_id!r}")

    def fill(self: TastytradeFake, order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> None:
        """Fill part (``qty``) or the rest of a working order, at ``price`` or its limit or the touch."""
        with self.book.lock:
            order = self._find_any(order_id)
            if order.status in TERMINAL:
                raise ValueError(f"order {order_id} is {order.status}; only working orders fill")
            quote = self.book.quotes.get(compact(order.leg["symbol"]))
            buying = order.leg["action"].startswith("Buy")
            touch = (quote[1] if buying else quote[0]) if quote else None
            fill_price = price or order.price or touch
            if fill_price is None:
                raise ValueError(f"no price to fill {order_id} at: pass one or set a quote")
            self.book.fill(order, qty, fill_price)

    def cancel_external(self: TastytradeFake, order_id: str) -> None:
        """Cancel a working order at the broker, as from the tastytrade platform."""
        with self.book.lock:
            order = self._find_any(order_id)
            if order.status not in TERMINAL:
                order.set_status("Cancelled")

    def add_external_order(self: TastytradeFake, symbol: str, side: str, qty: Decimal, limit_price: Decimal) -> str:
        """A resting limit order placed outside the app: no external identifier. Returns its order id."""
        option = _OCC.match(symbol) is not None or (len(compact(symbol)) > 15 and compact(symbol)[-9] in "CP")
        leg_symbol = symbol
        if option and " " not in symbol:
            root = compact(symbol)[:-15]
            leg_symbol = f"{root:<6}{compact(symbol)[-15:]}"
        action = ("Buy" if side == "buy" else "Sell") + (" to Open" if option or side == "buy" else " to Close")
        body = {
            "time-in-force": "Day", "order-type": "Limit", "price": str(limit_price),
            "price-effect": "Debit" if side == "buy" else "Credit",
            "legs": [{"instrument-type": "Equity Option" if option else "Equity", "symbol": leg_symbol,
                      "quantity": int(qty) if qty == qty.to_integral_value() else str(qty), "action": action}],
        }
        with self.book.lock:
            order = self.book.add_order(self._first_account, body)
            order.external = True
            order.set_status("Live")
            return str(order.id)

    def set_position(self: TastytradeFake, symbol: str, qty: Decimal, avg_price: Decimal) -> None:
        """Hold exactly ``qty`` (negative: short) at ``avg_price`` per share/contract; 0 closes it."""
        option = len(compact(symbol)) > 15 and compact(symbol)[-9] in "CP"
        leg_symbol = f"{compact(symbol)[:-15]:<6}{compact(symbol)[-15:]}" if option else symbol.upper()
        with self.book.lock:
            key = (self._first_account, leg_symbol)
            self.book.positions.pop(key, None)
            if qty:
                kind = "Equity Option" if option else "Equity"
                self.book.positions[key] = FakePosition(leg_symbol, kind, qty, avg_price)

    def set_cash(self: TastytradeFake, amount: Decimal) -> None:
        with self.book.lock:
            self.book.accounts[self._first_account].cash = amount

    def order_count(self: TastytradeFake) -> int:
        """Orders placed through the API since start, whether or not their answer arrived."""
        with self.book.lock:
            return self.book.order_count

    def order_views(self: TastytradeFake) -> list[FakeOrderView]:
        with self.book.lock:
            views = []
            for o in self.book.orders.values():
                size = Decimal(str(o.leg["quantity"]))
                remaining = Decimal(str(o.leg["remaining-quantity"]))
                side = "buy" if o.leg["action"].startswith("Buy") else "sell"
                views.append(FakeOrderView(o.external_identifier or "", str(o.id), compact(o.leg["symbol"]), side,
                                           size, size - remaining, o.price, o.status, o.status not in TERMINAL))
            return views

    def order_call(self: TastytradeFake, request: Request) -> OrderCall | None:
        parts = request.path.split("/")
        # /accounts/{account}/orders[/live | /dry-run | /{id}[/dry-run]]
        if len(parts) < 4 or parts[1] != "accounts" or parts[3] != "orders":
            return None
        dry_run = parts[-1] == "dry-run"
        changes = request.method in ("POST", "PUT", "PATCH", "DELETE") and not dry_run
        coid = ""
        if request.method in ("POST", "PUT", "PATCH"):
            body = _json_or_none(request)
            coid = str(body.get("external-identifier") or "") if isinstance(body, dict) else ""
        if not coid and len(parts) > 4 and parts[4].isdigit():
            with self.book.lock:
                order = self.book.orders.get(int(parts[4]))
            coid = (order.external_identifier or "") if order is not None else ""
        return OrderCall(request.method, request.path, changes, coid)
