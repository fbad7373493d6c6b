"""Order tracking for the IBKR connector: our orders keyed by orderRef, fed by TWS events and re-syncs.

Orders are matched by orderRef (our client order id) or permId (TWS's permanent id), never by the
orderId alone: orderIds are per API client and start again after TWS restarts, so another client's
order can carry the same number. The only orderId lookup is for this client's orders in the current
session, because TWS names an order by orderId alone in its error messages.

Reads ib_insync's Trade/Fill objects by attribute; it does not import the library.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from app.brokers.base import BrokerOrder, BrokerUnavailable, OrderNotFound, OrderRejected, OutcomeUnknown
from app.brokers.ibkr.parse import (
    CANCEL_CONFIRMED,
    CANCEL_TARGET_MISSING,
    NOT_CANCELLABLE,
    OrderReport,
    fill_totals,
    ib_decimal,
    ib_price,
    is_order_failure,
    merge_report,
    ordered_terms,
    rejection_reason,
    side_of,
    symbol_of,
)
from app.domain.models import OrderStatus, Side

log = logging.getLogger(__name__)

OrderListener = Callable[[BrokerOrder], None]
_UNACKNOWLEDGED = frozenset({"PendingSubmit", "ApiPending", "PendingCancel"})
#: Orders without our orderRef (entered in TWS, or by an API client that sets none) are kept under
#: their permId and reported with an empty client order id, like the REST brokers' untagged orders.
_EXTERNAL = "perm:"


def _public(order: BrokerOrder) -> BrokerOrder:
    return replace(order, client_order_id="") if order.client_order_id.startswith(_EXTERNAL) else order


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _settle(waiter: asyncio.Future[None] | None, error: BaseException | None = None) -> None:
    if waiter is None or waiter.done():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)


def report_from_trade(trade: Any, fills: Sequence[Any] = ()) -> OrderReport:
    """What an ib_insync Trade (open or completed) says, completed by executions of the same permId."""
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
    kind, limit_price, stop_price, tif = ordered_terms(order.orderType, order.lmtPrice, order.auxPrice, order.tif)
    return OrderReport(
        order_ref=order.orderRef,
        perm_id=perm_id,
        symbol=symbol_of(contract.secType, contract.symbol, contract.localSymbol),
        ib_status=status.status,
        filled=filled,
        avg_fill_price=average,
        quantity=ib_decimal(order.totalQuantity),
        side=side_of(order.action),
        order_type=kind,
        limit_price=limit_price,
        stop_price=stop_price,
        time_in_force=tif,
        commission=commission_of([*trade.fills, *fills], perm_id, order.orderRef),
    )


def commission_of(fills: Iterable[Any], perm_id: int, order_ref: str) -> Decimal | None:
    """The commission TWS reported for this order's executions (each counted once); None before any report."""
    reported: dict[str, Decimal] = {}
    for fill in fills:
        execution, report = fill.execution, fill.commissionReport
        mine = (perm_id and execution.permId == perm_id) or (not perm_id and order_ref and execution.orderRef == order_ref)
        if mine and report is not None and report.execId:
            reported[execution.execId] = Decimal(str(report.commission))
    return sum(reported.values(), Decimal(0)) if reported else None


class IbkrOrderBook:
    """Every order we know of, plus the requests (place, cancel) waiting for TWS's first answer."""

    def __init__(self) -> None:
        self._orders: dict[str, BrokerOrder] = {}
        self._perm_index: dict[int, str] = {}
        self._session_ids: dict[int, str] = {}
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._cancels: dict[str, asyncio.Future[None]] = {}
        self._modifies: dict[str, asyncio.Future[None]] = {}
        self._listeners: list[OrderListener] = []

    def add_listener(self, listener: OrderListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def get(self, client_order_id: str) -> BrokerOrder | None:
        return self._orders.get(client_order_id)

    def current(self, client_order_id: str) -> BrokerOrder:
        """The order as last reported; for orders this connector is placing or cancelling right now."""
        order = self._orders.get(client_order_id)
        if order is None:
            raise OrderNotFound(f"Interactive Brokers has no order {client_order_id}.")
        return order

    def all(self) -> list[BrokerOrder]:
        return [_public(o) for o in sorted(self._orders.values(), key=lambda o: o.updated_at)]

    # -- requests in flight ------------------------------------------------------------------

    def expect_placement(self, order: BrokerOrder) -> asyncio.Future[None]:
        """Record an order about to be sent; the future settles on TWS's first answer."""
        self._orders[order.client_order_id] = order
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[order.client_order_id] = ack
        return ack

    def sent(self, client_order_id: str, order_id: int) -> None:
        self._session_ids[order_id] = client_order_id

    def not_sent(self, client_order_id: str) -> None:
        self._acks.pop(client_order_id, None)
        self._orders.pop(client_order_id, None)

    def placement_done(self, client_order_id: str) -> None:
        self._acks.pop(client_order_id, None)

    def expect_cancel(self, client_order_id: str) -> asyncio.Future[None]:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._cancels[client_order_id] = waiter
        return waiter

    def cancel_done(self, client_order_id: str) -> None:
        self._cancels.pop(client_order_id, None)

    def expect_modify(self, client_order_id: str) -> asyncio.Future[None]:
        """A change of a live order is about to be sent; the future settles on TWS's answer to it."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._modifies[client_order_id] = waiter
        return waiter

    def modify_done(self, client_order_id: str) -> None:
        self._modifies.pop(client_order_id, None)

    def connection_lost(self) -> None:
        """The socket dropped: unanswered orders become UNKNOWN until the re-sync proves their fate."""
        self._session_ids.clear()
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
        lost = "The connection to TWS/IB Gateway dropped while cancelling; the order will be re-checked after reconnecting."
        for waiter in list(self._cancels.values()):
            _settle(waiter, BrokerUnavailable(lost))
        for coid, waiter in list(self._modifies.items()):
            _settle(
                waiter,
                OutcomeUnknown(
                    coid,
                    f"The connection to TWS/IB Gateway dropped before the change of order {coid} was acknowledged; "
                    "it will be checked after reconnecting, before anything is resent.",
                ),
            )

    def close(self) -> None:
        closed = BrokerUnavailable("The Interactive Brokers connection was closed.")
        for waiter in [*self._acks.values(), *self._cancels.values(), *self._modifies.values()]:
            _settle(waiter, closed)

    # -- TWS events --------------------------------------------------------------------------

    def on_status(self, trade: Any, client_id: int) -> None:
        """An orderStatus from TWS (or ib_insync's own PendingCancel) for any order."""
        if trade.log and trade.log[-1].errorCode:
            # ib_insync's own cancel after an order error; the error event right after carries the reason.
            return
        report = report_from_trade(trade)
        coid = self._coid_for(report)
        if coid is None:
            return
        self._remember_session_id(trade, coid, client_id)
        order = self._apply(coid, report)
        if trade.orderStatus.status not in _UNACKNOWLEDGED:
            _settle(self._acks.get(coid))
        if order.status.is_terminal:
            _settle(self._cancels.get(coid))
            _settle(self._modifies.get(coid))

    def on_open_order(self, trade: Any, client_id: int) -> None:
        """An openOrder outside a request: TWS's answer to a modification (new size and prices)."""
        report = report_from_trade(trade)
        coid = self._coid_for(report)
        if coid is None or coid not in self._modifies:
            # New orders are followed through their orderStatus, which comes right after.
            return
        self._remember_session_id(trade, coid, client_id)
        self._apply(coid, report)
        _settle(self._modifies.get(coid))

    def on_commission(self, trade: Any) -> None:
        """A commission report for one of an order's executions (TWS sends it after the execution)."""
        report = report_from_trade(trade)
        coid = self._coid_for(report)
        if coid is not None and coid in self._orders:
            self._apply(coid, report)

    def on_error(self, order_id: int, code: int, text: str) -> None:
        """An error whose reqId is an orderId of ours in this session."""
        coid = self._session_ids.get(order_id)
        order = self._orders.get(coid) if coid is not None else None
        if coid is None or order is None:
            return
        modify = self._modifies.get(coid)
        if modify is not None and not modify.done() and is_order_failure(code) and code not in CANCEL_TARGET_MISSING:
            # A refused change leaves the order working as it was.
            _settle(modify, OrderRejected(rejection_reason(code, text)))
            return
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
                self._store(replace(order, status=OrderStatus.REJECTED, reason=reason, raw_status=f"Error {code}",
                                    updated_at=_now()))
            _settle(self._acks.get(coid), OrderRejected(reason))
            _settle(self._cancels.get(coid), OrderRejected(reason))
        else:
            log.info("IBKR order %s: message %s: %s", coid, code, text)

    # -- re-sync -----------------------------------------------------------------------------

    def awaiting_resync(self) -> set[str]:
        """Unfinished orders whose fate the next re-sync must establish (not those being placed now)."""
        return {coid for coid, o in self._orders.items() if not o.status.is_terminal and coid not in self._acks}

    def reconcile(self, trades: Iterable[Any], fills: Sequence[Any], expected: set[str], client_id: int) -> None:
        """Fold TWS's open and completed orders and executions in; judge the expected orders TWS lacks.

        Each source may lack an order the others carry (TWS need not replay a completed order, and an
        order filled while we were away is in no open list), so an order is only judged absent when
        all three lack it; executions matched by orderRef alone prove an order exists and what filled.
        """
        seen = set()
        for trade in trades:
            report = report_from_trade(trade, fills)
            coid = self._coid_for(report)
            if coid is None:
                continue
            self._remember_session_id(trade, coid, client_id)
            self._apply(coid, report)
            seen.add(coid)
        for coid, executions in self._executions_without_order(fills, seen).items():
            self._apply(coid, self._report_from_executions(coid, executions))
            seen.add(coid)
        for coid in expected - seen:
            order = self._orders[coid]
            if order.status in (OrderStatus.PENDING_SUBMIT, OrderStatus.UNKNOWN):
                # TWS has no trace of it: the request never reached TWS, so the order does not exist.
                log.info("IBKR order %s never reached TWS; forgetting it", coid)
                del self._orders[coid]
            else:
                self._store(replace(order, status=OrderStatus.UNKNOWN, updated_at=_now(),
                                    reason="TWS no longer reports this order; check it in TWS."))

    def _executions_without_order(self, fills: Sequence[Any], seen: set[str]) -> dict[str, list[Any]]:
        """Executions of orders that neither the open nor the completed orders carried, by our id."""
        found: dict[str, list[Any]] = {}
        for fill in fills:
            execution = fill.execution
            coid = execution.orderRef or self._perm_index.get(execution.permId or 0)
            if coid and coid not in seen:
                found.setdefault(coid, []).append(fill)
        return found

    def _report_from_executions(self, coid: str, fills: Sequence[Any]) -> OrderReport:
        """What executions alone say: the quantity filled and its average price; filled only when that
        is the order's whole size (known when it was placed in this session), else unknown."""
        unique = {f.execution.execId: f for f in fills}.values()
        filled, average = fill_totals(
            (Decimal(str(f.execution.shares)), Decimal(str(f.execution.price))) for f in unique
        )
        first = next(iter(unique))
        contract = first.contract
        known = self._orders.get(coid)
        quantity = known.quantity if known is not None else None
        if quantity is not None and filled >= quantity:
            status, reason = "Filled", ""
        else:
            # Not among the open orders, so not working; whether the rest was cancelled TWS does not say.
            status, reason = "", "TWS reports executions of this order but not the order; check the rest in TWS."
        log.info("IBKR order %s re-synced from %d execution(s): %s filled", coid, len(unique), filled)
        return OrderReport(
            order_ref=coid,
            perm_id=first.execution.permId,
            symbol=symbol_of(contract.secType, contract.symbol, contract.localSymbol),
            ib_status=status,
            filled=filled,
            avg_fill_price=average,
            quantity=quantity,
            reason=reason,
            side={"BOT": Side.BUY, "SLD": Side.SELL}.get(first.execution.side),
            commission=commission_of(unique, first.execution.permId, coid),
        )

    def find_trade(self, client_order_id: str, trades: Iterable[Any], broker_order_id: str | None = None) -> Any | None:
        """The open ib_insync Trade for an order, by our orderRef or by permId."""
        known = self._orders.get(client_order_id) if client_order_id else None
        perm_text = known.broker_order_id if known is not None else (broker_order_id or "")
        perm_id = int(perm_text) if perm_text.isdigit() else 0
        for trade in trades:
            by_ref = bool(client_order_id) and trade.order.orderRef == client_order_id
            if by_ref or (perm_id and (trade.order.permId or trade.orderStatus.permId) == perm_id):
                return trade
        return None

    # -- internals ---------------------------------------------------------------------------

    def _coid_for(self, report: OrderReport) -> str | None:
        if report.order_ref:
            return report.order_ref
        if not report.perm_id:
            return None
        return self._perm_index.get(report.perm_id) or f"{_EXTERNAL}{report.perm_id}"

    def _remember_session_id(self, trade: Any, coid: str, client_id: int) -> None:
        if trade.order.clientId == client_id and trade.order.orderId > 0:
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
        shown = _public(order)
        for listener in list(self._listeners):
            try:
                listener(shown)
            except Exception:
                log.exception("IBKR order listener failed")
