"""The records and switches every fake broker shares for steering it from a test (see tests/fakes/__init__.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

#: The order requests a switch can act on: a new order, a change of a working one, a cancel.
ORDER_ACTIONS = ("place", "replace", "cancel")


@dataclass(frozen=True, slots=True)
class OrderCall:
    """One request that reached a fake's order endpoints, reads included.

    ``method``/``path`` are HTTP's for the REST fakes; for the fake TWS ``method`` is the API message
    (``placeOrder``, ``cancelOrder``, ``reqOpenOrders``, ...) and ``path`` is empty. ``changes_orders``
    is true for what can place, change or cancel an order (not for previews, dry runs and what-ifs).
    """

    method: str
    path: str
    changes_orders: bool
    client_order_id: str = ""


@dataclass(frozen=True, slots=True)
class FakeOrderView:
    """An order as the fake broker holds it, in plain values shared by all four fakes."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: str  # "buy" or "sell"
    quantity: Decimal
    filled_quantity: Decimal
    limit_price: Decimal | None
    status: str  # the broker's own word ("new", "open", "Live", "Submitted", ...)
    is_open: bool


class Hang:
    """A held answer: the fake booked the request and waits with its answer until ``release()``.

    ``received`` is set the moment the fake has booked the request, so a test can act in the window
    between "the broker has the order" and "the app has the answer" (for instance SIGKILL the app).
    """

    def __init__(self, action: str) -> None:
        if action not in ORDER_ACTIONS:
            raise ValueError(f"unknown order action {action!r}; one of {ORDER_ACTIONS}")
        self.action = action
        self.received = threading.Event()
        self._released = threading.Event()
        self._on_release: list[Callable[[], None]] = []

    def wait_received(self, timeout: float = 10.0) -> bool:
        """Block until the fake has booked the held request; False when it did not come in time."""
        return self.received.wait(timeout)

    def release(self) -> None:
        """Send the held answer now (to whoever is still listening)."""
        self._released.set()
        callbacks, self._on_release = self._on_release, []
        for callback in callbacks:
            callback()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def wait_released(self, timeout: float | None = None) -> bool:
        return self._released.wait(timeout)

    def on_release(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when released (at once if that already happened)."""
        if self._released.is_set():
            callback()
        else:
            self._on_release.append(callback)


class RequestSwitches:
    """One-shot switches on the next order request of a kind: drop its answer, or hold it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drops: list[str] = []
        self._hangs: list[Hang] = []
        self.holding: list[Hang] = []

    def drop_next(self, action: str) -> None:
        if action not in ORDER_ACTIONS:
            raise ValueError(f"unknown order action {action!r}; one of {ORDER_ACTIONS}")
        with self._lock:
            self._drops.append(action)

    def hang_next(self, action: str) -> Hang:
        hang = Hang(action)
        with self._lock:
            self._hangs.append(hang)
        return hang

    def take_drop(self, action: str) -> bool:
        with self._lock:
            if action in self._drops:
                self._drops.remove(action)
                return True
        return False

    def take_hang(self, action: str) -> Hang | None:
        with self._lock:
            for hang in self._hangs:
                if hang.action == action:
                    self._hangs.remove(hang)
                    self.holding.append(hang)
                    return hang
        return None

    def release_all(self) -> None:
        with self._lock:
            held, self.holding = self.holding, []
            pending, self._hangs = self._hangs, []
        for hang in [*held, *pending]:
            hang.release()


class FakeBroker(Protocol):
    """The test-facing API every fake broker offers (documented in tests/fakes/__init__.py)."""

    name: str

    def serve_in_background(self) -> FakeBroker: ...

    def shut_down(self) -> None: ...

    @property
    def address(self) -> str: ...

    def credentials(self) -> dict[str, str]: ...

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None: ...

    def fill(self, order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> None: ...

    def cancel_external(self, order_id: str) -> None: ...

    def add_external_order(self, symbol: str, side: str, qty: Decimal, limit_price: Decimal) -> str: ...

    def set_position(self, symbol: str, qty: Decimal, avg_price: Decimal) -> None: ...

    def set_cash(self, amount: Decimal) -> None: ...

    def order_views(self) -> list[FakeOrderView]: ...

    def order_count(self) -> int: ...

    def order_requests(self) -> list[OrderCall]: ...

    def drop_next_order_response(self, action: str = "place") -> None: ...

    def hang_next_order_response(self, action: str = "place") -> Hang: ...

    def go_down(self) -> None: ...

    def come_back(self) -> None: ...
