"""A fake TWS / IB Gateway on 127.0.0.1 speaking the real socket API, and the contract-suite harness for it.

It answers the handshake, startApi (nextValidId, managedAccounts), the start-up syncs with their end
messages, account updates and summary, positions, market data snapshots and streams (live, or delayed
after reqMarketDataType 3; a stream ticks each change set by ``push_quote`` until cancelMktData), contract details, placeOrder (openOrder, orderStatus Submitted, then fills),
cancelOrder (Cancelled + error 202), rejections (error 201), "client id in use" (error 326 and a
close), and offers switches to drop connections, refuse new ones and broadcast system messages.

Run it by hand: ``python -m tests.fakes.tws --port 7497`` serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from app.brokers.base import Environment
from app.brokers.ibkr.connector import IbkrBroker, IbkrTimeouts, ReconnectPolicy
from tests.fakes import tws_wire as wire
from tests.fakes.control import RequestSwitches
from tests.fakes.tws_book import DONE, FakeExecution, FakeQuote, TwsBook, ib_time
from tests.fakes.tws_controls import TwsControls
from tests.fakes.tws_wire import OrderRecord, RequestedContract

_FARMS_OK = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
REJECT_REASON = (
    "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY "
    "WITH LOAN VALUE MUST EXCEED THE INITIAL MARGIN"
)


class _Session:
    """One API connection."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.client_id: int | None = None
        self.market_data_type = 1
        self.positions_subscribed = False
        #: Streaming market-data requests: reqId -> our symbol, until cancelMktData.
        self.market_data: dict[int, str] = {}

    def send(self, message: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(message)

    def close(self) -> None:
        self.writer.close()


class FakeTws(TwsBook, TwsControls):
    """The fake TWS: its books (``TwsBook``) served to API sessions over loopback."""

    name = "ibkr"

    def __init__(self, accounts: Iterable[str] = ("DU1234567",), *, cash: Decimal = Decimal("100000")) -> None:
        super().__init__(accounts, cash=cash)
        self.switches = RequestSwitches()
        #: False: reqCompletedOrders answers with its end message only, as a TWS that restarted since
        #: (or one that does not replay API orders) does; open orders and executions are unaffected.
        self.completed_orders_replayed = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.received: list[tuple[int | None, list[str]]] = []
        self.held_client_ids: set[int] = set()
        self.port = 0
        self._faults: deque[str] = deque()
        self._sessions: set[_Session] = set()
        self._server: asyncio.AbstractServer | None = None
        self._dispatch = {
            71: self._start_api, 61: self._req_positions, 64: self._cancel_positions, 5: self._req_open_orders,
            16: self._req_all_open_orders, 99: self._req_completed_orders, 6: self._req_account_updates,
            76: self._req_account_updates_multi, 7: self._req_executions, 62: self._req_account_summary,
            59: self._req_market_data_type, 1: self._req_mkt_data, 2: self._cancel_mkt_data, 3: self._place_order, 4: self._cancel_order,
            9: self._req_contract_details, 8: self._req_ids, 17: self._req_managed_accounts,
            49: self._req_current_time, 58: self._req_global_cancel, 20: self._req_historical_data,
        }
        #: Bars served to reqHistoricalData by (our symbol, IB bar size): rows of
        #: (date text as IB sends it, open, high, low, close, volume, WAP, bar count).
        self.bar_rows: dict[tuple[str, str], list[tuple[object, ...]]] = {}

    # -- server ------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.switches.release_all()
        self.drop_connections()
        await self.pause()

    async def pause(self) -> None:
        """Stop listening: new connections are refused until ``resume``; live sessions stay."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def resume(self) -> None:
        await self.start(self.port)

    def drop_connections(self) -> None:
        """Close every API socket, as when TWS restarts or the network fails."""
        for session in list(self._sessions):
            session.close()

    def broadcast(self, code: int, text: str) -> None:
        """A system message (reqId -1) to every session, e.g. 1100 "Connectivity between IB and TWS has been lost"."""
        for session in self._sessions:
            session.send(wire.error(-1, code, text))

    @property
    def connections(self) -> int:
        return len(self._sessions)

    def hold_client_id(self, client_id: int) -> None:
        """Pretend another application is connected with this client id."""
        self.held_client_ids.add(client_id)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        self._sessions.add(session)
        try:
            if await reader.readexactly(4) != b"API\0":
                return
            await wire.read_frame(reader)  # "v157..176": we answer with a version inside the range
            session.send(wire.frame([wire.SERVER_VERSION, ib_time()]))
            while True:
                fields = await wire.read_frame(reader)
                self.received.append((session.client_id, fields))
                self._handle(session, fields)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._sessions.discard(session)
            session.close()

    # -- steering ----------------------------------------------------------------------------

    def inject_fault(self, fault: str) -> None:
        """Fail the next order: "reject" (error 201), "server_error" (error 133), "drop_response" (booked,
        then the socket closes before any answer) or "drop_request" (the socket closes, nothing booked)."""
        self._faults.append(fault)


    # -- message handling --------------------------------------------------------------------

    def _handle(self, session: _Session, fields: list[str]) -> None:
        handler = self._dispatch.get(int(fields[0]))
        if handler is not None:
            handler(session, fields)

    def _start_api(self, session: _Session, fields: list[str]) -> None:
        client_id = int(fields[2])
        in_use = client_id in self.held_client_ids or any(s.client_id == client_id for s in self._sessions)
        if in_use:
            session.send(wire.error(-1, 326, "Unable to connect as the client id is already in use. Retry with a unique client id."))
            session.close()
            return
        session.client_id = client_id
        session.send(wire.frame([9, 1, self.next_order_id(client_id)]))
        session.send(wire.frame([15, 1, ",".join(self.accounts)]))
        for code, text in _FARMS_OK:
            session.send(wire.error(-1, code, text))

    def _req_positions(self, session: _Session, _fields: list[str]) -> None:
        session.positions_subscribed = True
        for (account, _), (contract, quantity, avg_cost) in self.positions.items():
            session.send(wire.position(account, contract, quantity, avg_cost))
        session.send(wire.frame([62, 1]))

    def _cancel_positions(self, session: _Session, _fields: list[str]) -> None:
        session.positions_subscribed = False

    def _req_open_orders(self, session: _Session, _fields: list[str]) -> None:
        self._send_open_orders(session, [o for o in self.orders if o.client_id == session.client_id])

    def _req_all_open_orders(self, session: _Session, _fields: list[str]) -> None:
        self._send_open_orders(session, self.orders)

    def _send_open_orders(self, session: _Session, orders: Iterable[OrderRecord]) -> None:
        for order in orders:
            if order.status not in DONE:
                session.send(wire.open_order(order))
                session.send(self._status(order))
        session.send(wire.frame([53, 1]))

    def _req_completed_orders(self, session: _Session, _fields: list[str]) -> None:
        for order in self.orders if self.completed_orders_replayed else ():
            if order.status in DONE:
                session.send(wire.completed_order(order, ib_time()))
        session.send(wire.frame([102]))

    def _req_account_updates(self, session: _Session, fields: list[str]) -> None:
        subscribe, account = fields[2] == "1", fields[3]
        if not subscribe or account not in self.accounts:
            return
        for tag, (value, currency) in self.account_values(account).items():
            session.send(wire.frame([6, 2, tag, value, currency, account]))
        for (owner, key), (contract, quantity, avg_cost) in self.positions.items():
            if owner == account and key in self.quotes:
                session.send(wire.portfolio(account, contract, quantity, self.quotes[key].last, avg_cost))
        session.send(wire.frame([8, 1, time.strftime("%H:%M")]))
        session.send(wire.frame([54, 1, account]))

    def _req_account_updates_multi(self, session: _Session, fields: list[str]) -> None:
        req_id, account = fields[2], fields[3]
        if account in self.accounts:
            for tag, (value, currency) in self.account_values(account).items():
                session.send(wire.frame([73, 1, req_id, account, "", tag, value, currency]))
        session.send(wire.frame([74, 1, req_id]))

    def _req_account_summary(self, session: _Session, fields: list[str]) -> None:
        req_id, tags = fields[2], set(fields[4].split(","))
        for account in self.accounts:
            for tag, (value, currency) in self.account_values(account).items():
                if tag in tags:
                    session.send(wire.frame([63, 1, req_id, account, tag, value, currency]))
        session.send(wire.frame([64, 1, req_id]))

    def _req_executions(self, session: _Session, fields: list[str]) -> None:
        req_id, client_filter, account_filter = fields[2], int(fields[3] or 0), fields[4]
        for ex in self.executions:
            if client_filter and ex.order.client_id != client_filter:
                continue
            if account_filter and ex.order.account != account_filter:
                continue
            session.send(self._exec_message(int(req_id), ex))
            session.send(wire.commission_report(ex.exec_id, ex.commission))
        session.send(wire.frame([55, 1, req_id]))

    def _req_market_data_type(self, session: _Session, fields: list[str]) -> None:
        session.market_data_type = int(fields[2])

    def _req_mkt_data(self, session: _Session, fields: list[str]) -> None:
        req_id = int(fields[2])
        requested = RequestedContract.take(fields, 3)
        # After the contract: the delta-neutral flag (plus 3 fields when set), genericTickList, snapshot.
        snapshot = fields[17 + (3 if fields[15] == "1" else 0)] == "1"
        contract = self.resolve(requested)
        if contract is None:
            session.send(wire.error(req_id, 200, "No security definition has been found for the request"))
            return
        quote = self.quotes.get(contract.key)
        if quote is not None:
            if quote.live:
                data_type = 1
            elif session.market_data_type in (3, 4):
                session.send(wire.error(req_id, 10167, "Requested market data is not subscribed. Displaying delayed market data."))
                data_type = 3
            else:
                session.send(wire.error(req_id, 354, "Requested market data is not subscribed."))
                return
            session.send(wire.frame([58, 1, req_id, data_type]))
            self._send_ticks(session, req_id, quote, None)
        if snapshot:
            session.send(wire.frame([57, 1, req_id]))
        elif quote is not None:
            session.market_data[req_id] = contract.key

    def _cancel_mkt_data(self, session: _Session, fields: list[str]) -> None:
        # 2, version, reqId (ib_insync ``Client.cancelMktData``).
        session.market_data.pop(int(fields[2]), None)

    def _send_ticks(self, session: _Session, req_id: int, quote: FakeQuote, before: FakeQuote | None) -> None:
        """tickPrice (msg 1, version 6: reqId, tickType, price, size, attribute mask) for each side that changed.

        Live data ticks 1/2/4 (bid/ask/last), delayed data 66/67/68, as TWS sends them.
        """
        ticks = (1, 2, 4) if quote.live else (66, 67, 68)
        prices = (quote.bid, quote.ask, quote.last)
        old = (before.bid, before.ask, before.last) if before is not None else (None, None, None)
        for tick, price, was in zip(ticks, prices, old, strict=True):
            if price != was:
                session.send(wire.frame([1, 6, req_id, tick, price, quote.size, 0]))

    def push_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        """Change a quote and tick the change to every session streaming the symbol, as TWS does."""
        self._on_loop(self._push_quote, symbol, bid, ask, last)

    def _push_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        before = self.quotes.get(symbol)
        self.set_quote(symbol, bid, ask, last, live=before.live if before is not None else True)
        quote = self.quotes[symbol]
        for session in self._sessions:
            for req_id, key in list(session.market_data.items()):
                if key == symbol:
                    self._send_ticks(session, req_id, quote, before)

    def streamed_symbols(self) -> list[str]:
        """The symbols some session is streaming now (each once per request)."""
        return sorted(key for session in self._sessions for key in session.market_data.values())

    def _req_historical_data(self, session: _Session, fields: list[str]) -> None:
        # 20, reqId, the 12 contract fields, includeExpired, endDateTime, barSize, duration, useRTH,
        # whatToShow, formatDate, keepUpToDate, chartOptions (ib_insync ``Client.reqHistoricalData``).
        req_id = int(fields[1])
        contract = self.resolve(RequestedContract.take(fields, 2))
        if contract is None:
            session.send(wire.error(req_id, 200, "No security definition has been found for the request"))
            return
        rows = self.bar_rows.get((contract.key, fields[16]))
        if not rows:
            session.send(wire.error(req_id, 162, "Historical Market Data Service error message:HMDS query returned no data"))
            return
        flat = [value for row in rows for value in row]
        session.send(wire.frame([17, req_id, rows[0][0], rows[-1][0], len(rows), *flat]))

    def _req_contract_details(self, session: _Session, fields: list[str]) -> None:
        req_id = int(fields[2])
        contract = self.resolve(RequestedContract.take(fields, 3))
        if contract is None:
            session.send(wire.error(req_id, 200, "No security definition has been found for the request"))
            return
        session.send(wire.contract_details(req_id, contract, f"{contract.key} (fake)"))
        session.send(wire.frame([52, 1, req_id]))

    def _req_ids(self, session: _Session, _fields: list[str]) -> None:
        session.send(wire.frame([9, 1, self.next_order_id(session.client_id or 0)]))

    def _req_managed_accounts(self, session: _Session, _fields: list[str]) -> None:
        session.send(wire.frame([15, 1, ",".join(self.accounts)]))

    def _req_current_time(self, session: _Session, _fields: list[str]) -> None:
        session.send(wire.frame([49, 1, int(time.time())]))

    def _req_global_cancel(self, _session: _Session, _fields: list[str]) -> None:
        for order in list(self.orders):
            if order.status not in DONE:
                self._cancelled(order)

    # -- orders ------------------------------------------------------------------------------

    def _place_order(self, session: _Session, fields: list[str]) -> None:
        placed = wire.parse_place_order(fields)
        client_id = session.client_id or 0
        order_id = placed.order_id
        if placed.what_if:
            self._what_if(session, placed)
            return
        existing = next((o for o in self.orders if o.client_id == client_id and o.order_id == order_id), None)
        if existing is not None:
            self._modify_order(session, existing, placed)
            return
        fault = self._faults.popleft() if self._faults else None
        if fault == "drop_request":
            # The socket fails while the order is in flight: TWS never books it.
            session.close()
            return
        self.note_order_id(client_id, order_id)
        if fault == "reject":
            session.send(wire.error(order_id, 201, REJECT_REASON))
            return
        if fault == "server_error":
            session.send(wire.error(order_id, 133, "Submit new order failed."))
            return
        contract = self.resolve(placed.contract)
        if contract is None:
            session.send(wire.error(order_id, 200, "No security definition has been found for the request"))
            return
        account = placed.account or self.accounts[0]
        price = self.execution_price(contract.key, placed.action, placed.order_type, placed.limit_price)
        cost = placed.quantity * (price or placed.limit_price or Decimal(0)) * Decimal(contract.multiplier or 1)
        if placed.action == "BUY" and cost > self.buying_power(account):
            session.send(wire.error(order_id, 201, REJECT_REASON))
            return
        status = "PreSubmitted" if placed.order_type in ("STP", "STP LMT") else "Submitted"
        order = self.book(OrderRecord(order_id, client_id, self.new_perm_id(), contract, placed.action, placed.quantity,
                                      placed.order_type, placed.limit_price, placed.aux_price, placed.tif, account,
                                      placed.order_ref, status, Decimal(0), placed.outside_rth))
        if fault == "drop_response" or self.switches.take_drop("place"):
            # Accepted and worked like any order, but the socket closes before TWS answers.
            if price is not None:
                self._fill(order, price, notify=False)
            session.close()
            return
        hang = self.switches.take_hang("place")
        if hang is not None:
            # Booked and worked at once; the answer waits for the release.
            if price is not None:
                self._fill(order, price, notify=False)
            hang.received.set()
            hang.on_release(lambda: self._on_loop(self._report, order.perm_id))
            return
        session.send(wire.open_order(order))
        session.send(self._status(order))
        if price is not None:
            self._fill(order, price)

    def _modify_order(self, session: _Session, order: OrderRecord, placed: wire.PlacedOrder) -> None:
        """placeOrder with the orderId of a live order changes it in place (TWS keeps orderId and permId)."""
        if order.status == "Filled":
            session.send(wire.error(order.order_id, 104, "Can't modify a filled order."))
            return
        if order.status in DONE:
            session.send(wire.error(order.order_id, 103, "Duplicate order id"))
            return
        contract = self.resolve(placed.contract)
        if contract is None or contract.key != order.contract.key or placed.action != order.action:
            session.send(wire.error(order.order_id, 105, "Order being modified does not match original order."))
            return
        if placed.quantity < order.filled:
            text = f"The order quantity cannot be reduced below the filled quantity of {order.filled}."
            session.send(wire.error(order.order_id, 201, f"Order rejected - reason:{text}"))
            return
        order = self.update(order, quantity=placed.quantity, order_type=placed.order_type,
                            limit_price=placed.limit_price, aux_price=placed.aux_price, tif=placed.tif)
        price = self.execution_price(contract.key, order.action, order.order_type, order.limit_price)
        if self.switches.take_drop("replace"):
            if price is not None:
                self._fill(order, price, notify=False)
            session.close()
            return
        hang = self.switches.take_hang("replace")
        if hang is not None:
            if price is not None:
                self._fill(order, price, notify=False)
            hang.received.set()
            hang.on_release(lambda: self._on_loop(self._report, order.perm_id))
            return
        session.send(wire.open_order(order))
        session.send(self._status(order))
        if price is not None:
            self._fill(order, price)

    def _report(self, perm_id: int) -> None:
        """Tell the order's owner where it stands now (openOrder and orderStatus)."""
        order = next(o for o in self.orders if o.perm_id == perm_id)
        for session in self._owner_sessions(order):
            session.send(wire.open_order(order))
            session.send(self._status(order))

    def _what_if(self, session: _Session, placed: wire.PlacedOrder) -> None:
        contract = self.resolve(placed.contract)
        if contract is None:
            session.send(wire.error(placed.order_id, 200, "No security definition has been found for the request"))
            return
        account = placed.account or self.accounts[0]
        reference = placed.limit_price or placed.aux_price or self.execution_price(contract.key, placed.action, "MKT", None)
        cost = placed.quantity * (reference or Decimal(0)) * Decimal(contract.multiplier or 1)
        if placed.action == "BUY" and cost > self.buying_power(account):
            session.send(wire.error(placed.order_id, 201, REJECT_REASON))
            return
        record = OrderRecord(placed.order_id, session.client_id or 0, 0, contract, placed.action, placed.quantity,
                             placed.order_type, placed.limit_price, placed.aux_price, placed.tif, account,
                             placed.order_ref, "PreSubmitted", Decimal(0))
        equity = Decimal(self.account_values(account)["NetLiquidation"][0])
        outcome = wire.WhatIf((cost / 4).quantize(Decimal("0.01")), equity, self.commission(contract, placed.quantity))
        session.send(wire.open_order(record, outcome))

    def _cancel_order(self, session: _Session, fields: list[str]) -> None:
        order_id = int(fields[2])
        order = next((o for o in self.orders if o.client_id == session.client_id and o.order_id == order_id), None)
        if order is None:
            session.send(wire.error(order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."))
        elif order.status in DONE:
            session.send(wire.error(order_id, 10148, f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {order.status}."))
        elif self.switches.take_drop("cancel"):
            self.update(order, status="Cancelled")
            session.close()
        else:
            hang = self.switches.take_hang("cancel")
            if hang is None:
                self._cancelled(order)
                return
            cancelled = self.update(order, status="Cancelled")
            hang.received.set()
            hang.on_release(lambda: self._on_loop(self._announce_cancel, cancelled.perm_id))

    def _announce_cancel(self, perm_id: int) -> None:
        order = next(o for o in self.orders if o.perm_id == perm_id)
        for session in self._owner_sessions(order):
            session.send(self._status(order))
            session.send(wire.error(order.order_id, 202, "Order Canceled - reason:"))

    def _cancelled(self, order: OrderRecord) -> None:
        order = self.update(order, status="Cancelled")
        for session in self._owner_sessions(order):
            session.send(self._status(order))
            session.send(wire.error(order.order_id, 202, "Order Canceled - reason:"))

    def _fill(self, order: OrderRecord, price: Decimal, *, shares: Decimal | None = None, notify: bool = True) -> None:
        order, ex, position = self.book_fill(order, price, shares)
        if not notify:
            return
        for session in self._owner_sessions(order):
            session.send(self._exec_message(-1, ex))
            session.send(self._status(order))
            session.send(wire.commission_report(ex.exec_id, ex.commission))
        for session in self._sessions:
            if session.positions_subscribed:
                session.send(wire.position(order.account, order.contract, *position))

    def _status(self, order: OrderRecord) -> bytes:
        avg = self.average_price(order)
        remaining = Decimal(0) if order.status in DONE else order.quantity - order.filled
        return wire.order_status(order.order_id, order.status, order.filled, remaining, avg, order.perm_id, avg,
                                 order.client_id)

    def _exec_message(self, req_id: int, ex: FakeExecution) -> bytes:
        return wire.exec_details(req_id, ex.order, ex.exec_id, ex.time_text, ex.shares, ex.price, ex.cum_qty, ex.avg_price)

    def _owner_sessions(self, order: OrderRecord) -> list[_Session]:
        return [s for s in self._sessions if s.client_id == order.client_id]


class IbkrHarness:
    """The contract-suite harness: a FakeTws and paper connectors pointed at it."""

    name = "ibkr"
    ACCOUNT = "DU1234567"

    def __init__(self) -> None:
        self.tws = FakeTws((self.ACCOUNT,))
        self._client_ids = itertools.count(7)

    @property
    def fake(self) -> FakeTws:
        return self.tws

    async def start(self) -> None:
        await self.tws.start()

    async def stop(self) -> None:
        await self.tws.stop()

    def connector(self, *, valid_credentials: bool = True, environment: Environment = Environment.PAPER,
                  client_id: int | None = None) -> IbkrBroker:
        account = self.ACCOUNT if valid_credentials else "DU0000000"
        credentials = {
            "host": "127.0.0.1",
            "port": str(self.tws.port),
            "client_id": str(client_id if client_id is not None else next(self._client_ids)),
            "account": account,
        }
        return IbkrBroker(
            credentials,
            environment,
            reconnect=ReconnectPolicy(first_delay=0.05, max_delay=0.4),
            timeouts=IbkrTimeouts(connect=3.0, request=3.0, order_ack=2.0, quotes=3.0, reconnect_wait=8.0),
        )

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal) -> None:
        self.tws.set_quote(symbol, bid, ask, last)

    def inject_fault(self, fault: str) -> None:
        self.tws.inject_fault(fault)

    def order_count(self) -> int:
        return self.tws.accepted


async def _serve_forever(port: int, account: str) -> None:
    tws = FakeTws((account,))
    tws.set_quote("AAPL", Decimal("189.50"), Decimal("189.60"), Decimal("189.55"))
    tws.set_quote("MSFT", Decimal("410.10"), Decimal("410.30"), Decimal("410.20"))
    tws.set_quote("SPY", Decimal("512.40"), Decimal("512.45"), Decimal("512.42"), live=False)
    # Ctrl-C (or SIGTERM) sets an event rather than cancelling the loop's tasks: the server stops in order.
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt
            loop.add_signal_handler(number, stopped.set)
    await tws.start(port)
    print(f"fake TWS listening on 127.0.0.1:{tws.port} (account {account}); Ctrl-C stops it", flush=True)
    try:
        await stopped.wait()
    finally:
        await tws.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake TWS / IB Gateway API server on 127.0.0.1")
    parser.add_argument("--port", type=int, default=7497)
    parser.add_argument("--account", default="DU1234567")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.port, args.account))


if __name__ == "__main__":
    main()
