"""Interactive Brokers connector: TWS / IB Gateway over the socket API through ib_insync, on the app's loop.

This is the only module that imports ib_insync; moving to its maintained fork ib_async (same API)
means changing the import below (see docs/brokers/ibkr.md). Only the library's ``*Async`` calls are
used, awaited on the app's running loop: no ``util.startLoop``, ``patchAsyncio``, ``useQt`` or
``nest_asyncio``. Pure mappings live in ``ibkr_contracts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar

from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerSpec,
    BrokerUnavailable,
    Capabilities,
    CredentialField,
    Environment,
    EnvironmentMismatch,
    OrderNotFound,
    OrderPreview,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
)
from app.brokers.ibkr_contracts import (
    CANCEL_CONFIRMED,
    CANCEL_TARGET_MISSING,
    CLIENT_ID_IN_USE,
    DEFAULT_HOST,
    IB_LINK_LOST,
    IB_LINK_RESTORED,
    NOT_CANCELLABLE,
    PORT_PRESETS,
    IbkrEndpoint,
    OrderFields,
    OrderReport,
    account_info,
    asset_class_of,
    choose_account,
    contract_fields,
    fill_totals,
    ib_decimal,
    ib_price,
    is_order_failure,
    is_paper_account,
    mask_account,
    merge_report,
    order_fields,
    parse_endpoint,
    per_unit_cost,
    rejection_reason,
    symbol_of,
)
from app.domain.models import Instrument, OrderRequest, OrderStatus, Quote
from app.domain.symbols import SymbolError, parse_symbol


def bind_running_loop() -> None:
    """Make the running loop the thread's current loop.

    ib_insync and eventkit look their loop up with ``get_event_loop_policy().get_event_loop()``,
    which ignores the running loop: under qasync (a runner with a loop factory) they would otherwise
    get a different loop that never runs.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    asyncio.set_event_loop(loop)


bind_running_loop()
with warnings.catch_warnings():
    # eventkit 1.0.3 calls get_event_loop() at import; Python 3.12+ warns when no loop is set yet.
    warnings.filterwarnings("ignore", "There is no current event loop", DeprecationWarning)
    import ib_insync as ib_api  # noqa: E402

log = logging.getLogger(__name__)
T = TypeVar("T")

#: reqMarketDataType 3: live data where the trader has a subscription, delayed data elsewhere.
DELAYED_WHEN_UNSUBSCRIBED = 3


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    #: The socket to TWS/IB Gateway dropped; reconnecting with backoff.
    RECONNECTING = "reconnecting"
    #: TWS/IB Gateway is up but has lost IB's servers (code 1100); orders cannot reach the market.
    IB_UNREACHABLE = "ib_unreachable"
    #: Refused for good (wrong account or environment); no more automatic attempts.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    state: ConnectionState
    message: str
    at: datetime


ConnectionListener = Callable[[ConnectionEvent], None]
OrderListener = Callable[[BrokerOrder], None]


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff between reconnect attempts."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_delay)


@dataclass(frozen=True, slots=True)
class IbkrTimeouts:
    """Seconds to wait for TWS; quotes allow for IB's snapshot taking up to ~11 s."""

    connect: float = 10.0
    request: float = 10.0
    order_ack: float = 5.0
    quotes: float = 15.0
    reconnect_wait: float = 15.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _settle(waiter: asyncio.Future[None] | None, error: BaseException | None = None) -> None:
    if waiter is None or waiter.done():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)


class IbkrBroker:
    """The broker protocol over a running TWS or IB Gateway (see app/brokers/base.py for the contract).

    Besides the protocol it pushes connection-state changes and order updates to plain callbacks
    (``add_connection_listener``, ``add_order_listener``) so the controller can show them.
    Orders are tracked by our client order id, carried in IB's ``orderRef``; after a reconnect they
    are re-synced from TWS's open orders, completed orders and executions, matched by orderRef or
    permId and never by the per-client, reusable orderId.
    """

    name = "ibkr"

    def __init__(
        self,
        credentials: Mapping[str, str],
        environment: Environment,
        *,
        base_url: str | None = None,
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        timeouts: IbkrTimeouts = IbkrTimeouts(),
    ) -> None:
        self.environment = environment
        self._credentials = dict(credentials)
        self._base_url = base_url
        self._reconnect_policy = reconnect
        self._timeouts = timeouts
        self._endpoint: IbkrEndpoint | None = None
        self._account = ""
        self._ib = ib_api.IB()
        self._ib.orderStatusEvent += self._on_order_status
        self._ib.errorEvent += self._on_error
        self._ib.disconnectedEvent += self._on_disconnected
        self._ib.client.apiStart += self._on_api_start
        self._ib.client.apiError += self._on_api_error
        self._state = ConnectionState.DISCONNECTED
        self._orders: dict[str, BrokerOrder] = {}
        self._perm_index: dict[int, str] = {}
        # orderId -> client order id for our own client in the current session only: TWS names an
        # order by orderId alone in error messages, and orderIds are unique per client and session.
        self._session_ids: dict[int, str] = {}
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._cancels: dict[str, asyncio.Future[None]] = {}
        self._handshake: asyncio.Future[str] | None = None
        self._quote_contracts: dict[str, Any] = {}
        self._connected = asyncio.Event()
        self._connect_lock = asyncio.Lock()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._last_error: BrokerError | None = None
        self._closing = False
        self._closed = False
        self._connection_listeners: list[ConnectionListener] = []
        self._order_listeners: list[OrderListener] = []

    # -- observers ---------------------------------------------------------------------------

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call ``listener`` on every connection-state change; returns a function that unsubscribes."""
        self._connection_listeners.append(listener)
        return lambda: self._connection_listeners.remove(listener)

    def add_order_listener(self, listener: OrderListener) -> Callable[[], None]:
        """Call ``listener`` with every order update as TWS pushes it; returns an unsubscribe function."""
        self._order_listeners.append(listener)
        return lambda: self._order_listeners.remove(listener)

    def _set_state(self, state: ConnectionState, message: str) -> None:
        self._state = state
        log.info("IBKR connection %s: %s", state.value, message)
        event = ConnectionEvent(state, message, _now())
        for listener in list(self._connection_listeners):
            try:
                listener(event)
            except Exception:
                log.exception("IBKR connection listener failed")

    # -- the broker protocol -----------------------------------------------------------------

    async def verify(self) -> AccountInfo:
        await self._ready()
        values = await self._call(lambda: self._ib.accountSummaryAsync(self._account), "account summary")
        return account_info(self._account, ((v.tag, v.value, v.currency) for v in values))

    async def place_order(self, request: OrderRequest) -> BrokerOrder:
        await self._ready()
        coid = request.client_order_id
        if coid in self._orders:
            raise BrokerError(f"Order {coid} was already sent to Interactive Brokers; look it up instead of resending it.")
        contract = self._contract(request.instrument)
        order = self._order(order_fields(request, self._account))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[coid] = ack
        self._orders[coid] = BrokerOrder(
            client_order_id=coid,
            broker_order_id="",
            symbol=request.symbol,
            status=OrderStatus.PENDING_SUBMIT,
            filled_quantity=Decimal(0),
            average_fill_price=None,
            updated_at=_now(),
            quantity=request.quantity,
            raw_status="PendingSubmit",
        )
        try:
            try:
                trade = self._ib.placeOrder(contract, order)
            except ConnectionError as exc:
                del self._orders[coid]
                raise BrokerUnavailable("Not connected to TWS/IB Gateway; the order was not sent.") from exc
            self._session_ids[trade.order.orderId] = coid
            log.info("IBKR order %s sent as orderId %s", coid, trade.order.orderId)
            wait = self._timeouts.order_ack
            try:
                await asyncio.wait_for(ack, wait)
            except TimeoutError:
                raise OutcomeUnknown(
                    coid,
                    f"TWS/IB Gateway did not acknowledge order {coid} within {wait:g} s; "
                    "its status will be checked before anything is resent.",
                ) from None
        finally:
            self._acks.pop(coid, None)
        return self._orders[coid]

    async def preview_order(self, request: OrderRequest) -> OrderPreview:
        await self._ready()
        contract = self._contract(request.instrument)
        fields = order_fields(request, self._account)
        failures: list[tuple[int, str]] = []

        def on_error(_req_id: int, code: int, text: str, about: object) -> None:
            if about is contract and is_order_failure(code):
                failures.append((code, text))

        self._ib.errorEvent += on_error
        try:
            state = await self._call(lambda: self._ib.whatIfOrderAsync(contract, self._order(fields)), "order preview")
        finally:
            self._ib.errorEvent -= on_error
        if failures:
            raise OrderRejected(rejection_reason(*failures[-1]))
        if not isinstance(state, ib_api.OrderState):
            raise BrokerUnavailable("TWS/IB Gateway returned no preview for this order.")
        price = fields.limit_price or fields.aux_price
        cost = fields.quantity * price * request.instrument.multiplier if price is not None else None
        return OrderPreview(
            estimated_cost=cost,
            commission=ib_decimal(state.commission),
            buying_power_effect=ib_decimal(state.initMarginChange),
            warnings=(state.warningText,) if state.warningText else (),
        )

    async def cancel_order(self, ref: OrderRef) -> BrokerOrder:
        await self._ready()
        coid = ref.client_order_id
        known = self._orders.get(coid)
        if known is not None and known.status.is_terminal:
            raise OrderRejected(f"order {coid} is already {known.status.value.replace('_', ' ')} and can no longer be cancelled")
        trade = self._open_trade(coid, known)
        if trade is None:
            raise OrderNotFound(f"Interactive Brokers has no open order {coid}.")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._cancels[coid] = waiter
        try:
            try:
                self._ib.cancelOrder(trade.order)
            except ConnectionError as exc:
                raise BrokerUnavailable("Not connected to TWS/IB Gateway; the cancel was not sent.") from exc
            with contextlib.suppress(TimeoutError):
                # No answer yet: the order is returned as PENDING_CANCEL and updates keep coming.
                await asyncio.wait_for(waiter, self._timeouts.order_ack)
        finally:
            self._cancels.pop(coid, None)
        return self._orders[coid]

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        await self._ready()
        return self._orders.get(client_order_id)

    async def list_orders(self) -> list[BrokerOrder]:
        await self._ready()
        return sorted(self._orders.values(), key=lambda o: o.updated_at)

    async def positions(self) -> list[BrokerPosition]:
        await self._ready()
        rows = await self._call(self._ib.reqPositionsAsync, "positions")
        result = []
        for row in rows:
            quantity = ib_decimal(row.position)
            if row.account != self._account or not quantity:
                continue
            contract = row.contract
            result.append(
                BrokerPosition(
                    symbol=symbol_of(contract.secType, contract.symbol, contract.localSymbol),
                    asset_class=asset_class_of(contract.secType),
                    quantity=quantity,
                    average_cost=per_unit_cost(ib_decimal(row.avgCost) or Decimal(0), contract.secType, contract.multiplier),
                )
            )
        return result

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        await self._ready()
        wanted: dict[str, Any] = {}
        for text in symbols:
            try:
                instrument = parse_symbol(text)
            except SymbolError:
                log.info("IBKR quotes: skipping '%s', not a symbol", text)
                continue
            # One contract object per symbol: ib_insync keeps a ticker per contract object.
            contract = self._quote_contracts.setdefault(instrument.symbol, self._contract(instrument))
            wanted[instrument.symbol] = contract
        if not wanted:
            return {}
        failed: set[int] = set()

        def on_error(_req_id: int, code: int, _text: str, about: object) -> None:
            if about is not None and is_order_failure(code):
                failed.add(id(about))

        self._ib.errorEvent += on_error
        try:
            tickers = await self._call(
                lambda: self._ib.reqTickersAsync(*wanted.values()), "quote", self._timeouts.quotes
            )
        finally:
            self._ib.errorEvent -= on_error
        by_contract = {id(t.contract): t for t in tickers}
        result = {}
        for symbol, contract in wanted.items():
            ticker = by_contract.get(id(contract))
            if ticker is None or id(contract) in failed:
                continue
            quote = self._quote(symbol, ticker)
            if quote is not None:
                result[symbol] = quote
        return result

    async def close(self) -> None:
        self._closed = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconnect_task
        for task in list(self._background):
            task.cancel()
        self._drop_connection()
        closed = BrokerUnavailable("The Interactive Brokers connection was closed.")
        for waiter in [*self._acks.values(), *self._cancels.values()]:
            _settle(waiter, closed)
        if self._state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED, "Disconnected from TWS/IB Gateway.")

    # -- connection --------------------------------------------------------------------------

    async def _ready(self) -> None:
        """Return once connected and synced; connect now if nobody is connecting yet."""
        bind_running_loop()
        if self._closed:
            raise BrokerError("This Interactive Brokers connection was closed.")
        if self._connected.is_set():
            return
        task = self._reconnect_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=self._timeouts.reconnect_wait)
            if self._connected.is_set():
                return
            if task.done() and self._last_error is not None:
                raise type(self._last_error)(str(self._last_error))
            raise BrokerUnavailable(
                f"Lost the connection to TWS/IB Gateway at {self._endpoint_or_raise().address}; still reconnecting."
            )
        async with self._connect_lock:
            if self._connected.is_set():
                return
            endpoint = self._endpoint_or_raise()
            self._set_state(ConnectionState.CONNECTING, f"Connecting to TWS/IB Gateway at {endpoint.address}…")
            try:
                await self._connect_once()
            except BrokerError as exc:
                fatal = isinstance(exc, (EnvironmentMismatch, AuthError))
                self._set_state(ConnectionState.FAILED if fatal else ConnectionState.DISCONNECTED, str(exc))
                raise

    def _endpoint_or_raise(self) -> IbkrEndpoint:
        if self._endpoint is None:
            self._endpoint = parse_endpoint(self._credentials, self._base_url)
        return self._endpoint

    async def _connect_once(self) -> None:
        endpoint = self._endpoint_or_raise()
        handshake: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._handshake = handshake
        connect = asyncio.ensure_future(
            self._ib.connectAsync(
                endpoint.host,
                endpoint.port,
                clientId=endpoint.client_id,
                timeout=self._timeouts.connect,
                # The order syncs run in _resync, where a timeout is an error rather than a log line.
                readonly=True,
                account=endpoint.account,
            )
        )
        try:
            await asyncio.wait({connect, handshake}, return_when=asyncio.FIRST_COMPLETED)
            if handshake.done() and handshake.exception() is not None:
                raise handshake.exception()  # type: ignore[misc]
            await connect
            account = await handshake
        except BrokerError:
            raise
        except ConnectionRefusedError:
            raise BrokerUnavailable(
                f"Could not connect to TWS/IB Gateway at {endpoint.address}. Is TWS/IB Gateway running with "
                f"the API enabled on port {endpoint.port}?"
            ) from None
        except TimeoutError:
            raise BrokerUnavailable(
                f"TWS/IB Gateway at {endpoint.address} did not complete the API connection within "
                f"{self._timeouts.connect:g} s. Check that the API is enabled and no dialog is waiting in TWS."
            ) from None
        except OSError as exc:
            raise BrokerUnavailable(f"Could not reach TWS/IB Gateway at {endpoint.address}: {exc}.") from None
        finally:
            self._handshake = None
            if not connect.done():
                connect.cancel()
                await asyncio.wait({connect})
            # Both outcomes were read above or replaced by a clearer error; mark them retrieved.
            for future in (connect, handshake):
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()
        self._account = account
        try:
            self._ib.reqMarketDataType(DELAYED_WHEN_UNSUBSCRIBED)
            await self._resync()
        except (BrokerError, ConnectionError) as exc:
            self._drop_connection()
            raise BrokerUnavailable(f"Connected to TWS/IB Gateway but could not load its orders: {exc}") from None
        self._last_error = None
        self._connected.set()
        paper = " (paper)" if is_paper_account(account) else " (live)"
        self._set_state(
            ConnectionState.CONNECTED,
            f"Connected to TWS/IB Gateway at {endpoint.address}, account {mask_account(account)}{paper}.",
        )

    def _on_api_start(self) -> None:
        """ib_insync saw nextValidId and managedAccounts: check the account before any request goes out."""
        handshake = self._handshake
        if handshake is None or handshake.done():
            return
        try:
            account = choose_account(self._ib.client.getAccounts(), self._endpoint_or_raise().account, self.environment)
        except BrokerError as exc:
            handshake.set_exception(exc)
            # Closing here, before ib_insync sends its start-up requests, means a refused account is
            # never queried, let alone traded.
            self._ib.client.disconnect()
            return
        handshake.set_result(account)

    def _on_api_error(self, message: str) -> None:
        handshake = self._handshake
        # Only a close by TWS after the version handshake counts here; a failed connect attempt
        # also reports through apiError but raises its own, more precise exception.
        if handshake is None or handshake.done() or not self._ib.client.isConnected():
            return
        endpoint = self._endpoint_or_raise()
        handshake.set_exception(
            BrokerUnavailable(
                f"TWS/IB Gateway at {endpoint.address} closed the API connection. Check that this computer may "
                f"connect (Trusted IPs) and that client id {endpoint.client_id} is not used by another application."
            )
        )
        log.info("IBKR API error during connect: %s", message)

    def _on_disconnected(self) -> None:
        if self._closing or not self._connected.is_set():
            return
        self._connected.clear()
        self._session_ids.clear()
        address = self._endpoint_or_raise().address
        self._set_state(ConnectionState.RECONNECTING, f"Lost the connection to TWS/IB Gateway at {address}; reconnecting…")
        for coid, waiter in list(self._acks.items()):
            self._store(replace(self._orders[coid], status=OrderStatus.UNKNOWN, updated_at=_now()))
            _settle(
                waiter,
                OutcomeUnknown(
                    coid,
                    f"The connection to TWS/IB Gateway dropped before order {coid} was acknowledged; its status "
                    "will be checked after reconnecting, before anything is resent.",
                ),
            )
        for waiter in list(self._cancels.values()):
            _settle(waiter, BrokerUnavailable("The connection to TWS/IB Gateway dropped while cancelling; the order "
                                              "will be re-checked after reconnecting."))
        if not self._closed and (self._reconnect_task is None or self._reconnect_task.done()):
            self._reconnect_task = asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        for delay in self._reconnect_policy.delays():
            await asyncio.sleep(delay)
            if self._closed:
                return
            async with self._connect_lock:
                if self._connected.is_set():
                    return
                try:
                    await self._connect_once()
                    return
                except (EnvironmentMismatch, AuthError) as exc:
                    self._last_error = exc
                    self._set_state(ConnectionState.FAILED, str(exc))
                    return
                except BrokerError as exc:
                    self._last_error = exc
                    self._set_state(ConnectionState.RECONNECTING, f"{exc} Trying again…")

    def _drop_connection(self) -> None:
        """Disconnect on purpose: no reconnect follows."""
        self._closing = True
        try:
            self._connected.clear()
            if self._ib.client.isReady():
                self._ib.disconnect()
            else:
                self._ib.client.disconnect()
        finally:
            self._closing = False

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _call(self, start: Callable[[], Awaitable[T]], what: str, timeout: float | None = None) -> T:
        wait = timeout or self._timeouts.request
        try:
            return await asyncio.wait_for(start(), wait)
        except TimeoutError:
            raise BrokerUnavailable(f"TWS/IB Gateway did not answer the {what} request within {wait:g} s.") from None
        except ConnectionError:
            raise BrokerUnavailable(f"The connection to TWS/IB Gateway dropped during the {what} request.") from None

    # -- orders: events and re-sync ----------------------------------------------------------

    async def _resync(self) -> None:
        """Rebuild order state from TWS: open orders, completed orders, then executions."""
        expected = {coid for coid, o in self._orders.items() if not o.status.is_terminal and coid not in self._acks}
        open_trades = await self._call(self._ib.reqOpenOrdersAsync, "open orders")
        completed = await self._call(lambda: self._ib.reqCompletedOrdersAsync(False), "completed orders")
        fills = await self._call(self._ib.reqExecutionsAsync, "executions")
        seen = set()
        for trade in [*open_trades, *completed]:
            report = self._report(trade, fills)
            coid = self._coid_for(report)
            if coid is None:
                continue
            self._remember_session_id(trade, coid)
            self._apply(coid, report)
            seen.add(coid)
        for coid in expected - seen:
            order = self._orders[coid]
            if order.status in (OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN):
                # TWS has no trace of it: the request never reached TWS, so the order does not exist.
                log.info("IBKR order %s never reached TWS; forgetting it", coid)
                del self._orders[coid]
            else:
                self._store(replace(order, status=OrderStatus.UNKNOWN, reason="TWS no longer reports this order; check it in TWS.", updated_at=_now()))
        log.info("IBKR re-sync: %d open, %d completed orders, %d executions", len(open_trades), len(completed), len(fills))

    async def _resync_quietly(self) -> None:
        try:
            await self._resync()
        except BrokerError as exc:
            log.warning("IBKR re-sync after IB reconnected failed: %s", exc)

    def _on_order_status(self, trade: Any) -> None:
        if trade.log and trade.log[-1].errorCode:
            # ib_insync's own cancel after an order error; the error event right after carries the reason.
            return
        report = self._report(trade, ())
        coid = self._coid_for(report)
        if coid is None:
            return
        self._remember_session_id(trade, coid)
        order = self._apply(coid, report)
        if trade.orderStatus.status not in ("PendingSubmit", "ApiPending", "PendingCancel"):
            _settle(self._acks.get(coid))
        if order.status.is_terminal:
            _settle(self._cancels.get(coid))

    def _on_error(self, req_id: int, code: int, text: str, _contract: object) -> None:
        if code == CLIENT_ID_IN_USE:
            endpoint = self._endpoint_or_raise()
            if self._handshake is not None and not self._handshake.done():
                self._handshake.set_exception(
                    BrokerError(
                        f"Client id {endpoint.client_id} is already in use by another application connected to "
                        f"TWS/IB Gateway at {endpoint.address}. Choose a different client id in the connection settings."
                    )
                )
            return
        if req_id < 0:
            self._on_system_message(code, text)
            return
        coid = self._session_ids.get(req_id)
        if coid is not None and coid in self._orders:
            self._on_order_error(coid, code, text)

    def _on_system_message(self, code: int, text: str) -> None:
        if not self._connected.is_set():
            return
        if code in IB_LINK_LOST:
            self._set_state(
                ConnectionState.IB_UNREACHABLE,
                "TWS/IB Gateway has lost its connection to Interactive Brokers; orders cannot reach the market until "
                "it is restored.",
            )
        elif code in IB_LINK_RESTORED:
            self._set_state(ConnectionState.CONNECTED, "TWS/IB Gateway is connected to Interactive Brokers again.")
            # Orders may have filled or been cancelled while IB was unreachable.
            self._spawn(self._resync_quietly())
        else:
            log.debug("IBKR message %s: %s", code, text)

    def _on_order_error(self, coid: str, code: int, text: str) -> None:
        order = self._orders[coid]
        if code == CANCEL_CONFIRMED:
            self._apply(coid, OrderReport(coid, 0, order.symbol, "Cancelled", order.filled_quantity))
            _settle(self._cancels.get(coid))
        elif code in CANCEL_TARGET_MISSING:
            _settle(self._cancels.get(coid), OrderNotFound(f"Interactive Brokers has no open order {coid}."))
        elif code in NOT_CANCELLABLE:
            _settle(self._cancels.get(coid), OrderRejected(rejection_reason(code, text)))
        elif is_order_failure(code):
            reason = rejection_reason(code, text)
            log.info("IBKR order %s failed: %s", coid, reason)
            if order.status is not OrderStatus.FILLED:
                self._store(replace(order, status=OrderStatus.REJECTED, reason=reason, raw_status=f"Error {code}", updated_at=_now()))
            _settle(self._acks.get(coid), OrderRejected(reason))
            _settle(self._cancels.get(coid), OrderRejected(reason))
        else:
            log.info("IBKR order %s: message %s: %s", coid, code, text)

    def _report(self, trade: Any, fills: Sequence[Any]) -> OrderReport:
        order, status, contract = trade.order, trade.orderStatus, trade.contract
        perm_id = order.permId or status.permId
        filled = ib_decimal(status.filled) or Decimal(0)
        completed_quantity = ib_decimal(order.filledQuantity)
        if completed_quantity is not None and completed_quantity > filled:
            filled = completed_quantity
        average = ib_price(status.avgFillPrice)
        executions = [
            (Decimal(str(f.execution.shares)), Decimal(str(f.execution.price)))
            for f in fills
            if (perm_id and f.execution.permId == perm_id)
            or (not perm_id and order.orderRef and f.execution.orderRef == order.orderRef)
        ]
        if executions:
            executed, vwap = fill_totals(executions)
            filled = max(filled, executed)
            average = average or vwap
        return OrderReport(
            order_ref=order.orderRef,
            perm_id=perm_id,
            symbol=symbol_of(contract.secType, contract.symbol, contract.localSymbol),
            ib_status=status.status,
            filled=filled,
            avg_fill_price=average,
            quantity=ib_decimal(order.totalQuantity),
        )

    def _coid_for(self, report: OrderReport) -> str | None:
        if report.order_ref:
            return report.order_ref
        return self._perm_index.get(report.perm_id) if report.perm_id else None

    def _remember_session_id(self, trade: Any, coid: str) -> None:
        endpoint = self._endpoint
        if endpoint is not None and trade.order.clientId == endpoint.client_id and trade.order.orderId > 0:
            self._session_ids[trade.order.orderId] = coid

    def _apply(self, coid: str, report: OrderReport) -> BrokerOrder:
        previous = self._orders.get(coid)
        order = merge_report(previous, replace(report, order_ref=coid), _now())
        if report.perm_id:
            self._perm_index[report.perm_id] = coid
        if previous is None or replace(previous, updated_at=order.updated_at) != order:
            self._store(order)
        return self._orders[coid]

    def _store(self, order: BrokerOrder) -> None:
        self._orders[order.client_order_id] = order
        for listener in list(self._order_listeners):
            try:
                listener(order)
            except Exception:
                log.exception("IBKR order listener failed")

    def _open_trade(self, coid: str, known: BrokerOrder | None) -> Any | None:
        perm_id = int(known.broker_order_id) if known is not None and known.broker_order_id.isdigit() else 0
        for trade in self._ib.openTrades():
            if trade.order.orderRef == coid or (perm_id and trade.order.permId == perm_id):
                return trade
        return None

    # -- ib_insync objects -------------------------------------------------------------------

    @staticmethod
    def _contract(instrument: Instrument) -> Any:
        fields = contract_fields(instrument)
        return ib_api.Contract(
            secType=fields.sec_type,
            symbol=fields.symbol,
            localSymbol=fields.local_symbol,
            exchange=fields.exchange,
            currency=fields.currency,
        )

    @staticmethod
    def _order(fields: OrderFields) -> Any:
        # ib_insync's order fields are floats and go on the wire as str(float), whose shortest repr
        # reproduces the decimal price exactly.
        prices: dict[str, float] = {}
        if fields.limit_price is not None:
            prices["lmtPrice"] = float(fields.limit_price)
        if fields.aux_price is not None:
            prices["auxPrice"] = float(fields.aux_price)
        return ib_api.Order(
            action=fields.action,
            totalQuantity=float(fields.quantity),
            orderType=fields.order_type,
            tif=fields.tif,
            outsideRth=fields.outside_rth,
            orderRef=fields.order_ref,
            account=fields.account,
            **prices,
        )

    @staticmethod
    def _quote(symbol: str, ticker: Any) -> Quote | None:
        bid, ask, last = ib_price(ticker.bid), ib_price(ticker.ask), ib_price(ticker.last)
        if bid is None and ask is None and last is None:
            return None
        stamp = ticker.time if isinstance(ticker.time, datetime) and ticker.time.tzinfo else _now()
        return Quote(
            symbol=symbol,
            bid=bid,
            ask=ask,
            last=last,
            timestamp=stamp,
            bid_size=ib_decimal(ticker.bidSize) if bid is not None else None,
            ask_size=ib_decimal(ticker.askSize) if ask is not None else None,
        )


_PORT_HELP = ", ".join(f"{name} {port}" for port, name in PORT_PRESETS.items())

SPEC = BrokerSpec(
    key="ibkr",
    display_name="Interactive Brokers",
    factory=IbkrBroker,
    fields=(
        CredentialField("host", "Host", help="Computer running TWS or IB Gateway.", default=DEFAULT_HOST),
        CredentialField(
            "port",
            "API port",
            help=f"The socket port set in TWS/IB Gateway API settings: {_PORT_HELP}.",
            default="7497",
            choices=tuple(PORT_PRESETS),
        ),
        CredentialField(
            "client_id",
            "Client ID",
            help="Any number not used by another API application on the same TWS; 0 also receives manual TWS orders.",
            default="1",
        ),
        CredentialField(
            "account",
            "Account",
            help="Only needed when your login manages several accounts (e.g. DU1234567).",
            required=False,
        ),
    ),
    capabilities=Capabilities(options=True, stop_limit=True, preview=True, extended_hours=True, fractional=False),
    docs="docs/brokers/ibkr.md",
)
