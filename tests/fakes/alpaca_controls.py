"""The fake Alpaca's side of the test API every fake shares (tests/fakes/__init__.py), thread-safe."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.fakes.alpaca_book import BookOrder, BookPosition
from tests.fakes.control import FakeOrderView, OrderCall
from tests.fakes.http_server import Request, RestFakeControls

if TYPE_CHECKING:
    from tests.fakes.alpaca import FakeAlpaca


class AlpacaControls(RestFakeControls):
    """Mixed into ``FakeAlpaca``: every call takes the book's lock, as the server threads do."""


    @property
    def address(self: FakeAlpaca) -> str:
        return self.url

    def credentials(self: FakeAlpaca) -> dict[str, str]:
        return {"api_key_id": self.key_id, "api_secret_key": self.secret_key}

    def _find(self: FakeAlpaca, order_id: str) -> BookOrder:
        order = self.book.order_by_client_id(order_id) or self.book.order_by_id(order_id)
        if order is None:
            raise KeyError(f"the fake Alpaca has no order {order_id!r}")
        return order

    def fill(self: FakeAlpaca, order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> None:
        """Fill part (``qty``) or the rest of a working order, at ``price`` or its limit or the touch."""
        with self.book.lock:
            order = self._find(order_id)
            if not order.is_open:
                raise ValueError(f"order {order_id} is {order.status}; only working orders fill")
            quote = self.book.quotes.get(order.symbol)
            touch = (quote.ask if order.side == "buy" else quote.bid) if quote else None
            fill_price = price or order.limit_price or touch
            if fill_price is None:
                raise ValueError(f"no price to fill {order_id} at: pass one or set a quote")
            self.book.fill(order, qty if qty is not None else order.qty - order.filled_qty, fill_price)

    def cancel_external(self: FakeAlpaca, order_id: str) -> None:
        """Cancel a working order at the broker, as from Alpaca's own dashboard."""
        with self.book.lock:
            order = self._find(order_id)
            if order.is_open:
                self.book.cancel(order, pending=False)

    def add_external_order(self: FakeAlpaca, symbol: str, side: str, qty: Decimal, limit_price: Decimal) -> str:
        """A resting limit order placed outside the app (Alpaca gives it a generated client order id)."""
        with self.book.lock:
            order = BookOrder(
                id=str(uuid.uuid4()), client_order_id=str(uuid.uuid4()), symbol=symbol.upper(), side=side,
                type="limit", time_in_force="day", qty=qty, limit_price=limit_price, stop_price=None,
                extended_hours=False, position_intent=None,
            )
            self.book.orders.append(order)
            self.book.route(order)
            return order.id

    def set_position(self: FakeAlpaca, symbol: str, qty: Decimal, avg_price: Decimal) -> None:
        """Hold exactly ``qty`` (negative: short) at ``avg_price`` per share/contract; 0 closes it."""
        with self.book.lock:
            self.book.positions.pop(symbol.upper(), None)
            if qty:
                self.book.positions[symbol.upper()] = BookPosition(symbol.upper(), qty, avg_price)

    def add_position(self: FakeAlpaca, symbol: str, qty: Decimal, avg_entry_price: Decimal) -> None:
        with self.book.lock:
            self.book._apply_position(symbol, qty, avg_entry_price)

    def set_cash(self: FakeAlpaca, amount: Decimal) -> None:
        with self.book.lock:
            self.book.cash = amount

    def order_views(self: FakeAlpaca) -> list[FakeOrderView]:
        with self.book.lock:
            return [
                FakeOrderView(o.client_order_id, o.id, o.symbol, o.side, o.qty, o.filled_qty, o.limit_price, o.status,
                              o.is_open)
                for o in self.book.orders
            ]

    def order_call(self: FakeAlpaca, request: Request) -> OrderCall | None:
        path = request.path
        if not (path == "/v2/orders" or path.startswith(("/v2/orders/", "/v2/orders:"))):
            return None
        coid = ""
        if request.method == "POST":
            try:
                body = request.json()
            except ValueError:
                body = None
            coid = str(body.get("client_order_id") or "") if isinstance(body, dict) else ""
        elif path.startswith("/v2/orders/"):
            with self.book.lock:
                order = self.book.order_by_id(path.rsplit("/", 1)[-1])
            coid = order.client_order_id if order is not None else ""
        elif path.startswith("/v2/orders:"):
            coid = request.arg("client_order_id") or ""
        return OrderCall(request.method, path, request.method in ("POST", "PATCH", "DELETE"), coid)
