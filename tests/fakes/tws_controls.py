"""The fake TWS's side of the test API every fake shares (tests/fakes/__init__.py), thread-safe."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.fakes import tws_wire as wire
from tests.fakes.control import FakeOrderView, Hang, OrderCall
from tests.fakes.tws_book import DONE
from tests.fakes.tws_wire import OrderRecord

if TYPE_CHECKING:
    from tests.fakes.tws import FakeTws

#: API messages that read or change orders, by message id (ib_insync client.py).
ORDER_MESSAGES = {
    3: "placeOrder", 4: "cancelOrder", 58: "reqGlobalCancel", 5: "reqOpenOrders", 15: "reqAutoOpenOrders",
    16: "reqAllOpenOrders", 99: "reqCompletedOrders", 7: "reqExecutions",
}


class TwsControls:
    """Mixed into ``FakeTws``: steering from any thread, hopping onto the fake's loop where needed."""

    def serve_in_background(self: FakeTws) -> FakeTws:
        """Serve from a thread with an event loop of its own, so sync, Qt and other-loop tests can use it."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start(self.port))
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close_everything())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-tws", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake TWS did not start")
        return self

    def shut_down(self: FakeTws) -> None:
        """Stop a fake started with ``serve_in_background`` (in-loop users ``await stop()``)."""
        loop, thread = self._loop, self._thread
        if thread is None or loop is None:
            raise RuntimeError("shut_down() is for a fake started with serve_in_background(); await stop() instead")
        self.switches.release_all()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None

    async def _close_everything(self: FakeTws) -> None:
        await self.stop()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _on_loop(self: FakeTws, fn: Callable[..., object], *args: object) -> object:
        """Run ``fn`` on the fake's loop: directly when already there, else hop over and wait."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop or not loop.is_running():
            return fn(*args)
        done: concurrent.futures.Future[object] = concurrent.futures.Future()

        def call() -> None:
            try:
                done.set_result(fn(*args))
            except BaseException as exc:  # handed back to the calling thread
                done.set_exception(exc)

        loop.call_soon_threadsafe(call)
        return done.result(10)

    @property
    def address(self: FakeTws) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def credentials(self: FakeTws) -> dict[str, str]:
        return {"host": "127.0.0.1", "port": str(self.port), "client_id": "1", "account": self.accounts[0]}

    def _find_any(self: FakeTws, order_id: str) -> OrderRecord:
        for order in self.orders:
            if (order.order_ref and order.order_ref == order_id) or str(order.perm_id) == order_id:
                return order
        raise KeyError(f"the fake TWS has no order {order_id!r}")

    def fill(self: FakeTws, order_id: str, qty: Decimal | None = None, price: Decimal | None = None, *,
             notify: bool = True) -> None:
        """Fill part (``qty``) or the rest of a working order (by orderRef or permId), at ``price`` or its
        limit or the touch; ``notify=False`` changes TWS's books without telling the client."""
        self._on_loop(self._fill_now, order_id, qty, price, notify)

    def _fill_now(self: FakeTws, order_id: str, qty: Decimal | None, price: Decimal | None, notify: bool) -> None:
        order = self._find_any(order_id)
        if order.status in DONE:
            raise ValueError(f"order {order_id} is {order.status}; only working orders fill")
        quote = self.quotes.get(order.contract.key)
        touch = (quote.ask if order.action == "BUY" else quote.bid) if quote else None
        fill_price = price or order.limit_price or touch
        if fill_price is None:
            raise ValueError(f"no price to fill {order_id} at: pass one or set a quote")
        self._fill(order, fill_price, shares=qty, notify=notify)

    def cancel_external(self: FakeTws, order_id: str) -> None:
        """Cancel a working order in TWS itself (the owner hears Cancelled and message 202)."""
        def cancel() -> None:
            order = self._find_any(order_id)
            if order.status not in DONE:
                self._cancelled(order)

        self._on_loop(cancel)

    def add_external_order(self: FakeTws, symbol: str, side: str, qty: Decimal, limit_price: Decimal) -> str:
        """A resting limit order entered in TWS by hand (client 0, no orderRef). Returns its permId."""
        def add() -> str:
            order = self.submit_order(0, self.next_order_id(0), symbol, side.upper(), qty, limit_price)
            return str(order.perm_id)

        return str(self._on_loop(add))

    def set_position(self: FakeTws, symbol: str, qty: Decimal, avg_price: Decimal) -> None:
        """Hold exactly ``qty`` at ``avg_price`` per share/contract (TWS reports options × multiplier)."""
        def hold() -> None:
            contract = self.listed(symbol)
            self.hold_position(symbol, qty, avg_price * Decimal(contract.multiplier or 1))

        self._on_loop(hold)

    def set_cash(self: FakeTws, amount: Decimal) -> None:
        self._on_loop(self.cash.__setitem__, self.accounts[0], amount)

    def order_count(self: FakeTws) -> int:
        """Orders placed through the API since start, whether or not their answer arrived."""
        return self.accepted

    def order_views(self: FakeTws) -> list[FakeOrderView]:
        def view() -> list[FakeOrderView]:
            return [
                FakeOrderView(o.order_ref, str(o.perm_id), o.contract.key, o.action.lower(), o.quantity, o.filled,
                              o.limit_price, o.status, o.status not in DONE)
                for o in self.orders
            ]

        return list(self._on_loop(view))  # type: ignore[call-overload]

    def order_requests(self: FakeTws) -> list[OrderCall]:
        """Every API message that read or changed orders, oldest first (a connect itself syncs orders)."""
        calls = []
        for client_id, fields in list(self.received):
            kind = ORDER_MESSAGES.get(int(fields[0]))
            if kind is None:
                continue
            coid, changes = "", kind in ("placeOrder", "cancelOrder", "reqGlobalCancel")
            if kind == "placeOrder":
                placed = wire.parse_place_order(fields)
                coid, changes = placed.order_ref, not placed.what_if
            elif kind == "cancelOrder":
                order_id = int(fields[2])
                found = next((o for o in self.orders if o.client_id == client_id and o.order_id == order_id), None)
                coid = found.order_ref if found is not None else ""
            calls.append(OrderCall(kind, "", changes, coid))
        return calls

    def drop_next_order_response(self: FakeTws, action: str = "place") -> None:
        """Book the next order request of this kind ("place", "replace", "cancel"), then close the socket."""
        self.switches.drop_next(action)

    def hang_next_order_response(self: FakeTws, action: str = "place") -> Hang:
        """Book the next order request of this kind, and hold TWS's answer until the handle is released."""
        return self.switches.hang_next(action)

    def go_down(self: FakeTws) -> None:
        """TWS is gone: every API socket closes and new connections are refused until ``come_back``."""
        def down() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            self.drop_connections()

        self._on_loop(down)

    def come_back(self: FakeTws) -> None:
        """Listen again on the same port (in-loop callers: the server is back once the loop runs)."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is loop:
            task = loop.create_task(self.resume())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        if loop is None or not loop.is_running():
            raise RuntimeError("the fake TWS is not running")
        asyncio.run_coroutine_threadsafe(self.resume(), loop).result(10)
