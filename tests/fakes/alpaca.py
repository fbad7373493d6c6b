"""A stateful fake of Alpaca (Trading API v2 + Market Data) on one loopback server, its harness and a CLI.

What it reproduces, and from where (see docs/brokers/alpaca.md and shared broker-apis.md §1):

- auth by the two headers ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY``; the Trading API answers a
  bad pair with 401 ``{"code":40110000,"message":"request is not authorized"}``, the data host with
  nginx's HTML 403 page (alpaca-trade-api-go#276, alpaca-trade-api-csharp#244);
- error bodies ``{"code", "message"}``; Trading API numbers as strings, Data API numbers as JSON numbers;
  timestamps with nanoseconds;
- the order life cycle: POST answers ``accepted`` (even for an order that fills at once), the order
  then goes ``new`` and fills by the harness's rules; PATCH answers with a new ``accepted`` order
  that ``replaces`` the old one (now ``replaced``, ``replaced_by`` the new id), keeping what the body
  does not change, 422 "order is not replaceable" once it is finished; DELETE answers 204 with no body; 422 "order is not
  cancelable" for finished orders; 404 ``order not found``; duplicate ``client_order_id`` -> 422
  "client_order_id must be unique"; 403 40310000 for insufficient buying power or quantity;
- fault switches for the next matching request: reject, unauthorized, rate_limit (429 + Retry-After),
  server_error (500, nothing stored), gateway_timeout (504 after the order was stored), drop_response
  (order stored, connection closed), slow (answer after a delay), reject_later (accepted, then rejected);
- ``equity_history``: the account's value served at ``/v2/account/portfolio/history``.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.brokers.alpaca.connector import AlpacaBroker
from app.brokers.base import Environment
from tests.fakes.alpaca_book import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    AlpacaBook,
    BookOrder,
    BookQuote,
    asset_class_of,
    wire_number,
    wire_time,
)
from tests.fakes.alpaca_controls import AlpacaControls
from tests.fakes.equity_history import EquityHistory, alpaca_portfolio_history, alpaca_query_problem
from tests.fakes.http_server import (
    DropConnection,
    FakeHTTPServer,
    Request,
    Response,
    Router,
    serve_until_stopped,
)

KEY_ID = "PKFAKE7T3ST0K3Y1D0001"
SECRET_KEY = "fake-alpaca-secret-0001-do-not-use"
PAPER_ACCOUNT = "PA3FAKE0TB01"
LIVE_ACCOUNT = "6FAKE0TB01"

NOT_AUTHORIZED = {"code": 40110000, "message": "request is not authorized"}
NGINX_403 = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
NGINX_504 = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)

#: Faults answered before any handler runs; the rest happen inside the order handler.
_GATEWAY_FAULTS = frozenset({"unauthorized", "rate_limit", "server_error", "slow"})
_ORDER_FAULTS = frozenset({"reject", "gateway_timeout", "drop_response", "reject_later", "slow"})
FAULT_KINDS = _GATEWAY_FAULTS | _ORDER_FAULTS


@dataclass
class Fault:
    kind: str
    method: str
    path: str
    times: int
    retry_after: str
    delay: float


def _error(status: int, code: int, message: str, **extra: Any) -> Response:
    return Response(status, {**extra, "code": code, "message": message})


def _decimal(value: Any) -> Decimal | None:
    # Alpaca accepts numbers and numeric strings alike; alpaca-py sends JSON numbers.
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class FakeAlpaca(AlpacaControls):
    """The fake broker: a FakeHTTPServer routing Trading and Data API paths to one account's books."""

    name = "alpaca"

    def __init__(
        self,
        *,
        key_id: str = KEY_ID,
        secret_key: str = SECRET_KEY,
        account_number: str = PAPER_ACCOUNT,
        cash: Decimal = Decimal("100000"),
        multiplier: str = "2",
    ) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.account_number = account_number
        self.account_id = str(uuid.uuid4())
        self.book = AlpacaBook(cash=cash, multiplier=multiplier)
        self.async_cancel = False
        #: Bars served at /v2/stocks/{symbol}/bars, by (symbol, timeframe), as wire rows oldest first.
        self.bar_rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        #: The account's value over time served at /v2/account/portfolio/history (``tests/fakes/equity_history.py``).
        self.equity_history = EquityHistory()
        self._faults: list[Fault] = []
        self._accepted = 0
        self._router = Router()
        self._add_routes()
        self.server = FakeHTTPServer(self._dispatch, order_action=self.order_action)

    # -- control --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> FakeAlpaca:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        with self.book.lock:
            self.book.quotes[symbol] = BookQuote(bid, ask, last)
            self.book.on_quote(symbol)

    def inject_fault(
        self,
        kind: str,
        *,
        method: str = "POST",
        path: str = "/v2/orders",
        times: int = 1,
        retry_after: str = "1",
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` requests matching method and path prefix fail the named way."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self.book.lock:
            self._faults.append(Fault(kind, method.upper(), path, times, retry_after, delay))

    def order_count(self) -> int:
        """Orders accepted (stored) since start, whether or not their answer reached the client."""
        return self._accepted

    def requests_to(self, method: str, path: str) -> list[Request]:
        return [r for r in self.server.requests if r.method == method.upper() and r.path == path]

    # -- dispatch -------------------------------------------------------------------------------

    def _take_fault(self, request: Request, kinds: frozenset[str]) -> Fault | None:
        with self.book.lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.method == request.method and request.path.startswith(fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _dispatch(self, request: Request) -> Response:
        is_data = request.path.startswith(("/v2/stocks", "/v1beta1/"))
        fault = self._take_fault(request, _GATEWAY_FAULTS - {"slow"})
        if fault is not None:
            return self._gateway_fault(fault)
        if (request.method, request.path) != ("POST", "/v2/orders"):
            slow = self._take_fault(request, frozenset({"slow"}))
            if slow is not None:
                time.sleep(slow.delay)
        if not self._authorized(request):
            if is_data:
                return Response(403, NGINX_403, content_type="text/html")
            return Response(401, NOT_AUTHORIZED)
        return self._router.dispatch(request)

    def _authorized(self, request: Request) -> bool:
        return (
            request.header("apca-api-key-id") == self.key_id
            and request.header("apca-api-secret-key") == self.secret_key
        )

    def _gateway_fault(self, fault: Fault) -> Response:
        if fault.kind == "unauthorized":
            return Response(401, NOT_AUTHORIZED)
        if fault.kind == "rate_limit":
            body = {"code": 42910000, "message": "rate limit exceeded"}
            return Response(429, body, {"Retry-After": fault.retry_after})
        return _error(500, 50010000, "internal server error occurred")

    def _add_routes(self) -> None:
        add = self._router.add
        add("GET", "/v2/account", self._account)
        add("GET", "/v2/account/portfolio/history", self._portfolio_history)
        add("POST", "/v2/orders", self._submit)
        add("GET", "/v2/orders", self._list)
        add("DELETE", "/v2/orders", self._cancel_all)
        add("GET", "/v2/orders:by_client_order_id", self._by_client_id)
        add("GET", "/v2/orders/{order_id}", self._get)
        add("DELETE", "/v2/orders/{order_id}", self._cancel)
        add("PATCH", "/v2/orders/{order_id}", self._replace)
        add("GET", "/v2/positions", self._positions)
        add("GET", "/v2/positions/{symbol}", self._position)
        add("GET", "/v2/stocks/quotes/latest", self._stock_quotes)
        add("GET", "/v2/stocks/trades/latest", self._stock_trades)
        add("GET", "/v1beta1/options/quotes/latest", self._option_quotes)
        add("GET", "/v1beta1/options/snapshots", self._option_snapshots)
        add("GET", "/v2/stocks/{symbol}/bars", self._bars)

    # -- trading --------------------------------------------------------------------------------

    def _account(self, request: Request) -> Response:
        with self.book.lock:
            return Response(200, self.book.account_wire(self.account_number, self.account_id))

    def _portfolio_history(self, request: Request) -> Response:
        problem = alpaca_query_problem(request.query)
        if problem is not None:
            return _error(422, 42210000, problem)
        points = self.equity_history.points(request.query)
        return Response(200, alpaca_portfolio_history(points, request.arg("timeframe") or "1D"))

    def _submit(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _error(400, 40010000, "request body format is invalid")
        if not isinstance(body, dict):
            return _error(400, 40010000, "request body format is invalid")
        invalid = self._validate(body)
        if invalid is not None:
            return invalid
        fault = self._take_fault(request, _ORDER_FAULTS)
        with self.book.lock:
            if fault is not None and fault.kind == "reject":
                return self._insufficient_buying_power(Decimal("48640000"))
            order = self._new_order(body)
            if isinstance(order, Response):
                return order
            self.book.orders.append(order)
            self._accepted += 1
            answer = order.to_wire()
            if fault is not None and fault.kind == "reject_later":
                self.book.reject(order)
            else:
                self.book.route(order)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "drop_response":
            raise DropConnection()
        if fault is not None and fault.kind == "gateway_timeout":
            return Response(504, NGINX_504, content_type="text/html")
        return Response(200, answer)

    def _validate(self, body: dict[str, Any]) -> Response | None:
        if not body.get("symbol"):
            return _error(422, 40010001, "symbol is required")
        qty = _decimal(body.get("qty"))
        if qty is None or qty <= 0:
            return _error(422, 40010001, "qty must be > 0")
        if body.get("side") not in ("buy", "sell"):
            return _error(422, 40010001, "invalid side")
        kind = body.get("type")
        if kind not in ("market", "limit", "stop", "stop_limit"):
            return _error(422, 40010001, "invalid order type")
        if body.get("time_in_force") not in ("day", "gtc", "opg", "cls", "ioc", "fok"):
            return _error(422, 40010001, "invalid time_in_force")
        if kind in ("limit", "stop_limit") and _decimal(body.get("limit_price")) is None:
            return _error(422, 40010001, "limit_price is required for limit orders")
        if kind in ("stop", "stop_limit") and _decimal(body.get("stop_price")) is None:
            return _error(422, 40010001, "stop_price is required for stop orders")
        if asset_class_of(str(body["symbol"])) == "us_option" and qty != qty.to_integral_value():
            return _error(422, 40010001, "qty must be integer for options")
        return None

    def _insufficient_buying_power(self, cost: Decimal) -> Response:
        return _error(
            403,
            40310000,
            "insufficient buying power",
            buying_power=wire_number(self.book.buying_power()),
            cost_basis=wire_number(cost),
        )

    def _new_order(self, body: dict[str, Any]) -> BookOrder | Response:
        client_id = str(body.get("client_order_id") or uuid.uuid4())
        if self.book.order_by_client_id(client_id) is not None:
            return _error(422, 40010001, "client_order_id must be unique")
        symbol = str(body["symbol"]).upper()
        order = BookOrder(
            id=str(uuid.uuid4()),
            client_order_id=client_id,
            symbol=symbol,
            side=body["side"],
            type=body["type"],
            time_in_force=body["time_in_force"],
            qty=_decimal(body["qty"]) or Decimal(0),
            limit_price=_decimal(body.get("limit_price")),
            stop_price=_decimal(body.get("stop_price")),
            extended_hours=bool(body.get("extended_hours", False)),
            position_intent=body.get("position_intent"),
        )
        intent = order.position_intent or ""
        if intent.endswith("_to_close"):
            position = self.book.positions.get(symbol)
            held = position.qty if position is not None else Decimal(0)
            available = held if order.side == "sell" else -held
            if available < order.qty:
                shown = max(available, Decimal(0))
                message = f"insufficient qty available for order (requested: {order.qty}, available: {shown})"
                return _error(403, 40310000, message)
        if order.side == "buy" and not intent.endswith("_to_close"):
            quote = self.book.quotes.get(symbol)
            price = order.limit_price or order.stop_price or (quote.ask if quote else None)
            if price is not None:
                cost = order.qty * price * order.multiplier
                if cost > self.book.buying_power():
                    return self._insufficient_buying_power(cost)
        return order

    def _list(self, request: Request) -> Response:
        status = request.arg("status", "open")
        limit = int(request.arg("limit", "50") or 50)
        if limit > 500:
            return _error(422, 40010001, "limit must be <= 500")
        after = request.arg("after")
        until = request.arg("until")
        symbols = set(filter(None, (request.arg("symbols") or "").split(",")))
        wanted = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES, "all": OPEN_STATUSES | CLOSED_STATUSES}.get(status)
        if wanted is None:
            return _error(422, 40010001, f"invalid status {status}")
        after_ns = _parse_ns(after) if after else None
        until_ns = _parse_ns(until) if until else None
        with self.book.lock:
            self.book.settle_pending_cancels()
            chosen = [
                o
                for o in self.book.orders
                if o.status in wanted
                and (after_ns is None or o.created_ns > after_ns)
                and (until_ns is None or o.created_ns <= until_ns)
                and (not symbols or o.symbol in symbols)
            ]
            chosen.sort(key=lambda o: o.created_ns, reverse=request.arg("direction", "desc") != "asc")
            return Response(200, [o.to_wire() for o in chosen[:limit]])

    def _cancel_all(self, request: Request) -> Response:
        with self.book.lock:
            result = []
            for order in self.book.orders:
                if order.is_open:
                    self.book.cancel(order, pending=self.async_cancel)
                    result.append({"id": order.id, "status": 200})
            return Response(207, result)

    def _by_client_id(self, request: Request) -> Response:
        client_id = request.arg("client_order_id")
        if not client_id:
            return _error(422, 40010001, "client_order_id is missing")
        with self.book.lock:
            self.book.settle_pending_cancels()
            order = self.book.order_by_client_id(client_id)
            if order is None:
                return _error(404, 40410000, "order not found")
            return Response(200, order.to_wire())

    def _get(self, request: Request, order_id: str) -> Response:
        if not _is_uuid(order_id):
            return _error(422, 40010001, "order_id is missing")
        with self.book.lock:
            # Read by id straight after a DELETE, the order is still pending_cancel; later reads settle it.
            order = self.book.order_by_id(order_id)
            if order is None:
                return _error(404, 40410000, "order not found")
            return Response(200, order.to_wire())

    def _cancel(self, request: Request, order_id: str) -> Response:
        if not _is_uuid(order_id):
            return _error(422, 40010001, "order_id is missing")
        with self.book.lock:
            order = self.book.order_by_id(order_id)
            if order is None:
                return _error(404, 40410000, "order not found")
            if not order.is_open or order.status == "pending_cancel":
                return _error(422, 42210000, "order is not cancelable")
            self.book.cancel(order, pending=self.async_cancel)
        return Response(204)

    def _replace(self, request: Request, order_id: str) -> Response:
        """PATCH: a new order takes the old one's place (``replaces``/``replaced_by``); fields not sent are kept."""
        if not _is_uuid(order_id):
            return _error(422, 40010001, "order_id is missing")
        try:
            body = request.json()
        except ValueError:
            return _error(400, 40010000, "request body format is invalid")
        if not isinstance(body, dict):
            return _error(400, 40010000, "request body format is invalid")
        with self.book.lock:
            old = self.book.order_by_id(order_id)
            if old is None:
                return _error(404, 40410000, "order not found")
            if not old.is_open or old.status in ("pending_cancel", "pending_replace"):
                return _error(422, 42210000, "order is not replaceable")
            qty = _decimal(body.get("qty")) if "qty" in body else old.qty - old.filled_qty
            if qty is None or qty <= 0:
                return _error(422, 40010001, "qty must be > 0")
            limit = _decimal(body.get("limit_price")) if body.get("limit_price") is not None else old.limit_price
            stop = _decimal(body.get("stop_price")) if body.get("stop_price") is not None else old.stop_price
            if old.type == "market" and (limit is not None and body.get("limit_price") is not None):
                return _error(422, 40010001, "limit_price is not allowed for market orders")
            client_id = str(body.get("client_order_id") or uuid.uuid4())
            if self.book.order_by_client_id(client_id) is not None:
                return _error(422, 40010001, "client_order_id must be unique")
            new = BookOrder(
                id=str(uuid.uuid4()), client_order_id=client_id, symbol=old.symbol, side=old.side, type=old.type,
                time_in_force=str(body.get("time_in_force") or old.time_in_force), qty=qty, limit_price=limit,
                stop_price=stop, extended_hours=old.extended_hours, position_intent=old.position_intent,
                replaces=old.id,
            )
            old.status, old.replaced_by, old.replaced_ns = "replaced", new.id, time.time_ns()
            old.touch()
            self.book.orders.append(new)
            answer = new.to_wire()
            self.book.route(new)
        return Response(200, answer)

    def _positions(self, request: Request) -> Response:
        with self.book.lock:
            return Response(200, [self.book.position_wire(p) for p in self.book.positions.values()])

    def _position(self, request: Request, symbol: str) -> Response:
        with self.book.lock:
            position = self.book.positions.get(symbol.upper())
            if position is None:
                return _error(404, 40410000, "position does not exist")
            return Response(200, self.book.position_wire(position))

    # -- market data ----------------------------------------------------------------------------

    def _symbols(self, request: Request) -> list[str] | Response:
        symbols = [s for s in (request.arg("symbols") or "").split(",") if s]
        if not symbols:
            return _error(400, 40010001, "missing symbols")
        return symbols

    def _quote_wire(self, quote: BookQuote) -> dict[str, Any]:
        return {
            "t": wire_time(quote.ns), "ax": "V", "ap": float(quote.ask), "as": quote.ask_size,
            "bx": "V", "bp": float(quote.bid), "bs": quote.bid_size, "c": ["R"], "z": "C",
        }

    def _trade_wire(self, quote: BookQuote) -> dict[str, Any]:
        return {
            "t": wire_time(quote.ns), "x": "V", "p": float(quote.last), "s": 100, "c": ["@"], "i": 52983525029461,
            "z": "C",
        }

    def _latest(
        self, request: Request, key: str, build: Callable[[BookQuote], dict[str, Any]], option: bool
    ) -> Response:
        symbols = self._symbols(request)
        if isinstance(symbols, Response):
            return symbols
        with self.book.lock:
            found = {
                s: build(self.book.quotes[s])
                for s in symbols
                if s in self.book.quotes and (asset_class_of(s) == "us_option") == option
            }
        return Response(200, {key: found})

    def _stock_quotes(self, request: Request) -> Response:
        return self._latest(request, "quotes", self._quote_wire, option=False)

    def _stock_trades(self, request: Request) -> Response:
        return self._latest(request, "trades", self._trade_wire, option=False)

    def _option_quotes(self, request: Request) -> Response:
        return self._latest(request, "quotes", self._quote_wire, option=True)

    def _bars(self, request: Request, symbol: str) -> Response:
        """Alpaca's single-symbol bars: filtered by start/end, paged by ``limit`` and ``page_token``."""
        timeframe = request.arg("timeframe", "") or ""
        if timeframe not in ("1Min", "5Min", "1Hour", "1Day"):
            return _error(422, 42210000, "invalid timeframe")
        try:
            start_text, end_text = request.arg("start"), request.arg("end")
            start = _wire_time(start_text) if start_text else None
            end = _wire_time(end_text) if end_text else None
            limit = min(int(request.arg("limit", "1000") or "1000"), 10_000)
            offset = int(request.arg("page_token", "0") or "0")
        except ValueError:
            return _error(422, 42210000, "invalid query parameter")
        rows = [
            row for row in self.bar_rows.get((symbol, timeframe), [])
            if (start is None or _wire_time(row["t"]) >= start) and (end is None or _wire_time(row["t"]) <= end)
        ]
        page = rows[offset : offset + limit]
        token = str(offset + limit) if offset + limit < len(rows) else None
        return Response(200, {"bars": page or None, "symbol": symbol, "next_page_token": token})

    def _option_snapshots(self, request: Request) -> Response:
        def snapshot(quote: BookQuote) -> dict[str, Any]:
            return {
                "latestQuote": {**self._quote_wire(quote), "c": "A", "ax": "C", "bx": "C"},
                "latestTrade": {**self._trade_wire(quote), "c": "I", "x": "C"},
                "impliedVolatility": 0.2874,
                "greeks": {"delta": 0.5, "gamma": 0.02, "rho": 0.05, "theta": -0.04, "vega": 0.11},
            }

        response = self._latest(request, "snapshots", snapshot, option=True)
        if isinstance(response.body, dict) and "snapshots" in response.body:
            response.body["next_page_token"] = None
        return response


def _wire_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _parse_ns(text: str) -> int:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(parsed.timestamp() * 1_000_000_000)


_HARNESS_FAULTS = {"reject": "reject", "drop_response": "drop_response", "server_error": "server_error"}


class AlpacaHarness:
    """The contract suite's handle on the fake (tests/contract/harness.py)."""

    name = "alpaca"

    def __init__(self) -> None:
        self.fake = FakeAlpaca()

    async def start(self) -> None:
        self.fake.start()

    async def stop(self) -> None:
        self.fake.stop()

    def connector(self, *, valid_credentials: bool = True) -> AlpacaBroker:
        credentials = {
            "api_key_id": self.fake.key_id,
            "api_secret_key": self.fake.secret_key if valid_credentials else "not-the-secret",
        }
        return AlpacaBroker(
            credentials, Environment.PAPER, base_url=self.fake.url, timeout=(2.0, 5.0), retry_backoff=0.05
        )

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        self.fake.set_quote(symbol, bid, ask, last)

    def inject_fault(self, fault: str) -> None:
        self.fake.inject_fault(_HARNESS_FAULTS[fault])

    def order_count(self) -> int:
        return self.fake.order_count()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Alpaca (trading + market data) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--live-account", action="store_true", help="serve a live-looking account number")
    args = parser.parse_args(argv)
    fake = FakeAlpaca(account_number=LIVE_ACCOUNT if args.live_account else PAPER_ACCOUNT)
    for symbol, bid, ask, last in (
        ("AAPL", "189.50", "189.60", "189.55"),
        ("MSFT", "410.10", "410.30", "410.20"),
        ("SPY", "520.05", "520.07", "520.06"),
        ("AAPL250117C00150000", "40.10", "40.60", "40.35"),
    ):
        fake.book.quotes[symbol] = BookQuote(Decimal(bid), Decimal(ask), Decimal(last))
    fake.server = FakeHTTPServer(fake._dispatch, port=args.port, order_action=fake.order_action).start()
    environment = "live" if args.live_account else "paper"
    serve_until_stopped(
        fake.server,
        f"Fake Alpaca serving at {{url}}  (use it as the API address, environment: {environment})\n"
        f"  API key ID:     {fake.key_id}\n"
        f"  API secret key: {fake.secret_key}\n"
        "Ctrl-C stops it.",
    )


if __name__ == "__main__":
    main()
