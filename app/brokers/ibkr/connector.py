"""Interactive Brokers connector: TWS / IB Gateway over the socket API through ib_insync, on the app's loop.

This is the only module that imports ib_insync; moving to its maintained fork ib_async (same API)
means changing the import below (see docs/brokers/ibkr.md). Only the library's ``*Async`` calls are
used, awaited on the app's running loop: no ``util.startLoop``, ``patchAsyncio``, ``useQt`` or
``nest_asyncio``. Pure mappings live in ``parse``, the connection life cycle in
``session`` and order tracking in ``orders``; those two only use the objects handed to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from app.brokers.base import (
    AccountInfo,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerUnavailable,
    HistoryNotOffered,
    Environment,
    OrderNotFound,
    OrderPreview,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    check_change,
)
from app.brokers.ibkr.parse import (
    CLIENT_ID_IN_USE,
    IbkrEndpoint,
    OrderFields,
    account_info,
    asset_class_of,
    contract_fields,
    ib_decimal,
    ib_price,
    is_order_failure,
    modified_fields,
    order_fields,
    parse_endpoint,
    per_unit_cost,
    rejection_reason,
    symbol_of,
    ticker_quote,
)
from app.brokers.ibkr.stream import IbkrQuoteStream
from app.brokers.ibkr.bars import BAR_SIZES, parse_ibkr_bars, what_to_show
from app.brokers.ibkr.bars import duration as bar_duration
from app.brokers.ibkr.orders import IbkrOrderBook, OrderListener
from app.brokers.ibkr.session import (
    ConnectionEvent,
    ConnectionListener,
    ConnectionState,
    IbkrSession,
    IbkrTimeouts,
    ReconnectPolicy,
    bind_running_loop,
    request,
)
from app.domain.equity_curve import EquityPoint
from app.domain.models import Bar, BarInterval, Instrument, OrderChange, OrderRequest, OrderStatus, Quote
from app.domain.symbols import SymbolError, parse_symbol

bind_running_loop()
with warnings.catch_warnings():
    # eventkit 1.0.3 calls get_event_loop() at import; Python 3.12+ warns when no loop is set yet.
    warnings.filterwarnings("ignore", "There is no current event loop", DeprecationWarning)
    import ib_insync as ib_api  # noqa: E402

__all__ = [
    "ConnectionEvent", "ConnectionState", "IbkrBroker", "IbkrTimeouts", "ReconnectPolicy", "bind_running_loop",
    "ib_api",
]

log = logging.getLogger(__name__)

#: reqMarketDataType 3: live data where the trader has a subscription, delayed data elsewhere.
DELAYED_WHEN_UNSUBSCRIBED = 3


class IbkrBroker:
    """The broker protocol over a running TWS or IB Gateway (see app/brokers/base.py for the contract).

    Besides the protocol it pushes connection-state changes and order updates to plain callbacks
    (``add_connection_listener``, ``add_order_listener``) so the controller can show them.
    Orders are tracked by our client order id, carried in IB's ``orderRef``; after a reconnect they
    are re-synced from TWS's open orders, completed orders and executions (see ``orders``).
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
        self._timeouts = timeouts
        self._endpoint: IbkrEndpoint | None = None
        self._ib = ib_api.IB()
        self._orders = IbkrOrderBook()
        self._session = IbkrSession(
            self._ib,
            self._endpoint_or_raise,
            environment,
            reconnect=reconnect,
            timeouts=timeouts,
            after_connect=self._after_connect,
            on_lost=self._orders.connection_lost,
            on_restored=self._resync_in_background,
        )
        self._ib.orderStatusEvent += self._on_order_status
        self._ib.openOrderEvent += self._on_open_order
        self._ib.errorEvent += self._on_error
        self._ib.commissionReportEvent += self._on_commission
        self._quote_contracts: dict[str, Any] = {}
        self._background: set[asyncio.Task[None]] = set()

    # -- observers ---------------------------------------------------------------------------

    @property
    def connection_state(self) -> ConnectionState:
        return self._session.state

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call ``listener`` on every connection-state change; returns a function that unsubscribes."""
        return self._session.add_listener(listener)

    def add_order_listener(self, listener: OrderListener) -> Callable[[], None]:
        """Call ``listener`` with every order update as TWS pushes it; returns an unsubscribe function."""
        return self._orders.add_listener(listener)

    # -- the broker protocol -----------------------------------------------------------------

    async def verify(self) -> AccountInfo:
        await self._session.ready()
        account = self._session.account
        values = await self._call(lambda: self._ib.accountSummaryAsync(account), "account summary")
        return account_info(account, ((v.tag, v.value, v.currency) for v in values))

    async def place_order(self, request: OrderRequest) -> BrokerOrder:
        await self._session.ready()
        coid = request.client_order_id
        if self._orders.get(coid) is not None:
            raise BrokerError(f"Order {coid} was already sent to Interactive Brokers; look it up instead of resending it.")
        contract = self._contract(request.instrument)
        order = self._order(order_fields(request, self._session.account))
        ack = self._orders.expect_placement(
            BrokerOrder(
                client_order_id=coid,
                broker_order_id="",
                symbol=request.symbol,
                status=OrderStatus.PENDING_SUBMIT,
                filled_quantity=Decimal(0),
                average_fill_price=None,
                updated_at=datetime.now(timezone.utc),
                quantity=request.quantity,
                raw_status="PendingSubmit",
            )
        )
        try:
            try:
                trade = self._ib.placeOrder(contract, order)
            except ConnectionError as exc:
                self._orders.not_sent(coid)
                raise BrokerUnavailable("Not connected to TWS/IB Gateway; the order was not sent.") from exc
            self._orders.sent(coid, trade.order.orderId)
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
            self._orders.placement_done(coid)
        return self._orders.current(coid)

    async def preview_order(self, request: OrderRequest) -> OrderPreview:
        await self._session.ready()
        contract = self._contract(request.instrument)
        fields = order_fields(request, self._session.account)
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
        await self._session.ready()
        coid = ref.client_order_id
        known = self._orders.get(coid)
        if known is not None and known.status.is_terminal:
            raise OrderRejected(f"order {coid} is already {known.status.value.replace('_', ' ')} and can no longer be cancelled")
        trade = self._orders.find_trade(coid, self._ib.openTrades(), ref.broker_order_id)
        if trade is None:
            raise OrderNotFound(f"Interactive Brokers has no open order {coid}.")
        waiter = self._orders.expect_cancel(coid)
        try:
            try:
                self._ib.cancelOrder(trade.order)
            except ConnectionError as exc:
                raise BrokerUnavailable("Not connected to TWS/IB Gateway; the cancel was not sent.") from exc
            with contextlib.suppress(TimeoutError):
                # No answer yet: the order is returned as PENDING_CANCEL and updates keep coming.
                await asyncio.wait_for(waiter, self._timeouts.order_ack)
        finally:
            self._orders.cancel_done(coid)
        return self._orders.current(coid)

    async def replace_order(self, ref: OrderRef, change: OrderChange) -> BrokerOrder:
        """Re-place the live order under the same orderId with the new size and/or prices (TWS's modify).

        Only this API client can modify its orders; TWS answers with openOrder (and orderStatus), or
        with an error that leaves the order as it was (104 filled, 105 mismatch, 201 rejected)."""
        await self._session.ready()
        coid = ref.client_order_id
        check_change(change, broker="Interactive Brokers")
        known = self._orders.get(coid)
        if known is not None and known.status.is_terminal:
            raise OrderRejected(f"order {coid} is already {known.status.value.replace('_', ' ')} and can't be changed")
        trade = self._orders.find_trade(coid, self._ib.openTrades(), ref.broker_order_id)
        if trade is None or trade.isDone():
            raise OrderNotFound(f"Interactive Brokers has no open order {coid}.")
        if trade.order.clientId != self._endpoint_or_raise().client_id or trade.order.orderId <= 0:
            raise OrderRejected("this order was placed in TWS or by another application; change it there")
        try:
            fields = modified_fields(trade.order.orderType, ib_decimal(trade.orderStatus.filled) or Decimal(0), change)
        except ValueError as exc:
            raise OrderRejected(str(exc)) from None
        order = copy.copy(trade.order)
        if fields.quantity is not None:
            order.totalQuantity = float(fields.quantity)
        if fields.limit_price is not None:
            order.lmtPrice = float(fields.limit_price)
        if fields.aux_price is not None:
            order.auxPrice = float(fields.aux_price)
        waiter = self._orders.expect_modify(coid)
        try:
            try:
                self._ib.placeOrder(trade.contract, order)
            except ConnectionError as exc:
                raise BrokerUnavailable("Not connected to TWS/IB Gateway; the change was not sent.") from exc
            log.info("IBKR order %s: change sent (orderId %s)", coid, order.orderId)
            try:
                await asyncio.wait_for(waiter, self._timeouts.order_ack)
            except TimeoutError:
                raise OutcomeUnknown(
                    coid,
                    f"TWS/IB Gateway did not answer the change of order {coid} within "
                    f"{self._timeouts.order_ack:g} s; it will be checked before anything is resent.",
                ) from None
            except OrderRejected:
                # ib_insync marks the order cancelled on any order error; TWS's own view puts it right.
                await self._resync()
                raise
        finally:
            self._orders.modify_done(coid)
        return self._orders.current(coid)

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        await self._session.ready()
        return self._orders.get(client_order_id)

    async def list_orders(self) -> list[BrokerOrder]:
        """Re-read TWS first: orders entered in TWS or by other API clients send this client no events."""
        await self._session.ready()
        await self._resync()
        return self._orders.all()

    async def positions(self) -> list[BrokerPosition]:
        await self._session.ready()
        rows = await self._call(self._ib.reqPositionsAsync, "positions")
        result = []
        for row in rows:
            quantity = ib_decimal(row.position)
            if row.account != self._session.account or not quantity:
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
        await self._session.ready()
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
            tickers = await self._call(lambda: self._ib.reqTickersAsync(*wanted.values()), "quote", self._timeouts.quotes)
        finally:
            self._ib.errorEvent -= on_error
        by_contract = {id(t.contract): t for t in tickers}
        result = {}
        for symbol, contract in wanted.items():
            ticker = by_contract.get(id(contract))
            if ticker is None or id(contract) in failed:
                continue
            quote = ticker_quote(symbol, ticker)
            if quote is not None:
                result[symbol] = quote
        return result

    def quote_stream(self) -> IbkrQuoteStream:
        """Market-data ticks on this connection (``reqMktData`` subscriptions), see ``stream.py``."""
        return IbkrQuoteStream(self._ib, self._session, self._contract)

    async def bars(self, symbol: str, interval: BarInterval, start: datetime, end: datetime) -> list[Bar]:
        """Historical bars through ``reqHistoricalData`` (see ``app/brokers/ibkr/bars.py``)."""
        await self._session.ready()
        try:
            instrument = parse_symbol(symbol)
        except SymbolError as exc:
            raise BrokerUnavailable(str(exc)) from exc
        contract = self._contract(instrument)
        rows = await self._call(
            lambda: self._ib.reqHistoricalDataAsync(
                contract,
                endDateTime=end,
                durationStr=bar_duration(start, end),
                barSizeSetting=BAR_SIZES[interval],
                whatToShow=what_to_show(instrument.is_option),
                useRTH=False,
                formatDate=2,
            ),
            "historical bars",
            self._timeouts.quotes,
        )
        return [bar for bar in parse_ibkr_bars(rows or [], instrument.symbol, interval) if bar.start < end]

    async def equity_history(self, since: datetime) -> list[EquityPoint]:
        """The TWS API gives the account's values now, not their history (docs/brokers/ibkr.md); the app
        builds the curve from the balances it reads itself."""
        if self._session.closed:
            raise BrokerUnavailable("This Interactive Brokers connection was closed.")
        raise HistoryNotOffered("Interactive Brokers gives no history of the account's value through its API.")

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self._session.close()
        self._orders.close()

    # -- connection hooks and events ---------------------------------------------------------

    def _endpoint_or_raise(self) -> IbkrEndpoint:
        if self._endpoint is None:
            self._endpoint = parse_endpoint(self._credentials, self._base_url)
        return self._endpoint

    async def _call(self, start: Callable[[], Awaitable[Any]], what: str, timeout: float | None = None) -> Any:
        return await request(start, what, timeout or self._timeouts.request)

    async def _after_connect(self) -> None:
        self._ib.reqMarketDataType(DELAYED_WHEN_UNSUBSCRIBED)
        await self._resync()

    async def _resync(self) -> None:
        """Rebuild order state from TWS: every open order (any client's, and TWS's own), completed orders,
        then executions."""
        expected = self._orders.awaiting_resync()
        open_trades = await self._call(self._ib.reqAllOpenOrdersAsync, "open orders")
        completed = await self._call(lambda: self._ib.reqCompletedOrdersAsync(False), "completed orders")
        fills = await self._call(self._ib.reqExecutionsAsync, "executions")
        self._orders.reconcile([*open_trades, *completed], fills, expected, self._endpoint_or_raise().client_id)
        log.info("IBKR re-sync: %d open, %d completed orders, %d executions", len(open_trades), len(completed), len(fills))

    def _resync_in_background(self) -> None:
        async def resync() -> None:
            try:
                await self._resync()
            except BrokerError as exc:
                log.warning("IBKR re-sync after IB reconnected failed: %s", exc)

        task = asyncio.ensure_future(resync())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_order_status(self, trade: Any) -> None:
        self._orders.on_status(trade, self._endpoint_or_raise().client_id)

    def _on_open_order(self, trade: Any) -> None:
        self._orders.on_open_order(trade, self._endpoint_or_raise().client_id)

    def _on_commission(self, trade: Any, _fill: object, _report: object) -> None:
        self._orders.on_commission(trade)

    def _on_error(self, req_id: int, code: int, text: str, _contract: object) -> None:
        if req_id < 0 or code == CLIENT_ID_IN_USE:
            self._session.on_system_message(code, text)
        else:
            self._orders.on_error(req_id, code, text)

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

