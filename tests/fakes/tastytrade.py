"""A fake Tastytrade Open API over real HTTP on 127.0.0.1, plus the contract-suite harness.

Reproduces what the connector depends on (sources in docs/brokers/tastytrade.md): the
``product/version`` User-Agent rule (nginx's HTML 401 without it), the OAuth2 refresh-token grant
with expiring 15-minute access tokens, Bearer checks on every call, the ``{"data", "context"}``
envelope with ``data.items`` lists and a ``pagination`` block, dasherized keys both ways (unknown
keys ignored), ``{"error": ...}`` bodies with preflight inner errors, ``Accept-Version`` (refused
by the sandbox; 20261012 requires a start date on order searches) and an order life cycle
received -> live -> filled, or -> cancel requested -> cancelled; a cancel-replace (PUT, body without
legs) cancels the order and places its replacement (``replaces-order-id`` / ``replacing-order-id``).

Fault switches act on the next matching request (order placement unless told otherwise):
``reject`` (422 preflight failure), ``unauthorized`` (401), ``forbidden`` (403 ``not_permitted``,
what REST quotes answer a login without market data), ``rate_limited`` (429, Retry-After
optional), ``server_error`` (500), ``drop_response`` (processed, then the connection closes
unanswered) and ``slow`` (processed, answered late).

``equity_history`` holds the net liquidating value served at ``/accounts/{n}/net-liq/history`` in
production; the sandbox answers that path 404.

Run ``python -m tests.fakes.tastytrade --port 8765`` to serve it for the app.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.brokers.base import Broker, Environment
from app.brokers.tastytrade.connector import TastytradeBroker
from tests.fakes.http_server import (
    DropConnection,
    FakeHTTPServer,
    Request,
    Response,
    Router,
    serve_until_stopped,
)
from tests.fakes.equity_history import EquityHistory, tastytrade_net_liq_items, tastytrade_query_problem
from tests.fakes.tastytrade_book import ACTIONS, TERMINAL, FakeAccount, FakeOrder, TastytradeBook, compact
from tests.fakes.tastytrade_controls import TastytradeControls

CLIENT_SECRET = "fake-client-secret-3f9a"
REFRESH_TOKEN = "fake-refresh-token-7c21"
NGINX_401 = (
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    "<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_USER_AGENT = re.compile(r"^[^\s/]+/[^\s/]+")
_OCC = re.compile(r"^[A-Z][A-Z0-9 ]{5}\d{6}[CP]\d{8}$")
ORDER_PLACEMENT = re.compile(r"^POST /accounts/[^/]+/orders$")
VERSIONS = ("20250813", "20261012")
FAULTS = ("reject", "unauthorized", "forbidden", "rate_limited", "server_error", "drop_response", "slow")


def error(status: int, code: Any, message: str, **extra: Any) -> Response:
    return Response(status, {"error": {"code": code, "message": message, **extra}})


@dataclass
class _Fault:
    kind: str
    target: re.Pattern[str]
    remaining: int
    retry_after: str | None
    delay: float


class TastytradeFake(TastytradeControls):
    """The fake API. ``sandbox=True`` behaves like api.cert.tastyworks.com, else like production."""

    name = "tastytrade"

    def __init__(
        self,
        *,
        sandbox: bool = True,
        accounts: list[FakeAccount] | None = None,
        client_secret: str = CLIENT_SECRET,
        refresh_token: str = REFRESH_TOKEN,
    ) -> None:
        self.sandbox = sandbox
        self.book = TastytradeBook(
            client_secret=client_secret, refresh_token=refresh_token, accounts=accounts or [FakeAccount()]
        )
        #: None = ``/orders/live`` answers in one piece (documented for accounts); N = N per page.
        self.live_orders_page_size: int | None = None
        #: Net liquidating value over time (production only; ``tests/fakes/equity_history.py``).
        self.equity_history = EquityHistory()
        self._faults: list[_Fault] = []
        self.server = FakeHTTPServer(self.dispatch, order_action=self.order_action)
        router = Router()
        router.add("POST", "/oauth/token", self._token)
        router.add("GET", "/customers/me/accounts", self._accounts)
        router.add("GET", "/accounts/{account}/balances", self._balances)
        router.add("GET", "/accounts/{account}/positions", self._positions)
        router.add("GET", "/accounts/{account}/net-liq/history", self._net_liq_history)
        router.add("GET", "/accounts/{account}/orders/live", self._live_orders)
        router.add("POST", "/accounts/{account}/orders/dry-run", self._dry_run)
        router.add("GET", "/accounts/{account}/orders", self._search_orders)
        router.add("POST", "/accounts/{account}/orders", self._place)
        router.add("GET", "/accounts/{account}/orders/{order_id}", self._get_order)
        router.add("DELETE", "/accounts/{account}/orders/{order_id}", self._cancel)
        router.add("PUT", "/accounts/{account}/orders/{order_id}", self._replace)
        router.add("GET", "/market-data/by-type", self._market_data)
        self._router = router

    # --- life cycle and switches ----------------------------------------------------------

    def start(self) -> TastytradeFake:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def inject_fault(
        self,
        kind: str,
        *,
        target: str = ORDER_PLACEMENT.pattern,
        times: int = 1,
        retry_after: str | None = "1",
        delay: float = 1.0,
    ) -> None:
        """Make the next ``times`` requests matching ``target`` (regex on "METHOD /path") fail."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        with self.book.lock:
            self._faults.append(_Fault(kind, re.compile(target), times, retry_after, delay))

    def requests_to(self, pattern: str) -> list[Request]:
        rx = re.compile(pattern)
        return [r for r in self.server.requests if rx.search(f"{r.method} {r.path}")]

    # --- dispatch -------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        if not _USER_AGENT.match(request.header("user-agent")):
            return Response(401, NGINX_401, content_type="text/html")
        version = request.header("accept-version")
        if version and (self.sandbox or version < VERSIONS[0]):
            return error(406, 406, "The requested version is not supported.")
        with self.book.lock:
            fault = self._take_fault(request)
            if fault is not None and fault.kind not in ("drop_response", "slow"):
                return self._fault_response(fault)
            self.book.advance()
            response = self._router.dispatch(request)
        if fault is not None and fault.kind == "drop_response":
            raise DropConnection()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        return response

    def _take_fault(self, request: Request) -> _Fault | None:
        line = f"{request.method} {request.path}"
        for fault in self._faults:
            if fault.remaining > 0 and fault.target.search(line):
                fault.remaining -= 1
                return fault
        return None

    def _fault_response(self, fault: _Fault) -> Response:
        if fault.kind == "reject":
            return error(
                422,
                "preflight_check_failure",
                "One or more preflight checks failed",
                errors=[
                    {
                        "code": "margin_check_failed",
                        "message": "Account does not have sufficient buying power available for this order.",
                    }
                ],
            )
        if fault.kind == "unauthorized":
            return error(401, "unauthorized", "Unauthorized. Unique customer support identifier: fake")
        if fault.kind == "forbidden":
            return error(403, "not_permitted", "User not permitted access")
        if fault.kind == "rate_limited":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return Response(429, error(429, "too_many_requests", "Too many requests").body, headers=headers)
        return error(500, "internal_server_error", "Internal server error")

    # --- helpers --------------------------------------------------------------------------

    def _authorized(self, request: Request) -> Response | None:
        scheme, _, token = request.header("authorization").partition(" ")
        if scheme != "Bearer" or not self.book.token_valid(token):
            return error(401, "unauthorized", "Unauthorized. Unique customer support identifier: fake")
        return None

    def _account(self, request: Request, account: str) -> Response | None:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        known = self.book.accounts.get(account)
        if known is None or known.closed:
            return error(403, "not_permitted", "User not permitted access")
        return None

    @staticmethod
    def _envelope(request: Request, data: Any, **top: Any) -> Response:
        return Response(200, {"data": data, "context": request.path, **top})

    def _find(self, account: str, order_id: str) -> FakeOrder | None:
        order = self.book.orders.get(int(order_id)) if order_id.isdigit() else None
        return order if order is not None and order.account == account else None

    # --- routes ---------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        self.book.token_requests += 1
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "Use refresh_token."})
        if body.get("client_secret") != self.book.client_secret or body.get("refresh_token") != self.book.refresh_token:
            return Response(400, {"error": "invalid_grant", "error_description": "Grant is invalid or revoked."})
        token = self.book.issue_token()
        return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.book.token_ttl})

    def _accounts(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        return self._envelope(request, {"items": [a.wire() for a in self.book.accounts.values()]})

    def _balances(self, request: Request, account: str) -> Response:
        return self._account(request, account) or self._envelope(request, self.book.balances(account))

    def _net_liq_history(self, request: Request, account: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        if self.sandbox:
            return error(404, "not_found", "Not found")
        problem = tastytrade_query_problem(request.query)
        if problem is not None:
            return error(400, "invalid_input", problem)
        return self._envelope(request, {"items": tastytrade_net_liq_items(self.equity_history.points(request.query))})

    def _positions(self, request: Request, account: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        items = [
            {
                "account-number": account,
                "symbol": p.symbol,
                "instrument-type": p.instrument_type,
                "underlying-symbol": p.symbol.split(" ")[0],
                "quantity": str(abs(p.quantity)),
                "quantity-direction": "Long" if p.quantity > 0 else "Short",
                "close-price": format(self.book.mark(p.symbol) or p.average_price, "f"),
                "average-open-price": format(p.average_price, "f"),
                "multiplier": int(p.multiplier),
                "cost-effect": "Debit" if p.quantity > 0 else "Credit",
                "is-suppressed": False,
                "is-frozen": False,
                "restricted-quantity": 0,
                "created-at": p.created_at.isoformat(timespec="milliseconds"),
                "updated-at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            for p in self.book.account_positions(account)
        ]
        return self._envelope(request, {"items": items})

    def _live_orders(self, request: Request, account: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        today = datetime.now(UTC).date()
        orders = [
            o.wire()
            for o in self.book.orders.values()
            if o.account == account and (o.received_at.date() == today or o.status not in TERMINAL)
        ]
        if self.live_orders_page_size is None:
            return self._envelope(request, {"items": orders})
        return self._page(request, orders, self.live_orders_page_size)

    def _page(self, request: Request, items: list[dict[str, Any]], per_page: int) -> Response:
        offset = int(request.arg("page-offset", "0") or 0)
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[offset * per_page : (offset + 1) * per_page]
        pagination = {
            "per-page": per_page,
            "page-offset": offset,
            "item-offset": offset * per_page,
            "total-items": len(items),
            "total-pages": total_pages,
            "current-item-count": len(chunk),
        }
        return self._envelope(request, {"items": chunk}, pagination=pagination)

    def _search_orders(self, request: Request, account: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        start = request.arg("start-date")
        if request.header("accept-version") >= VERSIONS[1] and not (start or request.arg("start-at")):
            return error(400, "invalid_request", "start-date or start-at is required")
        orders = [o for o in self.book.orders.values() if o.account == account]
        if start:
            orders = [o for o in orders if o.received_at.date() >= date.fromisoformat(start)]
        statuses = request.query.get("status[]")
        if statuses:
            orders = [o for o in orders if o.status in statuses]
        orders.sort(key=lambda o: o.received_at, reverse=request.arg("sort", "Desc") == "Desc")
        return self._page(request, [o.wire() for o in orders], int(request.arg("per-page", "10") or 10))

    def _get_order(self, request: Request, account: str, order_id: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        order = self._find(account, order_id)
        if order is None:
            return error(404, "not_found", "Order not found")
        return self._envelope(request, order.wire())

    def _validate(self, body: Any) -> Response | None:
        """The order rules the real API enforces before any preflight check."""
        if not isinstance(body, dict):
            return error(400, "invalid_json", "Request body must be a JSON object")
        missing = [key for key in ("time-in-force", "order-type", "legs") if key not in body]
        if missing:
            return error(400, "validation_error", f"Missing required attributes: {', '.join(missing)}")
        legs = body["legs"]
        if not isinstance(legs, list) or len(legs) != 1:
            return error(400, "validation_error", "Equity orders are limited to a single leg")
        leg = legs[0]
        if leg.get("action") not in ACTIONS or leg.get("instrument-type") not in ("Equity", "Equity Option"):
            return error(400, "validation_error", "Invalid leg action or instrument-type")
        if leg["instrument-type"] == "Equity Option" and not _OCC.match(str(leg.get("symbol", ""))):
            return error(400, "invalid_symbol", f"Invalid equity option symbol {leg.get('symbol')!r}")
        kind = body["order-type"]
        if kind in ("Limit", "Stop Limit") and (body.get("price") is None or body.get("price-effect") is None):
            return error(400, "validation_error", f"{kind} orders require price and price-effect")
        if kind in ("Stop", "Stop Limit") and body.get("stop-trigger") is None:
            return error(400, "validation_error", f"{kind} orders require stop-trigger")
        if kind == "Market" and body.get("price") is not None:
            return error(400, "validation_error", "Market orders do not take a price")
        if body["time-in-force"] not in ("Day", "GTC", "Ext", "GTC Ext"):
            return error(400, "validation_error", f"Unsupported time-in-force {body['time-in-force']!r}")
        return None

    def _preflight(self, account: str, body: dict[str, Any]) -> list[dict[str, str]]:
        buying = body["legs"][0]["action"].startswith("Buy")
        if buying and self.book.order_cost(account, body) > self.book.buying_power(self.book.accounts[account]):
            return [
                {
                    "code": "margin_check_failed",
                    "message": "Account does not have sufficient buying power available for this order.",
                }
            ]
        return []

    def _place(self, request: Request, account: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        body = _json_or_none(request)
        invalid = self._validate(body)
        if invalid is not None:
            return invalid
        failures = self._preflight(account, body)
        if failures:
            return error(422, "preflight_check_failure", "One or more preflight checks failed", errors=failures)
        order = self.book.add_order(account, body)
        return self._envelope(
            request,
            {
                "order": order.wire(),
                "warnings": [],
                "buying-power-effect": self.book.buying_power_effect(account, body),
                "fee-calculation": self.book.fees(body),
            },
        )

    def _dry_run(self, request: Request, account: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        body = _json_or_none(request)
        invalid = self._validate(body)
        if invalid is not None:
            return invalid
        effect = self.book.buying_power_effect(account, body)
        failures = self._preflight(account, body)
        if failures:
            response = error(422, "preflight_check_failure", "One or more preflight checks failed", errors=failures)
            response.body["data"] = {"buying-power-effect": effect}
            return response
        preview = self.book.build_order(0, account, body)
        warnings = []
        if self.book.quotes.get(compact(body["legs"][0]["symbol"])) is None:
            warnings.append({"code": "no_quote", "message": "No quote is available for this symbol."})
        return self._envelope(
            request,
            {
                "order": preview.wire(with_id=False),
                "warnings": warnings,
                "buying-power-effect": effect,
                "fee-calculation": self.book.fees(body),
            },
        )

    def _cancel(self, request: Request, account: str, order_id: str) -> Response:
        refused = self._account(request, account)
        if refused is not None:
            return refused
        order = self._find(account, order_id)
        if order is None:
            return error(404, "not_found", "Order not found")
        if order.status not in ("Received", "Routed", "In Flight", "Live", "Contingent"):
            return error(422, "order_not_cancellable", f"Order is {order.status} and can no longer be cancelled")
        self.book.cancel(order)
        return self._envelope(request, order.wire())

    def _replace(self, request: Request, account: str, order_id: str) -> Response:
        """Cancel-replace (body without legs): the old order is cancelled and a new one takes its place."""
        refused = self._account(request, account)
        if refused is not None:
            return refused
        order = self._find(account, order_id)
        if order is None:
            return error(404, "not_found", "Order not found")
        if order.status not in ("Received", "Routed", "In Flight", "Live", "Contingent"):
            return error(422, "order_not_editable", f"Order is {order.status} and can no longer be replaced")
        body = _json_or_none(request)
        if not isinstance(body, dict):
            return error(400, "invalid_json", "Request body must be a JSON object")
        invalid = self._validate({**body, "legs": [dict(order.leg, quantity=order.leg["remaining-quantity"])]})
        if invalid is not None:
            return invalid
        new = self.book.replace_order(order, body)
        full_body = {**body, "legs": new.legs}
        return self._envelope(
            request,
            {
                "order": new.wire(),
                "warnings": [],
                "buying-power-effect": self.book.buying_power_effect(account, full_body),
                "fee-calculation": self.book.fees(full_body),
            },
        )

    def _market_data(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        symbols: list[str] = []
        for key in ("equity", "equity-option"):
            for value in request.query.get(key, []):
                symbols.extend(s for s in value.split(",") if s)
        if len(symbols) > 100:
            return error(400, "too_many_symbols", "At most 100 symbols may be requested at once")
        items = [item for item in (self.book.quote_item(s) for s in symbols) if item is not None]
        return self._envelope(request, {"items": items})


def _json_or_none(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None


class TastytradeHarness:
    """``BrokerHarness`` for the contract suite: the fake in sandbox mode and a paper connector."""

    name = "tastytrade"

    def __init__(self) -> None:
        self.fake = TastytradeFake()

    async def start(self) -> None:
        self.fake.start()

    async def stop(self) -> None:
        # shutdown() waits for the server loop's poll; keep it off the event loop.
        await asyncio.to_thread(self.fake.stop)

    def connector(self, *, valid_credentials: bool = True) -> Broker:
        credentials = {
            "client_secret": CLIENT_SECRET if valid_credentials else "not-the-secret",
            "refresh_token": REFRESH_TOKEN,
            "account_number": "",
        }
        return TastytradeBroker(credentials, Environment.PAPER, base_url=self.fake.url)

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        with self.fake.book.lock:
            self.fake.book.set_quote(symbol, bid, ask, last)

    def inject_fault(self, fault: str) -> None:
        self.fake.inject_fault(fault)

    def order_count(self) -> int:
        with self.fake.book.lock:
            return self.fake.book.order_count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the fake Tastytrade API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    parser.add_argument("--production", action="store_true", help="behave like production instead of the sandbox")
    args = parser.parse_args(argv)
    fake = TastytradeFake(sandbox=not args.production)
    for symbol, bid, ask, last in (("AAPL", "189.50", "189.60", "189.55"), ("MSFT", "410.10", "410.30", "410.20")):
        fake.book.set_quote(symbol, Decimal(bid), Decimal(ask), Decimal(last))
    fake.server = FakeHTTPServer(fake.dispatch, port=args.port, order_action=fake.order_action)
    serve_until_stopped(fake.server.start(), _banner(fake))


def _banner(fake: TastytradeFake) -> str:
    account = next(iter(fake.book.accounts))
    environment = "sandbox (paper)" if fake.sandbox else "production (live)"
    return (
        f"Fake Tastytrade API, {environment}, at {{url}}\n"
        f"  client secret:  {fake.book.client_secret}\n"
        f"  refresh token:  {fake.book.refresh_token}\n"
        f"  account number: {account}\n"
        "Use the base URL as the Tastytrade base-URL override. Ctrl-C stops it."
    )


if __name__ == "__main__":
    main()
