"""Fake brokers speaking each broker's real wire format over loopback, with one test API for all four.

The fakes: ``tests.fakes.alpaca.FakeAlpaca``, ``tests.fakes.tradier.TradierFake``,
``tests.fakes.tastytrade.TastytradeFake`` (HTTP servers on threads) and ``tests.fakes.tws.FakeTws``
(the TWS socket API on an asyncio loop). ``make_fake(name)`` builds one by registry key ("alpaca",
"tradier", "tastytrade", "ibkr"), each holding one paper account.

Every fake offers the same small API (``tests.fakes.control.FakeBroker``; each fake's part lives in
``<fake>_controls.py``, the REST fakes' network switches in ``http_server.RestFakeControls``); it is
safe to call from the test's thread while the fake serves, and order ids may be our client order id or
the broker's id:

=====================================================  ================================================
call                                                   what it does
=====================================================  ================================================
``fake.serve_in_background()`` / ``fake.shut_down()``  serve on a free 127.0.0.1 port from background
                                                       threads (the fake TWS runs a loop of its own), so
                                                       sync, pytest-qt and asyncio tests all can use it
``fake.address``                                       the API address for the connection form
                                                       (``base_url``; developer mode's *API address*)
``fake.credentials()``                                 the connection form's fields the fake accepts
``fake.set_quote(symbol, bid, ask, last)``             market for fills and quotes (Decimal)
``fake.fill(order_id, qty=None, price=None)``          fill part (``qty``) or the rest of a working
                                                       order at ``price`` (default: its limit, else the
                                                       touch); the app sees it as the broker reports it
``fake.cancel_external(order_id)``                     cancel at the broker, as from its own app
``fake.add_external_order(symbol, side, qty, limit)``  a resting order placed outside the app (no
                                                       client order id of ours); returns the broker id
``fake.set_position(symbol, qty, avg_price)``          hold exactly that (per share/contract); 0 closes
``fake.set_cash(amount)``                              the account's cash (buying power follows)
``fake.order_views()``                                 ``FakeOrderView`` of every order the fake holds
``fake.order_count()``                                 orders placed through the API since start
``fake.order_requests()``                              ``OrderCall`` of every request that reached an
                                                       order endpoint; ``changes_orders`` marks place,
                                                       replace and cancel (not previews/dry runs)
``fake.drop_next_order_response(action="place")``      book the next "place" / "replace" / "cancel",
                                                       then hang up without answering
``fake.hang_next_order_response(action="place")``      book it, then hold the answer: returns a ``Hang``
                                                       with ``wait_received(timeout)`` (the broker has
                                                       it now) and ``release()`` (answer now)
``fake.go_down()`` / ``fake.come_back()``              stop answering (every request hung up on, nothing
                                                       booked; TWS closes its sockets and refuses new
                                                       ones) / answer again
=====================================================  ================================================

Notes for end-to-end tests:

* "In paper mode no request reaches an order endpoint": assert
  ``not [c for c in fake.order_requests() if c.changes_orders]``. Connecting to TWS itself reads open
  and completed orders and executions (ib_insync's start-up sync), so reads alone prove nothing there.
* "Lost response after the broker booked the order": ``drop_next_order_response()``; the connector
  raises ``OutcomeUnknown``; afterwards ``order_count() == 1`` and ``get_order(coid)`` finds it.
* "SIGKILL after the broker received the order": ``hang = fake.hang_next_order_response()``, let the
  app place, ``hang.wait_received()``, kill the app, restart it on the same data folder; the held
  answer is released at ``shut_down()`` (or by ``hang.release()``) and goes nowhere.
* A live-money account: ``make_fake(name, live=True)`` (Alpaca's live account number, Tastytrade's
  production behaviour, a ``U…`` TWS account; Tradier's fake serves either environment), then connect
  with ``Environment.LIVE``.
* Each fake still has its own finer switches (``inject_fault``, rate limits, token expiry, ...); see
  its module docstring. ``python -m tests.fakes.<name> --port N`` serves one by hand.
"""

from __future__ import annotations

import importlib
from typing import Any

from tests.fakes.control import FakeBroker

_FAKES = {
    "alpaca": "tests.fakes.alpaca:FakeAlpaca",
    "tradier": "tests.fakes.tradier:TradierFake",
    "tastytrade": "tests.fakes.tastytrade:TastytradeFake",
    "ibkr": "tests.fakes.tws:FakeTws",
}
BROKERS = tuple(_FAKES)


#: What makes each fake hold a live-money account instead of a paper one.
_LIVE_OPTIONS: dict[str, dict[str, Any]] = {
    "alpaca": {"account_number": "6FAKE0TB01"},
    "tradier": {},
    "tastytrade": {"sandbox": False},
    "ibkr": {"accounts": ("U7654321",)},
}


def make_fake(name: str, *, live: bool = False, **options: Any) -> FakeBroker:
    """A new, not yet serving fake for the broker with this registry key (paper unless ``live``)."""
    if live:
        options = {**_LIVE_OPTIONS[name], **options}
    module_name, class_name = _FAKES[name].split(":")
    fake: FakeBroker = getattr(importlib.import_module(module_name), class_name)(**options)
    return fake
