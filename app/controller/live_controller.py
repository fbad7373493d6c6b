"""Live orders: ticket -> same validation as paper -> risk gate -> broker preview -> trader's confirmation -> journal -> broker.

The journal row (status ``pending_submit``) is committed before the request leaves the app. An
answer that never came makes the order ``unknown``: it is looked up by our client order id on a
backoff, never resent, and the same ticket can't be sent again until the broker has told us what
happened. Following, reconciliation and the account view live in ``LiveFollower``.

Before the confirmation, every live order passes the same pre-trade checks as paper
(``RiskController``): halt and rate before any request, then the symbol against a fresh broker quote,
then every limit against the verified account, the broker's positions and that quote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime

import qasync
from PySide6.QtCore import QObject, Signal, Slot

from app.brokers.base import (
    AccountInfo,
    AuthError,
    BrokerError,
    OrderPreview,
    OrderRejected,
    RateLimited,
)
from app.controller.entry_quote import UNVERIFIED, judge_entry
from app.controller.live_cancel import LiveCanceller
from app.controller.live_follow import AuditHook, LiveFollower
from app.controller.live_pretrade import PreSendCheck, admit_live, pre_send_refusal, read_pretrade_facts
from app.controller.live_views import LiveSession, confirm_view, report_of
from app.controller.risk_controller import RiskController
from app.domain.live_orders import BrokerReport, mark_unknown, pending_live_order, same_intent
from app.domain.market_calendar import local_date
from app.domain.models import AccountSummary, Order, OrderRequest, OrderStatus, TradingMode
from app.domain.validation import TicketError, order_request_from_ticket

log = logging.getLogger(__name__)

PREVIEW_TIMEOUT_SECONDS = 15.0
QUOTE_TIMEOUT_SECONDS = 10.0
PLACE_TIMEOUT_SECONDS = 30.0


class LiveOrderController(QObject):
    orders_upserted = Signal(list)
    fills_recorded = Signal(list)
    fills_corrected = Signal(list)
    positions_changed = Signal(list)
    account_changed = Signal(object)
    positions_status = Signal(str)
    #: A live order waits for the trader: the view shows an ``OrderConfirmView`` and answers confirm/decline.
    confirmation_requested = Signal(object)
    ticket_rejected = Signal(dict)
    order_placed = Signal(str)
    order_rejected = Signal(str)
    submission_finished = Signal()
    #: (enabled, reason): live order entry is open only on a verified, reconciled connection.
    entry_changed = Signal(bool, str)
    message = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        follower: LiveFollower,
        clock: Callable[[], datetime],
        *,
        ensure_verified: Callable[[float], Awaitable[AccountInfo]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.follower = follower
        self._clock = clock
        self._ensure_verified = ensure_verified
        #: Safety checks run after validation and before the confirmation; any refusal sends nothing.
        self.pre_send_checks: list[PreSendCheck] = []
        self._awaiting: dict[str, OrderRequest] = {}
        #: Orders past the risk check and not yet in the journal: they count as open orders meanwhile.
        self._checked: set[str] = set()
        self._unverified: set[str] = set()
        self._risk: RiskController | None = None
        self.canceller = LiveCanceller(
            follower, message=self.message.emit, error=self.error.emit,
            halted=lambda: self._risk is not None and self._risk.halted,
        )
        for name in ("orders_upserted", "fills_recorded", "fills_corrected", "positions_changed", "account_changed", "positions_status"):
            getattr(follower, name).connect(getattr(self, name))
        follower.reconciled.connect(self._on_reconciled)

    @property
    def audit_hooks(self) -> list[AuditHook]:
        """Called with (event, order) for: sent, answered, rejected, unknown, resolved, cancel_requested."""
        return self.follower.audit_hooks

    @property
    def entry_enabled(self) -> bool:
        return self.follower.is_reconciled

    # ---- connection -------------------------------------------------------------------------

    async def connect_session(self, session: LiveSession) -> bool:
        self.entry_changed.emit(False, f"Checking your orders and positions at {session.broker_name}…")
        return await self.follower.start(session)

    async def disconnect_session(self, reason: str = "") -> None:
        self._drop_awaiting()
        await self.follower.stop()
        self.entry_changed.emit(False, reason or "No broker connection: live orders can't be sent.")

    def _on_reconciled(self, ok: bool, reason: str) -> None:
        self.entry_changed.emit(ok, reason)

    def _drop_awaiting(self) -> None:
        if self._awaiting:
            for client_order_id in self._awaiting:
                self._release(client_order_id)
            self._awaiting.clear()
            self.submission_finished.emit()

    # ---- the risk gate ----------------------------------------------------------------------

    def set_risk_gate(self, risk: RiskController) -> None:
        """Every live order passes the shared pre-trade checks before its confirmation; the kill switch
        cancels the open live orders through ``cancel_all_open``; each account reading feeds the daily loss."""
        self._risk = risk
        risk.register_canceller(TradingMode.LIVE, self.cancel_all_open)
        self.follower.account_changed.connect(self._on_account)

    @Slot(object)
    def _on_account(self, summary: AccountSummary) -> None:
        session = self.follower.session
        if self._risk is not None and session is not None:
            self._risk.observe_equity(TradingMode.LIVE, summary.equity, account=session.account_key)

    def open_order_count(self) -> int:
        """Working orders in the followed account, plus orders checked and not yet in the journal."""
        followed = {o.client_order_id for o in self.follower.followed() if not o.status.is_terminal}
        return len(followed) + len(self._checked - followed)

    def _withdraw(self, client_order_id: str) -> None:
        """An order never sent gives its place in the per-minute rate back."""
        if self._risk is not None:
            self._risk.withdraw(TradingMode.LIVE, client_order_id)

    def _release(self, client_order_id: str) -> None:
        self._checked.discard(client_order_id)
        self._unverified.discard(client_order_id)

    # ---- placing ----------------------------------------------------------------------------

    @qasync.asyncSlot(dict)
    async def submit_ticket(self, ticket: dict[str, object]) -> None:
        waiting = False
        try:
            waiting = await self.submit(ticket) is not None
        finally:
            if not waiting:
                self.submission_finished.emit()

    async def submit(self, ticket: Mapping[str, object]) -> str | None:
        """Validate, check and preview a live order, then ask the trader; returns the id awaiting confirmation."""
        try:
            request = order_request_from_ticket(ticket, today=local_date(self._clock()))
        except TicketError as exc:
            self.ticket_rejected.emit(dict(exc.errors))
            return None
        session = self.follower.session
        if session is None or not self.entry_enabled:
            self.order_rejected.emit("Live order entry is held until your broker connection is verified and reconciled.")
            return None
        for waiting in self.follower.followed():
            if self.follower.is_unresolved(waiting.client_order_id) and same_intent(waiting.request, request):
                self.order_rejected.emit(
                    f"The same order ({waiting.client_order_id}) is still being checked with {session.broker_name}; "
                    "it can't be sent again until the broker says what happened to it."
                )
                return None
        with admit_live(self._risk, session) as admission:
            if admission.denial is not None:
                self.ticket_rejected.emit({"risk": admission.denial.message})
                return None
            refusal = pre_send_refusal(self.pre_send_checks, request, session)
            if refusal:
                self.order_rejected.emit(f"Order not sent: {refusal}")
                return None
            facts = await read_pretrade_facts(
                session, request.symbol, ensure_verified=self._ensure_verified, what="order",
                quote_timeout=QUOTE_TIMEOUT_SECONDS,
            )
            if isinstance(facts, str):
                self.order_rejected.emit(f"Order not sent: {facts}")
                return None
            entry = judge_entry(request, facts.found.quotes, facts.found.unreachable, session.broker_name)
            if entry.refusal:
                self.ticket_rejected.emit({"symbol": entry.refusal})
                return None
            if self.follower.session is not session or not self.entry_enabled:
                self.order_rejected.emit("The broker connection changed before the order was checked; nothing was sent.")
                return None
            quote = entry.quote
            denial = admission.check(
                request,
                account=facts.account,
                positions=facts.positions,
                quotes={request.symbol: quote} if quote is not None else {},
                open_orders=self.open_order_count(),
            )
            if denial is not None:
                self.ticket_rejected.emit({"risk": denial.message})
                return None
        cid = request.client_order_id
        self._checked.add(cid)
        if entry.unverified:
            self._unverified.add(cid)
        preview: OrderPreview | None = None
        try:
            preview = await asyncio.wait_for(session.broker.preview_order(request), PREVIEW_TIMEOUT_SECONDS)
        except OrderRejected as exc:
            self._release(cid)
            self.order_rejected.emit(f"{session.broker_name} refused the order: {exc.reason}. Nothing was sent.")
            return None
        except (BrokerError, asyncio.TimeoutError) as exc:
            log.info("No broker preview for %s (%s); estimating from the quote", request.symbol, exc or "timeout")
        except BaseException:
            self._release(cid)
            raise
        if self.follower.session is not session:
            self._release(cid)
            self.order_rejected.emit("The broker connection changed before the confirmation; nothing was sent.")
            return None
        view = confirm_view(session, request, preview, quote, facts.info.buying_power)
        if entry.unverified:
            view = replace(
                view,
                warnings=(
                    *view.warnings,
                    f"{UNVERIFIED}: quotes can't be reached right now, so {request.symbol} was not checked; "
                    f"{session.broker_name} decides whether it exists.",
                ),
            )
        self._awaiting[cid] = request
        self.confirmation_requested.emit(view)
        return cid

    @qasync.asyncSlot(str)
    async def confirm_order(self, client_order_id: str) -> None:
        try:
            await self.place(client_order_id)
        finally:
            self.submission_finished.emit()

    @qasync.asyncSlot(str)
    async def decline_order(self, client_order_id: str) -> None:
        if self._awaiting.pop(client_order_id, None) is not None:
            self._release(client_order_id)
            self._withdraw(client_order_id)
            self.message.emit("Order not sent.")
        self.submission_finished.emit()

    async def place(self, client_order_id: str) -> Order | None:
        """Send a confirmed order: journal row first, then one request; never resent."""
        with self.canceller.sending(client_order_id):
            order = await self._place(client_order_id)
        return await self.canceller.after_sent(client_order_id, order)

    async def _place(self, client_order_id: str) -> Order | None:
        request = self._awaiting.pop(client_order_id, None)
        session = self.follower.session
        if request is None:
            return None
        unverified = client_order_id in self._unverified
        try:
            if session is None or not self.entry_enabled:
                self._withdraw(client_order_id)
                self.order_rejected.emit("The broker connection was lost before sending; nothing was sent.")
                return None
            # The kill switch may have been pressed while the confirmation was open.
            if self._risk is not None and (
                halted := self._risk.halt_denial(TradingMode.LIVE, request, account=session.account_key)
            ):
                self._withdraw(client_order_id)
                self.ticket_rejected.emit({"risk": halted.message})
                self.order_rejected.emit(f"Order not sent: {halted.message}")
                return None
            pending = pending_live_order(
                request, broker=session.broker_key, account_last4=session.account_last4, now=self._clock()
            )
            if unverified:
                pending = replace(pending, status_reason=f"{UNVERIFIED}; {pending.status_reason}")
            try:
                await self.follower.record_pending(pending)
            except Exception:
                log.exception("Journal write before a live order failed")
                self._withdraw(client_order_id)
                self.order_rejected.emit("The order could not be recorded locally, so it was not sent.")
                return None
        finally:
            self._release(client_order_id)
        # The journal write gave the kill switch a moment: checked again with nothing awaited before the send.
        if self._risk is not None and (
            halted := self._risk.halt_denial(TradingMode.LIVE, request, account=session.account_key)
        ):
            refused = BrokerReport(
                OrderStatus.REJECTED, pending.filled_quantity, None, self._clock(), reason=f"Not sent: {halted.message}"
            )
            order = await self.follower.apply(client_order_id, refused)
            self._withdraw(client_order_id)
            self.ticket_rejected.emit({"risk": halted.message})
            self.order_rejected.emit(f"Order not sent: {halted.message}")
            return order
        self.follower.audit("sent", pending)
        try:
            answer = await asyncio.wait_for(session.broker.place_order(request), PLACE_TIMEOUT_SECONDS)
        except (OrderRejected, AuthError, RateLimited) as exc:
            # The broker answered: the order was refused and does not exist there.
            reason = exc.reason if isinstance(exc, OrderRejected) else str(exc)
            rejected = BrokerReport(OrderStatus.REJECTED, pending.filled_quantity, None, self._clock(), reason=reason)
            order = await self.follower.apply(client_order_id, rejected)
            if order is not None:
                self.follower.audit("rejected", order)
            self.order_rejected.emit(f"{session.broker_name} rejected the order: {reason}")
            return order
        except (BrokerError, asyncio.TimeoutError) as exc:
            unknown = mark_unknown(pending, self._clock())
            await self.follower.replace(unknown)
            self.follower.resolve_later(client_order_id)
            self.follower.audit("unknown", unknown)
            log.warning("Outcome of live order %s unknown: %s", client_order_id, exc or "timeout")
            self.message.emit(
                f"No answer from {session.broker_name} for order {client_order_id}: checking with the broker… "
                "It will not be sent again."
            )
            return unknown
        order = await self.follower.apply(client_order_id, report_of(answer))
        if order is not None:
            self.follower.audit("answered", order)
        if order is not None and order.status is OrderStatus.REJECTED:
            self.order_rejected.emit(f"{session.broker_name} rejected the order: {order.status_reason}")
        else:
            self.order_placed.emit(client_order_id)
        return order

    # ---- cancelling -------------------------------------------------------------------------

    @qasync.asyncSlot(str)
    async def cancel_order(self, client_order_id: str) -> None:
        await self.cancel(client_order_id)

    async def cancel(self, client_order_id: str) -> Order | None:
        """Ask the broker to cancel; if the order filled first, it ends as filled, with one message."""
        return await self.canceller.cancel(client_order_id)

    @qasync.asyncSlot()
    async def cancel_all(self) -> None:
        """Cancel every open live order the app placed in this account (the view asks first)."""
        await self.cancel_all_open()

    async def cancel_all_open(self) -> int:
        """Returns how many cancels were sent; outside orders are never touched."""
        return await self.canceller.cancel_all_open()
