"""A stateful fake of Tradier's brokerage REST API over real HTTP on 127.0.0.1, plus its contract harness.

It checks the Bearer token and account ownership as Tradier does, answers XML unless JSON is asked
for, reproduces the envelopes and quirks (one element -> object, none -> ``"null"``, 200 with an
``errors`` payload, plain-text 400/401 bodies), keeps ``X-Ratelimit-*`` windows per bucket, and has
fault switches. Run it alone with ``python -m tests.fakes.tradier --port 8765``.
"""

from __future__ import annotations

import argparse
import math
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from app.brokers.base import Environment
from app.brokers.tradier.connector import TradierBroker
from app.brokers.tradier.http import TradierLimits
from tests.fakes.control import FakeOrderView, OrderCall
from tests.fakes.http_server import (
    DropConnection,
    FakeHTTPServer,
    Request,
    Response,
    RestFakeControls,
    Router,
    serve_until_stopped,
)
from tests.fakes.tradier_book import (
    DURATIONS,
    EQUITY_SIDES,
    FINAL_STATUSES,
    NO_BUYING_POWER,
    OCC,
    OPTION_SIDES,
    ORDER_TYPES,
    TAG,
    FakeAccount,
    FakeBook,
    FakeOrder,
    FakePosition,
    one_or_many,
)

SANDBOX_TOKEN = "fake-sandbox-token-0001"
#: A token of the other environment: the gateway knows it but not for this API product.
LIVE_TOKEN = "fake-live-token-0001"
ACCOUNT = "VA10000001"
ORDER_FAULTS = ("reject", "reject_async", "drop_response", "server_error")


def _text(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body, headers=dict(headers or {}), content_type="text/plain")


def _errors(messages: list[str], status: int = 200) -> Response:
    return Response(status, {"errors": {"error": one_or_many(messages)}})


def to_xml(value: Any, tag: str) -> str:
    """Tradier's default representation, enough to prove a client that forgets ``Accept`` gets XML."""
    if isinstance(value, dict):
        inner = "".join(to_xml(item, key) for key, item in value.items())
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, list):
        return "".join(to_xml(item, tag) for item in value)
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return f"<{tag}>{escape(text)}</{tag}>"


class TradierFake(RestFakeControls):
    """The fake broker: ``dispatch(request) -> Response`` served by its own ``FakeHTTPServer``."""

    name = "tradier"

    def __init__(self, *, window_seconds: float = 60.0, port: int = 0) -> None:
        self.book = FakeBook()
        self.tokens: dict[str, list[str]] = {SANDBOX_TOKEN: [ACCOUNT]}
        self.book.accounts[ACCOUNT] = FakeAccount(ACCOUNT)
        self.limits = TradierLimits(standard=60, market_data=60, trading=60)
        self.window_seconds = window_seconds
        self.accepted_orders = 0
        self.responses: list[tuple[str, str, int]] = []
        #: ``/markets/history`` day rows by symbol and ``/markets/timesales`` rows by (symbol, interval), oldest first.
        self.history_rows: dict[str, list[dict[str, Any]]] = {}
        self.timesales_rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # Fault switches.
        self.next_order_fault: str | None = None
        self.fail_auth = False
        self.profile_unavailable = False
        self.read_errors = 0
        self.throttle_count = 0
        self.throttle_retry_after = "1"
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._token = ""
        self._lock = threading.Lock()
        self.router = Router()
        prefix = "/v1"
        self.router.add("GET", f"{prefix}/user/profile", self._profile)
        self.router.add("GET", f"{prefix}/accounts/{{account}}/balances", self._balances)
        self.router.add("GET", f"{prefix}/accounts/{{account}}/positions", self._positions)
        self.router.add("GET", f"{prefix}/accounts/{{account}}/orders", self._list_orders)
        self.router.add("POST", f"{prefix}/accounts/{{account}}/orders", self._place)
        self.router.add("GET", f"{prefix}/accounts/{{account}}/orders/{{order_id}}", self._get_order)
        self.router.add("DELETE", f"{prefix}/accounts/{{account}}/orders/{{order_id}}", self._cancel)
        self.router.add("PUT", f"{prefix}/accounts/{{account}}/orders/{{order_id}}", self._modify)
        self.router.add("GET", f"{prefix}/markets/quotes", self._quotes)
        self.router.add("POST", f"{prefix}/markets/quotes", self._quotes)
        self.router.add("GET", f"{prefix}/markets/history", self._history)
        self.router.add("GET", f"{prefix}/markets/timesales", self._timesales)
        self.server = FakeHTTPServer(self.dispatch, port=port, order_action=self.order_action)

    # ------------------------------------------------------------------ plumbing

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            try:
                response = self._dispatch(request)
            except DropConnection:
                self.responses.append((request.method, request.path, 0))
                raise
            self.responses.append((request.method, request.path, response.status))
            return response

    def _dispatch(self, request: Request) -> Response:
        auth = request.header("authorization")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if token == LIVE_TOKEN:
            return _text(401, "Invalid API call as no apiproduct match found")
        if self.fail_auth or token not in self.tokens:
            return _text(401, "Invalid Access Token")
        bucket = self._bucket(request)
        if self.throttle_count > 0:
            self.throttle_count -= 1
            return _text(429, "Too Many Requests", {"Retry-After": self.throttle_retry_after})
        rate_headers, over = self._count(token, bucket)
        if over:
            wait = max(0.0, int(rate_headers["X-Ratelimit-Expiry"]) / 1000 - time.time())
            return _text(429, "Too Many Requests", {**rate_headers, "Retry-After": str(math.ceil(wait))})
        if self.read_errors > 0 and request.method == "GET":
            self.read_errors -= 1
            return _text(503, "Service Unavailable")
        # Requests are served one at a time under the lock, so the handlers can read the caller's token here.
        self._token = token
        response = self.router.dispatch(request)
        response.headers.update(rate_headers)
        if isinstance(response.body, dict) and "application/json" not in request.header("accept"):
            root, content = next(iter(response.body.items()))
            response.body = '<?xml version="1.0" encoding="UTF-8"?>' + to_xml(content, root)
            response.content_type = "application/xml"
        return response

    def _bucket(self, request: Request) -> str:
        if request.path.startswith("/v1/markets"):
            return "market_data"
        if "/orders" in request.path and request.method in ("POST", "PUT", "DELETE"):
            return "trading"
        return "standard"

    def _count(self, token: str, bucket: str) -> tuple[dict[str, str], bool]:
        """Tradier's windows start with the first request and reset a window later."""
        now = time.time()
        start, used = self._windows.get((token, bucket), (now, 0))
        if now - start >= self.window_seconds:
            start, used = now, 0
        used += 1
        self._windows[(token, bucket)] = (start, used)
        allowed = getattr(self.limits, bucket)
        headers = {
            "X-Ratelimit-Allowed": str(allowed),
            "X-Ratelimit-Used": str(used),
            "X-Ratelimit-Available": str(max(0, allowed - used)),
            "X-Ratelimit-Expiry": str(int((start + self.window_seconds) * 1000)),
        }
        return headers, used > allowed

    def _account(self, request: Request, number: str) -> FakeAccount | Response:
        if number not in self.tokens[self._token]:
            return _text(401, f"Unauthorized Account: {number}")
        return self.book.accounts[number]

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        """Set a quote from the test thread; resting orders on that symbol are worked against it."""
        with self._lock:
            self.book.set_quote(symbol, bid, ask, last)

    # ------------------------------------------------------------------ the test API (tests/fakes/__init__.py)

    @property
    def address(self) -> str:
        """The API address to enter in the connection form (the root ending in /v1)."""
        return f"{self.server.url}/v1"

    def credentials(self) -> dict[str, str]:
        return {"access_token": SANDBOX_TOKEN, "account_number": ACCOUNT}

    def _find_any(self, order_id: str) -> FakeOrder:
        for order in self.book.orders:
            if order.tag == order_id or str(order.id) == order_id:
                return order
        raise KeyError(f"the fake Tradier has no order {order_id!r}")

    def fill(self, order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> None:
        """Fill part (``qty``) or the rest of a working order, at ``price`` or its limit or the touch."""
        with self._lock:
            order = self._find_any(order_id)
            if order.status in FINAL_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}; only working orders fill")
            quote = self.book.quotes.get(order.instrument)
            touch = (quote.ask if order.buys else quote.bid) if quote else None
            fill_price = price or order.price or touch
            if fill_price is None:
                raise ValueError(f"no price to fill {order_id} at: pass one or set a quote")
            self.book.fill(order, qty if qty is not None else order.quantity - order.exec_quantity, fill_price)

    def cancel_external(self, order_id: str) -> None:
        """Cancel a working order at the broker, as from Tradier's own web app."""
        with self._lock:
            order = self._find_any(order_id)
            if order.status not in FINAL_STATUSES:
                order.status = "canceled"
                order.updated = datetime.now(UTC)

    def add_external_order(self, symbol: str, side: str, qty: Decimal, limit_price: Decimal) -> str:
        """A resting limit order placed outside the app: no tag. Returns Tradier's order id."""
        option = OCC.match(symbol.upper())
        form = {
            "class": "option" if option else "equity",
            "symbol": option.group("root") if option else symbol.upper(),
            "option_symbol": symbol.upper() if option else "",
            "side": (f"{side}_to_open" if option else side),
            "quantity": str(qty),
            "type": "limit",
            "duration": "day",
            "price": str(limit_price),
        }
        with self._lock:
            order = self.book.new_order(ACCOUNT, form)
            self.book.work(order)
            return str(order.id)

    def set_position(self, symbol: str, qty: Decimal, avg_price: Decimal) -> None:
        """Hold exactly ``qty`` (negative: short) at ``avg_price`` per share/contract; 0 closes it."""
        key = symbol.upper()
        multiplier = Decimal(100) if OCC.match(key) else Decimal(1)
        with self._lock:
            account = self.book.accounts[ACCOUNT]
            account.positions.pop(key, None)
            if qty:
                self.book._next_position_id += 1
                account.positions[key] = FakePosition(
                    key, qty, qty * avg_price * multiplier, datetime.now(UTC), self.book._next_position_id
                )

    def set_cash(self, amount: Decimal) -> None:
        with self._lock:
            self.book.accounts[ACCOUNT].cash = amount

    def order_count(self) -> int:
        """Orders placed through the API since start, whether or not their answer arrived."""
        return self.accepted_orders

    def order_views(self) -> list[FakeOrderView]:
        with self._lock:
            return [
                FakeOrderView(o.tag, str(o.id), o.instrument, "buy" if o.buys else "sell", o.quantity, o.exec_quantity,
                              o.price, o.status, o.status not in FINAL_STATUSES)
                for o in self.book.orders
            ]

    def order_call(self, request: Request) -> OrderCall | None:
        parts = request.path.split("/")
        # /v1/accounts/{account}/orders[/{id}]
        if len(parts) < 5 or parts[1:3] != ["v1", "accounts"] or parts[4] != "orders":
            return None
        form = request.form() if "x-www-form-urlencoded" in request.header("content-type") else {}
        changes = request.method in ("POST", "PUT", "DELETE") and form.get("preview") != "true"
        coid = form.get("tag", "")
        if not coid and len(parts) > 5:
            with self._lock:
                found = self.book.find(parts[3], parts[5])
            coid = found.tag if found is not None else ""
        return OrderCall(request.method, request.path, changes, coid)

    # ------------------------------------------------------------------ account endpoints

    def _profile(self, request: Request) -> Response:
        if self.profile_unavailable:
            return _text(404, "Not Found")
        accounts = [self.book.accounts[n].profile_entry() for n in self.tokens[self._token]]
        return Response(200, {"profile": {"account": one_or_many(accounts), "id": "id-fake", "name": "Fake Trader"}})

    def _balances(self, request: Request, account: str) -> Response:
        found = self._account(request, account)
        return found if isinstance(found, Response) else Response(200, self.book.balances(found))

    def _positions(self, request: Request, account: str) -> Response:
        found = self._account(request, account)
        return found if isinstance(found, Response) else Response(200, self.book.positions(found))

    def _list_orders(self, request: Request, account: str) -> Response:
        found = self._account(request, account)
        if isinstance(found, Response):
            return found
        orders = self.book.session_orders(account, request.arg("filter", "intraday") or "intraday")
        if request.arg("page") is not None or request.arg("limit") is not None:
            page = max(1, int(request.arg("page") or 1))
            limit = max(1, int(request.arg("limit") or 25))
            orders = orders[(page - 1) * limit : page * limit]
        include_tags = request.arg("includeTags") == "true"
        entries = [order.to_wire(include_tags) for order in orders]
        return Response(200, {"orders": {"order": one_or_many(entries)} if entries else "null"})

    def _get_order(self, request: Request, account: str, order_id: str) -> Response:
        found = self._account(request, account)
        if isinstance(found, Response):
            return found
        order = self.book.find(account, order_id)
        if order is None:
            # Measured on the sandbox: an id that is not this account's answers like a foreign account.
            return _text(401, f"Unauthorized Account: {account}")
        return Response(200, {"order": order.to_wire(request.arg("includeTags") == "true")})

    # ------------------------------------------------------------------ trading endpoints

    def _place(self, request: Request, account: str) -> Response:
        found = self._account(request, account)
        if isinstance(found, Response):
            return found
        form = request.form() if "x-www-form-urlencoded" in request.header("content-type") else {}
        preview = form.get("preview") == "true"
        fault = None if preview else self.next_order_fault
        if fault:
            self.next_order_fault = None
        if fault == "server_error":
            return _text(500, "Internal Server Error")
        problems = self._validate(form)
        if problems:
            return _errors(problems, status=400)
        if fault == "reject" or (
            form["side"].startswith("buy") and self.book.order_cost(account, form) > self.book.buying_power(found)
        ):
            return _errors([NO_BUYING_POWER])
        if preview:
            return self._preview(form, account)
        order = self.book.new_order(account, form)
        self.accepted_orders += 1
        if fault == "reject_async":
            order.status = "rejected"
            order.reason_description = NO_BUYING_POWER
        else:
            self.book.work(order)
        if fault == "drop_response":
            raise DropConnection
        return Response(200, {"order": {"id": order.id, "status": "ok", "partner_id": str(uuid.uuid4())}})

    def _validate(self, form: dict[str, str]) -> list[str]:
        problems: list[str] = []
        klass = form.get("class", "")
        if klass not in ("equity", "option"):
            return ["class is required and must be equity or option"]
        for name in ("symbol", "side", "quantity", "type", "duration"):
            if not form.get(name):
                problems.append(f"Invalid parameter, {name}: is required.")
        if problems:
            return problems
        if form["side"] not in (OPTION_SIDES if klass == "option" else EQUITY_SIDES):
            problems.append(f"side is invalid for class {klass}")
        if form["type"] not in ORDER_TYPES:
            problems.append(f"type is invalid for class {klass}")
        if form["duration"] not in DURATIONS:
            problems.append("Invalid parameter, duration.")
        if not form["quantity"].isdigit() or int(form["quantity"]) <= 0:
            problems.append("Invalid parameter, quantity.")
        if form["type"] in ("limit", "stop_limit") and not form.get("price"):
            problems.append("Invalid parameter, price: is required for limit orders.")
        if form["type"] in ("stop", "stop_limit") and not form.get("stop"):
            problems.append("Invalid parameter, stop: is required for stop orders.")
        if klass == "option":
            match = OCC.match(form.get("option_symbol", "").upper())
            if not match or match.group("root") != form["symbol"].upper():
                problems.append("Invalid parameter, option_symbol.")
        tag = form.get("tag", "")
        # Wording measured against the sandbox (see docs/brokers/tradier.md).
        if len(tag) > 255:
            problems.append("Invalid parameter, tag: contains more than 255 characters.")
        elif not TAG.match(tag):
            problems.append("Invalid parameter, tag: contains invalid characters.")
        return problems

    def _preview(self, form: dict[str, str], account: str) -> Response:
        order_cost = self.book.order_cost(account, form)
        commission = Decimal("0.35") * Decimal(form["quantity"]) if form["class"] == "option" else Decimal(0)
        body = {
            "status": "ok",
            "commission": float(commission),
            "cost": float(order_cost + commission),
            "fees": 0,
            "symbol": form["symbol"].upper(),
            "quantity": float(form["quantity"]),
            "side": form["side"],
            "type": form["type"],
            "duration": form["duration"],
            "result": True,
            "order_cost": float(order_cost),
            "margin_change": float(order_cost),
            "request_date": time.strftime("%Y-%m-%dT%H:%M:%S.000"),
            "extended_hours": False,
            "class": form["class"],
            "strategy": form["class"],
            "day_trades": 0,
        }
        return Response(200, {"order": body})

    def _cancel(self, request: Request, account: str, order_id: str) -> Response:
        found = self._account(request, account)
        if isinstance(found, Response):
            return found
        order = self.book.find(account, order_id)
        if order is None:
            return _text(401, f"Unauthorized Account: {account}")
        if order.status in FINAL_STATUSES:
            return _text(400, f"order already in finalized state: {order.status}")
        order.status = "canceled"
        order.updated = datetime.now(UTC)
        return Response(200, {"order": {"id": order.id, "status": "ok"}})

    def _modify(self, request: Request, account: str, order_id: str) -> Response:
        """Modify (form: type, duration, price, stop): the same order, changed in place; no quantity."""
        found = self._account(request, account)
        if isinstance(found, Response):
            return found
        order = self.book.find(account, order_id)
        if order is None:
            return _text(401, f"Unauthorized Account: {account}")
        if order.status in FINAL_STATUSES:
            return _text(400, f"order already in finalized state: {order.status}")
        form = request.form() if "x-www-form-urlencoded" in request.header("content-type") else {}
        kind = form.get("type") or order.type
        duration = form.get("duration") or order.duration
        problems = []
        if kind not in ORDER_TYPES:
            problems.append("Invalid parameter, type.")
        if duration not in DURATIONS:
            problems.append("Invalid parameter, duration.")
        price = Decimal(form["price"]) if form.get("price") else order.price
        stop = Decimal(form["stop"]) if form.get("stop") else order.stop
        if kind in ("limit", "stop_limit") and price is None:
            problems.append("Invalid parameter, price: is required for limit orders.")
        if kind in ("stop", "stop_limit") and stop is None:
            problems.append("Invalid parameter, stop: is required for stop orders.")
        if problems:
            return _errors(problems, status=400)
        order.type, order.duration = kind, duration
        order.price = price if kind in ("limit", "stop_limit") else None
        order.stop = stop if kind in ("stop", "stop_limit") else None
        order.updated = datetime.now(UTC)
        self.book.work(order)
        return Response(200, {"order": {"id": order.id, "status": "ok", "partner_id": str(uuid.uuid4())}})

    # ------------------------------------------------------------------ market data

    def _quotes(self, request: Request) -> Response:
        raw = request.arg("symbols") or request.form().get("symbols", "")
        symbols = [s.strip().upper() for s in raw.split(",") if s.strip()]
        known = [self.book.quotes[s].to_wire() for s in symbols if s in self.book.quotes]
        unknown = [s for s in symbols if s not in self.book.quotes]
        body: dict[str, Any] = {}
        if known:
            body["quote"] = one_or_many(known)
        if unknown:
            body["unmatched_symbols"] = {"symbol": one_or_many(unknown)}
        return Response(200, {"quotes": body or "null"})


    def _history(self, request: Request) -> Response:
        symbol = (request.arg("symbol") or "").upper()
        if request.arg("interval", "daily") not in ("daily", "weekly", "monthly"):
            return Response(400, {"errors": {"error": "Invalid interval"}})
        first, last = request.arg("start") or "0000-00-00", request.arg("end") or "9999-99-99"
        rows = [row for row in self.history_rows.get(symbol, []) if first <= row["date"] <= last]
        return Response(200, {"history": {"day": one_or_many(rows)} if rows else None})

    def _timesales(self, request: Request) -> Response:
        symbol = (request.arg("symbol") or "").upper()
        interval = request.arg("interval") or ""
        if interval not in ("tick", "1min", "5min", "15min"):
            return Response(400, {"errors": {"error": "Invalid interval"}})
        # Times are New York wall-clock text, "YYYY-MM-DD HH:MM"; the rows' "time" has a "T".
        first = (request.arg("start") or "").replace(" ", "T")
        last = (request.arg("end") or "~").replace(" ", "T")
        rows = [row for row in self.timesales_rows.get((symbol, interval), []) if first <= row["time"][:16] <= last]
        return Response(200, {"series": {"data": one_or_many(rows)} if rows else None})


class TradierHarness:
    """``BrokerHarness`` for the contract suite: the fake on a loopback port plus connectors aimed at it."""

    name = "tradier"

    def __init__(self) -> None:
        self.fake = TradierFake()
        self.server: FakeHTTPServer | None = None

    async def start(self) -> None:
        self.server = self.fake.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def base_url(self) -> str:
        assert self.server is not None, "harness not started"
        return self.fake.address

    def connector(self, *, valid_credentials: bool = True, **options: Any) -> TradierBroker:
        token = SANDBOX_TOKEN if valid_credentials else "not-a-real-token"
        return TradierBroker(
            {"access_token": token, "account_number": ACCOUNT}, Environment.PAPER, base_url=self.base_url, **options
        )

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        self.fake.set_quote(symbol, bid, ask, last)

    def inject_fault(self, fault: str) -> None:
        if fault not in ORDER_FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {ORDER_FAULTS}")
        self.fake.next_order_fault = fault

    def order_count(self) -> int:
        return self.fake.accepted_orders

    def slow(self, seconds: float) -> None:
        assert self.server is not None, "harness not started"
        self.server.delay_seconds = seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Tradier sandbox on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0 picks a free one)")
    args = parser.parse_args(argv)
    fake = TradierFake(port=args.port)
    for symbol, bid, ask, last in (
        ("AAPL", "189.50", "189.60", "189.55"),
        ("MSFT", "410.10", "410.30", "410.20"),
        ("SPY", "500.00", "500.02", "500.01"),
        ("AAPL250117C00150000", "40.10", "40.40", "40.25"),
    ):
        fake.set_quote(symbol, Decimal(bid), Decimal(ask), Decimal(last))
    server = fake.server.start()
    serve_until_stopped(
        server,
        "Fake Tradier sandbox listening: API address {url}/v1\n"
        f"  access token:   {SANDBOX_TOKEN}\n"
        f"  account number: {ACCOUNT}\n"
        "Press Ctrl-C to stop.",
    )


if __name__ == "__main__":
    main()
