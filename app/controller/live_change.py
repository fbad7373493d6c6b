"""Changing a working live order: modify form -> same validation and risk checks as a new order -> the
trader confirms old → new -> ``broker.replace_order`` once.

A change that got no answer makes the order ``unknown``: the follower looks it up at the broker on a
backoff and shows whatever the broker says (changed or not); the change is never resent. A broker
that replaces by a new order (Alpaca, Tastytrade) is followed to it under our client order id: the
row keeps our id and takes the working order's broker id, so the history shows the replacement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal

import qasync
from PySide6.QtCore import QObject, Signal

from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerError,
    BrokerOrder,
    OrderNotFound,
    OrderRef,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    check_change,
)
from app.brokers.registry import get_spec
from app.controller.live_follow import LiveFollower
from app.controller.live_pretrade import PreSendCheck, admit_live, pre_send_refusal, read_pretrade_facts
from app.controller.live_views import LiveSession, report_of
from app.controller.risk_controller import RiskController
from app.controller.trading_views import ChangeConfirmView
from app.domain.live_orders import mark_change_unknown
from app.domain.market_calendar import local_date
from app.domain.models import Order, OrderChange, OrderStatus, TradingMode
from app.domain.order_change import (
    change_summary,
    changed_request,
    describe_change,
    order_change_from_form,
    price_text,
)
from app.domain.validation import TicketError

log = logging.getLogger(__name__)

REPLACE_TIMEOUT_SECONDS = 30.0


_HOW = {
    "alpaca": "Alpaca replaces the order with a new one (new broker id); it stays one order here, under its own id.",
    "tastytrade": "Tastytrade replaces the order with a new one (new broker id); it stays one order here.",
    "tradier": "Tradier changes the order in place (same broker id).",
    "ibkr": "Interactive Brokers modifies the order in place (same order id).",
}


class LiveChangeController(QObject):
    #: The change was refused before anything was sent: field -> what is wrong ('' for the order as a whole).
    change_rejected = Signal(dict)
    #: The change passed every check and waits for the trader's confirmation (the modify form may close).
    change_taken = Signal(str)
    #: The old → new confirmation to show (``ChangeConfirmView``); answered by confirm_change / decline_change.
    confirmation_requested = Signal(object)
    message = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        follower: LiveFollower,
        clock: Callable[[], datetime],
        *,
        ensure_verified: Callable[[float], Awaitable[AccountInfo]],
        pre_send_checks: list[PreSendCheck] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.follower = follower
        self._clock = clock
        self._ensure_verified = ensure_verified
        #: Shared with the live order controller: the same safety checks as a new order.
        self.pre_send_checks: list[PreSendCheck] = pre_send_checks if pre_send_checks is not None else []
        self._risk: RiskController | None = None
        self._awaiting: dict[str, tuple[Order, OrderChange]] = {}

    def set_risk_gate(self, risk: RiskController) -> None:
        """Every change passes the shared pre-trade checks, as a new live order does."""
        self._risk = risk

    # ---- asking -------------------------------------------------------------------------------

    @qasync.asyncSlot(str, dict)
    async def request_change_slot(self, client_order_id: str, values: dict[str, object]) -> None:
        await self.request_change(client_order_id, values)

    async def request_change(self, client_order_id: str, values: Mapping[str, object]) -> bool:
        """Validate and check a change of a live order, then ask the trader; True when it awaits confirmation."""
        session = self.follower.session
        order = self.follower.order(client_order_id)
        refusal = self._not_changeable(session, order, client_order_id)
        if refusal:
            self.change_rejected.emit({"": refusal})
            return False
        assert session is not None and order is not None
        try:
            change = order_change_from_form(order, values, today=local_date(self._clock()))
            check_change(change, broker=session.broker_name, quantity_allowed=_replaces_quantity(session.broker_key))
        except TicketError as exc:
            self.change_rejected.emit(dict(exc.errors))
            return False
        except OrderRejected as exc:
            self.change_rejected.emit({"quantity" if change.quantity is not None else "": _sentence(exc.reason)})
            return False
        request = changed_request(order.request, change)
        problem = pre_send_refusal(self.pre_send_checks, request, session)
        if problem:
            self.change_rejected.emit({"": f"Change not sent: {problem}"})
            return False
        with admit_live(self._risk, session) as admission:
            if admission.denial is not None:
                self.change_rejected.emit({"": admission.denial.message})
                return False
            facts = await read_pretrade_facts(
                session, request.symbol, ensure_verified=self._ensure_verified, what="change"
            )
            if isinstance(facts, str):
                self.change_rejected.emit({"": f"Change not sent: {facts}"})
                return False
            if self._risk is not None:
                working = sum(1 for o in self.follower.followed() if not o.status.is_terminal)
                # The changed order replaces itself: it is not one more open order.
                denial = admission.check(
                    request,
                    account=facts.account,
                    positions=facts.positions,
                    quotes=facts.found.quotes,
                    open_orders=max(working - 1, 0),
                )
                if denial is not None:
                    self.change_rejected.emit({"": denial.message})
                    return False
        self._awaiting[client_order_id] = (order, change)
        self.change_taken.emit(client_order_id)
        self.confirmation_requested.emit(_confirm_view(session, order, change))
        return True

    def _not_changeable(self, session: LiveSession | None, order: Order | None, client_order_id: str) -> str:
        if session is None or not self.follower.is_reconciled:
            return "Live changes are held until your broker connection is verified and reconciled."
        if order is None:
            return "That live order is not followed right now (no verified broker connection)."
        if order.external:
            return "This order was placed outside TradeBridge; change it where it was placed."
        if self.follower.is_unresolved(client_order_id):
            return "That order's outcome is still being checked with the broker; it can't be changed yet."
        if order.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            return f"The order is {order.status.value.replace('_', ' ')} and can't be changed."
        if client_order_id in self._awaiting:
            return "A change of this order is already waiting for your confirmation."
        return ""

    # ---- answering ----------------------------------------------------------------------------

    @qasync.asyncSlot(str)
    async def confirm_change(self, client_order_id: str) -> None:
        await self.send(client_order_id)

    @qasync.asyncSlot(str)
    async def decline_change(self, client_order_id: str) -> None:
        if self._awaiting.pop(client_order_id, None) is not None:
            self.message.emit(f"Change of order {client_order_id} not sent; the order is as it was.")

    async def send(self, client_order_id: str) -> Order | None:
        """Send a confirmed change once; its outcome is the broker's to prove."""
        awaiting = self._awaiting.pop(client_order_id, None)
        if awaiting is None:
            return None
        asked, change = awaiting
        session = self.follower.session
        order = self.follower.order(client_order_id)
        if session is None or not self.follower.is_reconciled or order is None:
            self.error.emit("The broker connection was lost before sending; the change was not sent.")
            return None
        if order.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED) or order.request != asked.request:
            self.error.emit(
                f"Order {client_order_id} changed before the change was sent ({order.status.value.replace('_', ' ')}); "
                "nothing was sent. Look at it again and modify it if you still want to."
            )
            return None
        # The kill switch may have been pressed while the confirmation was open.
        if self._risk is not None and (
            halted := self._risk.halt_denial(TradingMode.LIVE, changed_request(order.request, change),
                                             account=session.account_key)
        ):
            self.error.emit(f"Change not sent: {halted.message}")
            return None
        summary = change_summary(order, change)
        self.follower.audit("change_requested", order)
        try:
            answer = await asyncio.wait_for(
                session.broker.replace_order(OrderRef.of(order), change), REPLACE_TIMEOUT_SECONDS
            )
        except (OrderRejected, OrderNotFound) as exc:
            return await self._refused(session, order, exc)
        except (AuthError, RateLimited) as exc:
            self.error.emit(f"Change not sent: {exc}. The order is as it was.")
            return order
        except (OutcomeUnknown, asyncio.TimeoutError) as exc:
            return await self._unknown(session, order, exc)
        except BrokerError as exc:
            # Refused or unreachable before anything left (BrokerUnavailable says so): the order is as it was.
            self.error.emit(f"Change not sent to {session.broker_name}: {exc}")
            return order
        changed = await self.follower.apply_change(
            client_order_id, changed_request(order.request, change), report_of(answer)
        )
        if changed is not None:
            self.follower.audit("changed", changed)
        self.message.emit(f"Order {client_order_id} changed at {session.broker_name}: {summary}.")
        return changed

    async def _refused(self, session: LiveSession, order: Order, exc: BrokerError) -> Order:
        """The broker refused: the order is as the broker has it (it may have filled first)."""
        found: BrokerOrder | None = None
        try:
            found = await session.broker.get_order(order.client_order_id)
        except BrokerError:
            found = None
        updated = await self.follower.apply(order.client_order_id, report_of(found)) if found else None
        final = updated or order
        self.follower.audit("change_refused", final)
        reason = exc.reason if isinstance(exc, OrderRejected) else str(exc)
        if final.status is OrderStatus.FILLED:
            self.message.emit(f"Order {order.client_order_id} filled before it could be changed.")
        else:
            self.error.emit(f"{session.broker_name} did not change the order: {reason}. The order is as it was.")
        return final

    async def _unknown(self, session: LiveSession, order: Order, exc: BaseException) -> Order:
        unknown = mark_change_unknown(order, self._clock())
        await self.follower.replace(unknown)
        self.follower.resolve_later(order.client_order_id)
        self.follower.audit("change_unknown", unknown)
        log.warning("Outcome of the change of live order %s unknown: %s", order.client_order_id, exc or "timeout")
        self.message.emit(
            f"No answer from {session.broker_name} to the change of order {order.client_order_id}: checking with "
            "the broker… The change will not be sent again."
        )
        return unknown


def _confirm_view(session: LiveSession, order: Order, change: OrderChange) -> ChangeConfirmView:
    request = order.request
    filled = f", {_quantity(order.filled_quantity)} filled" if order.filled_quantity else ""
    prices = [
        f"{name} {price_text(price)}"
        for name, price in (("limit", request.limit_price), ("stop", request.stop_price))
        if price is not None
    ]
    priced = f" ({', '.join(prices)})" if prices else ""
    line = (
        f"{request.side.value.upper()} {_quantity(request.quantity)} {order.symbol}, "
        f"{request.order_type.value.replace('_', '-')} order{priced}, "
        f"{request.time_in_force.value.upper()}{filled} (order {order.client_order_id})"
    )
    return ChangeConfirmView(
        client_order_id=order.client_order_id,
        broker_name=session.broker_name,
        account_last4=session.account_last4,
        is_sandbox=session.is_sandbox,
        order_line=line,
        changes=tuple(describe_change(order, change)),
        how=_HOW.get(session.broker_key, f"{session.broker_name} changes the order at the broker."),
    )


def quantity_refusal(order: Order) -> str:
    """Why the order's quantity can't be changed where it was placed ('' when it can): the modify form says so."""
    if order.mode is not TradingMode.LIVE or _replaces_quantity(order.broker):
        return ""
    name = get_spec(order.broker).display_name
    return f"{name} can't change a working order's quantity; cancel it and place a new order for a new size."


def _replaces_quantity(broker_key: str) -> bool:
    try:
        return get_spec(broker_key).capabilities.replace_quantity
    except KeyError:
        return True


def _quantity(value: Decimal) -> str:
    normalized = value.normalize()
    return f"{normalized:f}" if normalized != normalized.to_integral() else f"{int(normalized):,}"


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text
