"""Rules for following a live order: applying broker reports, deriving fills, unknown outcomes and backoff.

Pure functions of their inputs. A broker report never moves an order backwards: the filled quantity
only grows, a finished order does not reopen, and a report older than what is known changes nothing.
Fills are derived from the growth of the cumulative filled quantity, keyed by the order and that
cumulative quantity, so the same execution reported twice (or reported again after a restart, or by a
second source such as reconciliation) is recorded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from app.domain.models import Fill, Order, OrderRequest, OrderStatus, TradingMode

CHECKING_REASON = "checking with the broker…"
NOT_FOUND_REASON = "not found at broker — check your broker"
NOT_FOLLOWED_REASON = "not followed while disconnected"
SUBMITTING_REASON = "sending to the broker…"
CHANGE_CHECKING_REASON = "change sent, no answer: checking with the broker…"
#: Reasons the app itself puts on an order while it can't know the broker's view; a broker report replaces them.
APP_REASONS = frozenset(
    {CHECKING_REASON, NOT_FOUND_REASON, NOT_FOLLOWED_REASON, SUBMITTING_REASON, CHANGE_CHECKING_REASON}
)


@dataclass(frozen=True, slots=True)
class BrokerReport:
    """What a broker says about one order, reduced to what the journal follows."""

    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    updated_at: datetime
    broker_order_id: str | None = None
    reason: str = ""
    #: The order's size and prices as the broker reports them (None where it does not say): a change
    #: made at the broker, by the app or elsewhere, shows in the journal from the next report.
    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    #: The commission of all the order's executions so far, where the broker reports it (IBKR).
    commission: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """The order after a report, and the fills the report proved (empty when nothing new was filled)."""

    order: Order
    fills: tuple[Fill, ...] = ()
    changed: bool = False


_WORKING_RANK = {
    OrderStatus.PENDING_SUBMIT: 0,
    OrderStatus.UNKNOWN: 0,
    OrderStatus.NEW: 1,
    OrderStatus.PARTIALLY_FILLED: 2,
    OrderStatus.PENDING_CANCEL: 3,
}


def fill_key(client_order_id: str, cumulative: Decimal) -> str:
    """The idempotent key of the execution that brought an order to ``cumulative`` filled."""
    return f"{client_order_id}@{cumulative.normalize():f}"


def apply_report(order: Order, report: BrokerReport) -> LiveUpdate:
    """The order as the broker now reports it, plus any fill the report proves; stale reports change nothing."""
    old_filled = order.filled_quantity
    new_filled = report.filled_quantity
    if new_filled < old_filled:
        return LiveUpdate(order)
    grew = new_filled > old_filled
    status = _next_status(order.status, report.status, grew, new_filled)
    if status is None:
        return LiveUpdate(order)
    average = report.average_fill_price if report.average_fill_price is not None else order.average_fill_price
    reason = report.reason if status.is_terminal or report.reason else _kept_reason(order)
    updated = replace(
        order,
        request=reported_request(order.request, report, new_filled),
        status=status,
        filled_quantity=new_filled,
        average_fill_price=average,
        # A broker that replaces an order by a new one (Alpaca, Tastytrade) reports the working one's id.
        broker_order_id=report.broker_order_id or order.broker_order_id,
        status_reason=reason,
        updated_at=max(order.updated_at, report.updated_at),
    )
    fills: tuple[Fill, ...] = ()
    if grew:
        fills = (_fill(order, new_filled, _increment_price(order, new_filled, report.average_fill_price), report),)
    changed = (
        updated.request != order.request
        or updated.status is not order.status
        or grew
        or updated.broker_order_id != order.broker_order_id
        or updated.status_reason != order.status_reason
        or updated.average_fill_price != order.average_fill_price
    )
    return LiveUpdate(updated if changed else order, fills, changed)


def reported_request(request: OrderRequest, report: BrokerReport, filled: Decimal) -> OrderRequest:
    """The request with the size and prices the broker reports, where it reports them and they fit the order."""
    quantity = report.quantity if report.quantity is not None and report.quantity >= filled else request.quantity
    limit = report.limit_price if report.limit_price is not None and request.order_type.needs_limit else None
    stop = report.stop_price if report.stop_price is not None and request.order_type.needs_stop else None
    if quantity == request.quantity and limit in (None, request.limit_price) and stop in (None, request.stop_price):
        return request
    return replace(
        request,
        quantity=quantity,
        limit_price=request.limit_price if limit is None else limit,
        stop_price=request.stop_price if stop is None else stop,
    )


def _kept_reason(order: Order) -> str:
    return "" if order.status_reason in APP_REASONS else order.status_reason


def _next_status(current: OrderStatus, reported: OrderStatus, grew: bool, filled: Decimal) -> OrderStatus | None:
    """The status to show after a report, or None when the report is older than what is known."""
    if current.is_terminal:
        # A cancel that raced a fill: the broker's later word that more was filled wins.
        if grew and reported.is_terminal:
            return reported
        return None
    if reported.is_terminal:
        return reported
    if reported in (OrderStatus.UNKNOWN, OrderStatus.PENDING_SUBMIT):
        return None if current not in (OrderStatus.UNKNOWN, OrderStatus.PENDING_SUBMIT) else current
    target = reported
    if filled > 0 and reported is OrderStatus.NEW:
        target = OrderStatus.PARTIALLY_FILLED
    if _WORKING_RANK.get(target, 0) < _WORKING_RANK.get(current, 0) and not grew:
        if current is OrderStatus.PENDING_CANCEL and target in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            # The broker refused the cancel and the order works on.
            return target
        return None
    return target


def _increment_price(order: Order, new_filled: Decimal, new_average: Decimal | None) -> Decimal:
    """The price of the shares added since the last report, from the two cumulative averages."""
    if new_average is None:
        return order.average_fill_price or Decimal(0)
    old_filled = order.filled_quantity
    if old_filled == 0 or order.average_fill_price is None:
        return new_average
    value = new_average * new_filled - order.average_fill_price * old_filled
    return (value / (new_filled - old_filled)).quantize(Decimal("0.000001")).normalize()


def _fill(order: Order, cumulative: Decimal, price: Decimal, report: BrokerReport) -> Fill:
    return Fill(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.request.side,
        quantity=cumulative - order.filled_quantity,
        price=price,
        commission=Decimal(0),
        filled_at=report.updated_at,
        fill_id=fill_key(order.client_order_id, cumulative),
    )


def commission_corrections(booked: Sequence[Fill], reported_total: Decimal) -> list[Fill]:
    """The fills whose commission must change so the order's fills add up to the broker's total.

    A broker reports an execution's commission after the execution itself (IBKR's commission report
    follows its execDetails), so the difference belongs to the newest fill. ``booked`` is in the order
    the fills were recorded; a total already accounted for changes nothing.
    """
    if not booked:
        return []
    delta = reported_total - sum((f.commission for f in booked), Decimal(0))
    if delta == 0:
        return []
    newest = booked[-1]
    return [replace(newest, commission=newest.commission + delta)]


def pending_live_order(
    request: OrderRequest, *, broker: str, account_last4: str, now: datetime
) -> Order:
    """The journal row written before a live request leaves the app."""
    return Order(
        request=request,
        mode=TradingMode.LIVE,
        status=OrderStatus.PENDING_SUBMIT,
        created_at=now,
        updated_at=now,
        status_reason=SUBMITTING_REASON,
        broker=broker,
        account_last4=account_last4,
    )


def mark_unknown(order: Order, now: datetime) -> Order:
    return replace(order, status=OrderStatus.UNKNOWN, status_reason=CHECKING_REASON, updated_at=now)


def mark_change_unknown(order: Order, now: datetime) -> Order:
    """A change was sent and not answered: the order's state is unknown until the broker shows it."""
    return replace(order, status=OrderStatus.UNKNOWN, status_reason=CHANGE_CHECKING_REASON, updated_at=now)


def mark_not_found(order: Order, now: datetime) -> Order:
    """Still unknown (never assumed absent), but the trader is told to look at the broker."""
    return replace(order, status=OrderStatus.UNKNOWN, status_reason=NOT_FOUND_REASON, updated_at=now)


def mark_not_followed(order: Order, now: datetime) -> Order:
    if order.status.is_terminal or order.status_reason == NOT_FOLLOWED_REASON:
        return order
    return replace(order, status_reason=NOT_FOLLOWED_REASON, updated_at=now)


def needs_resolution(order: Order) -> bool:
    """An order whose outcome only the broker can tell: sent (maybe) but never answered."""
    return order.status in (OrderStatus.UNKNOWN, OrderStatus.PENDING_SUBMIT)


def same_intent(a: OrderRequest, b: OrderRequest) -> bool:
    """Two tickets asking for the same thing (the client order id aside)."""
    return (
        a.symbol == b.symbol
        and a.side is b.side
        and a.quantity == b.quantity
        and a.order_type is b.order_type
        and a.limit_price == b.limit_price
        and a.stop_price == b.stop_price
        and a.time_in_force is b.time_in_force
    )


def backoff_delay(attempt: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds before the ``attempt``-th retry (0-based): doubling from ``base`` up to ``cap``."""
    return min(cap, base * (2 ** min(max(attempt, 0), 16)))
