"""Cancelling live orders: one order, every order the app placed, and the orders that can only be cancelled later.

Two kinds of order can't be cancelled at the moment the trader (or the kill switch) cancels everything:
one whose request is on its way to the broker, and one whose outcome is unknown (sent, never answered).
Neither is cancelled blind, when the broker might not know it yet. The first is cancelled as soon as the
broker has answered the send; the second as soon as the broker shows it working. Either is also cancelled
if it turns out working while trading is halted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from app.brokers.base import BrokerError, BrokerOrder, OrderNotFound, OrderRef, OrderRejected
from app.controller.live_follow import LiveFollower
from app.controller.live_views import LiveSession, report_of
from app.domain.models import Order, OrderStatus


class LiveCanceller:
    def __init__(
        self,
        follower: LiveFollower,
        *,
        message: Callable[[str], None],
        error: Callable[[str], None],
        halted: Callable[[], bool],
    ) -> None:
        self.follower = follower
        self._message = message
        self._error = error
        self._halted = halted
        #: Confirmed orders whose request is on its way to the broker.
        self._sending: set[str] = set()
        #: Of those, the ones to cancel once the broker has answered.
        self._cancel_when_sent: set[str] = set()
        #: Orders whose outcome was unknown when all were cancelled: cancelled once the broker shows them working.
        self._cancel_when_resolved: set[str] = set()
        follower.audit_hooks.append(self._after_order_event)

    # ---- one order --------------------------------------------------------------------------

    async def cancel(self, client_order_id: str) -> Order | None:
        """Ask the broker to cancel; if the order filled first, it ends as filled, with one message."""
        session = self.follower.session
        order = self.follower.order(client_order_id)
        if session is None or order is None:
            self._error("That live order is not followed right now (no verified broker connection).")
            return None
        if self.follower.is_unresolved(client_order_id):
            self._error("That order's outcome is still being checked with the broker; it can't be cancelled yet.")
            return None
        if not order.status.is_cancelable:
            self._error(f"The order is {order.status.value.replace('_', ' ')} and can't be cancelled.")
            return None
        self.follower.audit("cancel_requested", order)
        try:
            answer = await session.broker.cancel_order(OrderRef.of(order))
        except (OrderRejected, OrderNotFound) as exc:
            # Most often the order finished first (a fill racing the cancel): show what the broker has.
            found = await _lookup(session, client_order_id)
            updated = await self.follower.apply(client_order_id, report_of(found)) if found else order
            final = updated or order
            if final.status is OrderStatus.FILLED:
                self._message(f"Order {client_order_id} filled before it could be cancelled.")
            else:
                self._error(f"{session.broker_name} did not cancel the order: {exc}")
            return final
        except BrokerError as exc:
            self._error(f"Cancel not confirmed by {session.broker_name}: {exc}. The order is still followed.")
            return order
        updated = await self.follower.apply(client_order_id, report_of(answer))
        self._message(f"Cancel requested for {client_order_id}.")
        return updated

    # ---- every order ------------------------------------------------------------------------

    async def cancel_all_open(self) -> int:
        """Returns how many cancels were sent or are waiting on the broker's answer to the send; orders placed
        outside the app are never touched."""
        targets = [
            o
            for o in self.follower.followed()
            if not o.external and o.status.is_cancelable and not self.follower.is_unresolved(o.client_order_id)
        ]
        # An order still being sent is cancelled once the broker has answered, never before.
        self._cancel_when_sent.update(o.client_order_id for o in targets if o.client_order_id in self._sending)
        # An order whose outcome is unknown can't be cancelled yet: it is, as soon as the broker shows it working.
        unresolved = [
            o.client_order_id
            for o in self.follower.followed()
            if not o.external and self.follower.is_unresolved(o.client_order_id)
        ]
        self._cancel_when_resolved.update(unresolved)
        for order in targets:
            if order.client_order_id not in self._sending:
                await self.cancel(order.client_order_id)
        if unresolved:
            self._message(
                f"{len(unresolved)} order(s) sent without a clear answer from the broker: each is cancelled as soon "
                "as the broker shows it working."
            )
        elif not targets:
            self._message("No open live orders to cancel.")
        return len(targets)

    # ---- later ------------------------------------------------------------------------------

    @contextmanager
    def sending(self, client_order_id: str) -> Iterator[None]:
        """Around the send of a confirmed order: cancelling all meanwhile leaves it to ``after_sent``."""
        self._sending.add(client_order_id)
        try:
            yield
        finally:
            self._sending.discard(client_order_id)

    async def after_sent(self, client_order_id: str, order: Order | None) -> Order | None:
        """The broker has answered the send: cancel the order now if all were cancelled (or trading halted)
        while the request was on its way."""
        wanted = client_order_id in self._cancel_when_sent or self._halted()
        self._cancel_when_sent.discard(client_order_id)
        if order is not None and wanted and order.status.is_cancelable:
            self._message(f"Order {client_order_id} was on its way to the broker when trading was halted or all "
                          "orders were cancelled: cancelling it now.")
            return await self.cancel(client_order_id) or order
        return order

    def _after_order_event(self, event: str, order: Order) -> None:
        """An order whose outcome was unknown turned out to be working: cancelled if all orders were cancelled
        meanwhile or trading is halted, since the trader could not cancel it then."""
        if event != "resolved":
            return
        client_order_id = order.client_order_id
        wanted = client_order_id in self._cancel_when_resolved or self._halted()
        self._cancel_when_resolved.discard(client_order_id)
        if wanted and order.status.is_cancelable:
            self._message(f"Order {client_order_id} turned out to be working at the broker after trading was "
                          "halted or all orders were cancelled: cancelling it now.")
            self.follower.spawn(self._cancel_when_written(client_order_id))

    async def _cancel_when_written(self, client_order_id: str) -> None:
        # Called while the follower applies the resolving report: cancel once it is recorded as working.
        await self.follower.updates_written()
        await self.cancel(client_order_id)


async def _lookup(session: LiveSession, client_order_id: str) -> BrokerOrder | None:
    try:
        return await session.broker.get_order(client_order_id)
    except BrokerError:
        return None
