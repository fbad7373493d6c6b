"""Order safety shared by paper and live: the pre-trade risk gate, the kill switch and the halted state.

Both order controllers call the same gate before anything is sent or booked::

    with risk.admit(TradingMode.LIVE) as admission:      # before any I/O: halt and rate
        if admission.denial: show it next to the ticket; return
        ... fetch the quote, the account, the positions ...
        denial = admission.check(request, account=..., positions=..., quotes=..., open_orders=...)
        if denial: show ``denial.message`` next to the ticket (``denial.field``); return
        ... confirmation dialog (live) / engine (paper) ...

``admit`` refuses at once when trading is halted or a burst is past the per-minute rate, so a
runaway loop costs neither quotes nor broker requests; an admitted order holds its place in the
rate until it is checked. ``check`` is synchronous: the rules and the counting of the order against
the rate happen together, so two submissions can't both slip under a limit. Every denial is recorded
in the audit log.

The kill switch (``kill_switch()``) halts new orders at once, persists the halt, then cancels every
open order of the mode in view once, through the canceller that mode's controller registered with
``register_canceller(mode, cancel_all)``. Lifting the halt (``lift_halt()``) is the view's question.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal

import qasync
from PySide6.QtCore import QObject, Signal

from app.controller.audit_controller import AuditLog
from app.controller.background import BackgroundTasks
from app.domain.audit import AuditKind
from app.domain.market_calendar import local_date
from app.domain.models import AccountSummary, OrderRequest, Position, Quote, TradingMode
from app.domain.risk import (
    RATE_WINDOW,
    LossState,
    RiskContext,
    RiskDenial,
    RiskLimits,
    RiskLimitsError,
    RiskRule,
    check_order,
    check_rate,
    limits_to_dict,
    loss_state,
    parse_limits,
)
from app.storage.risk_repository import (
    DayStart,
    HaltState,
    load_risk_state,
    save_day_start,
    save_halt,
    save_risk_limits,
)
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

#: Rules a runaway loop trips on every attempt; their denials are logged once a minute with a count.
_BURST_RULES = frozenset({RiskRule.ORDER_RATE, RiskRule.HALTED})

#: Cancels every open order of one mode; returns how many it cancelled.
Canceller = Callable[[], Awaitable[int]]


class RiskController(QObject):
    limits_changed = Signal(object)
    limits_saved = Signal(str)
    limits_rejected = Signal(dict)
    #: Halted or not, and the reason shown on the HALTED badge.
    halted_changed = Signal(bool, str)
    #: A sentence for the trader after the kill switch or a lifted halt.
    status = Signal(str)
    #: A refused order: the denial, for views that show it beyond the ticket.
    denied = Signal(object)
    error = Signal(str)

    def __init__(
        self,
        worker: DatabaseWorker,
        audit: AuditLog,
        clock: Callable[[], datetime],
        current_mode: Callable[[], TradingMode] = lambda: TradingMode.PAPER,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._audit = audit
        self._clock = clock
        self._current_mode = current_mode
        self._limits = RiskLimits()
        self._halt = HaltState(False)
        self._day_starts: dict[TradingMode, DayStart] = {}
        self._recent: dict[TradingMode, deque[datetime]] = {mode: deque() for mode in TradingMode}
        #: When each order that passed was counted in the rate, so one that is never sent can be withdrawn.
        self._counted: OrderedDict[tuple[TradingMode, str], datetime] = OrderedDict()
        #: Orders admitted by ``admit`` and not yet checked: they hold their place in the rate.
        self._pending: dict[TradingMode, int] = dict.fromkeys(TradingMode, 0)
        self._last_logged: dict[tuple[TradingMode, RiskRule], datetime] = {}
        self._quieted: dict[tuple[TradingMode, RiskRule], int] = {}
        self._cancellers: dict[TradingMode, Callable[[], Canceller | None]] = {}
        self._background = BackgroundTasks()
        self._kill_lock = asyncio.Lock()

    # ---- state ----------------------------------------------------------------------------------

    @property
    def limits(self) -> RiskLimits:
        return self._limits

    @property
    def halted(self) -> bool:
        return self._halt.halted

    @property
    def halt_reason(self) -> str:
        return self._halt.reason

    async def start(self) -> None:
        """Load the limits, the halted state and today's starting equity of each mode."""

        state = await self._worker.run(load_risk_state)
        self._limits, self._halt, self._day_starts = state.limits, state.halt, dict(state.day_starts)
        self.publish()

    def publish(self) -> None:
        self.limits_changed.emit(self._limits)
        self.halted_changed.emit(self._halt.halted, self._halt.reason)

    def register_canceller(self, mode: TradingMode, cancel_all: Canceller) -> None:
        """The kill switch cancels ``mode``'s open orders through ``cancel_all``.

        A bound method is held weakly: the order controller owns the gate, not the other way round,
        so the two never keep each other alive (a cycle of QObjects may be collected on any thread).
        """
        if inspect.ismethod(cancel_all):
            self._cancellers[mode] = weakref.WeakMethod(cancel_all)
        else:
            self._cancellers[mode] = lambda: cancel_all

    # ---- the gate -----------------------------------------------------------------------------

    def admit(self, mode: TradingMode, *, account: str = "") -> Admission:
        """Halt and rate only, before any I/O. An admitted order holds a place in the per-minute rate
        until it is checked or the admission is closed, so a burst is refused here, not after fetching.

        ``account`` names a live account (``LiveSession.account_key``): its daily loss is measured from
        its own starting equity, and its denials are audited with its broker and last 4."""
        now = self._clock()
        if self._halt.halted:
            denial: RiskDenial | None = self._halted_denial()
        else:
            pending = [now] * self._pending[mode]
            denial = check_rate(self._limits, now, [*self._window(mode, now), *pending])
        if denial is not None:
            self._deny(mode, None, denial, account)
            return Admission(self, mode, denial, account)
        self._pending[mode] += 1
        return Admission(self, mode, None, account)

    def halt_denial(self, mode: TradingMode, request: OrderRequest, *, account: str = "") -> RiskDenial | None:
        """For an order checked before the halt and not sent yet (a live order awaiting confirmation)."""
        if not self._halt.halted:
            return None
        denial = self._halted_denial()
        self._deny(mode, request, denial, account)
        return denial

    def _halted_denial(self) -> RiskDenial:
        return RiskDenial(RiskRule.HALTED, f"Trading is halted ({self._halt.reason}); new orders are refused.")

    def observe_equity(self, mode: TradingMode, equity: Decimal, *, account: str = "") -> None:
        """An account reading (a live account refresh): the first of the trading day starts the daily loss."""
        self._day_start(mode, equity, self._clock(), account)

    def check(
        self,
        mode: TradingMode,
        request: OrderRequest,
        *,
        account: AccountSummary,
        positions: Mapping[str, Position],
        quotes: Mapping[str, Quote],
        open_orders: int,
        account_key: str = "",
    ) -> RiskDenial | None:
        """Every rule; when the order passes it counts against the per-minute rate from now on."""
        now = self._clock()
        day_start = self._day_start(mode, account.equity, now, account_key)
        others_in_flight = [now] * self._pending[mode]
        context = RiskContext(
            account=account,
            positions=positions,
            quotes=quotes,
            now=now,
            open_orders=open_orders,
            recent_orders=(*self._window(mode, now), *others_in_flight),
            day_start_equity=day_start,
            halt_reason=self._halt.reason if self._halt.halted else "",
        )
        denial = check_order(request, self._limits, context)
        if denial is not None:
            self._deny(mode, request, denial, account_key)
            return denial
        self._recent[mode].append(now)
        self._counted[(mode, request.client_order_id)] = now
        while self._counted and next(iter(self._counted.values())) <= now - RATE_WINDOW:
            self._counted.popitem(last=False)
        return None

    def withdraw(self, mode: TradingMode, client_order_id: str) -> None:
        """An order that passed but was never sent (the trader declined it, or it was refused before the
        request) no longer counts against the per-minute rate."""
        counted = self._counted.pop((mode, client_order_id), None)
        if counted is not None and counted in self._recent[mode]:
            self._recent[mode].remove(counted)

    def _release(self, mode: TradingMode) -> None:
        self._pending[mode] = max(0, self._pending[mode] - 1)

    def loss_state(self, mode: TradingMode, equity: Decimal) -> LossState:
        start = self._day_starts.get(mode)
        today = local_date(self._clock())
        return loss_state(self._limits, start.equity if start and start.session == today else None, equity)

    def _window(self, mode: TradingMode, now: datetime) -> deque[datetime]:
        recent = self._recent[mode]
        while recent and recent[0] <= now - RATE_WINDOW:
            recent.popleft()
        return recent

    def _day_start(self, mode: TradingMode, equity: Decimal, now: datetime, account: str = "") -> Decimal:
        """The equity at the first check (or account reading) of today's session; a new session, or another
        live account, starts from the current equity."""
        today = local_date(now)
        start = self._day_starts.get(mode)
        if start is None or start.session != today or start.account != account:
            start = DayStart(today, equity, account)
            self._day_starts[mode] = start
            self._in_background(self._worker.run(lambda s: save_day_start(s, mode, start)))
        return start.equity

    def _deny(self, mode: TradingMode, request: OrderRequest | None, denial: RiskDenial, account: str = "") -> None:
        self.denied.emit(denial)
        now = self._clock()
        key = (mode, denial.rule)
        if denial.rule in _BURST_RULES:
            # A runaway loop is refused by the thousand: one row a minute per rule says how many.
            last = self._last_logged.get(key)
            if last is not None and now - last < RATE_WINDOW:
                self._quieted[key] = self._quieted.get(key, 0) + 1
                return
            self._last_logged[key] = now
        what = ""
        if request is not None:
            what = f"{request.side.value.capitalize()} {request.quantity:,} {request.symbol} {request.order_type.value}: "
        quieted = self._quieted.pop(key, 0)
        more = f" ({quieted} more refused by this rule in the minute before.)" if quieted else ""
        broker, _, last4 = account.partition(":")
        self._audit.record(
            AuditKind.RISK_DENIAL,
            f"{what}{denial.message} [{denial.rule.value}]{more}",
            mode=mode,
            broker=broker,
            account_last4=last4.rpartition(":")[2],
        )

    # ---- limits -------------------------------------------------------------------------------

    @qasync.asyncSlot(dict)
    async def save_limits(self, values: dict[str, object]) -> None:
        await self.apply_limits(values)

    async def apply_limits(self, values: Mapping[str, object]) -> bool:
        try:
            limits = parse_limits(values)
        except RiskLimitsError as exc:
            self.limits_rejected.emit(dict(exc.errors))
            return False
        try:
            await self._worker.run(lambda s: save_risk_limits(s, limits))
        except Exception:
            log.exception("Saving the risk limits failed")
            self.limits_rejected.emit({"risk": "The risk limits could not be saved; the previous ones still apply."})
            return False
        before, self._limits = self._limits, limits
        changed = {k: v for k, v in limits_to_dict(limits).items() if limits_to_dict(before)[k] != v}
        if changed:
            text = ", ".join(f"{k.replace('_', ' ')} {limits_to_dict(before)[k]} -> {v}" for k, v in changed.items())
            self._audit.record(AuditKind.RISK_LIMITS_CHANGED, f"Risk limits changed: {text}.")
        self.limits_changed.emit(limits)
        self.limits_saved.emit("Risk limits saved; they apply to the next order.")
        return True

    # ---- kill switch --------------------------------------------------------------------------

    @qasync.asyncSlot()
    async def kill_switch(self) -> None:
        await self.kill()

    async def kill(self) -> int:
        """Halt at once, then cancel every open order of the mode in view once; returns how many were cancelled."""
        mode = self._current_mode()
        now = self._clock()
        # The halt applies in memory before anything is awaited: no order can slip in meanwhile.
        self._halt = HaltState(True, f"kill switch at {now.astimezone():%H:%M:%S}", now)
        self.halted_changed.emit(True, self._halt.reason)
        async with self._kill_lock:
            halt = self._halt
            try:
                await self._worker.run(lambda s: save_halt(s, halt))
            except Exception:
                log.exception("Saving the halted state failed")
                self.error.emit("Trading is halted, but the halt could not be saved: it will not survive a restart.")
            cancelled = 0
            failure = ""
            reference = self._cancellers.get(mode)
            canceller = reference() if reference is not None else None
            if canceller is not None:
                try:
                    cancelled = await canceller()
                except Exception as exc:
                    log.exception("The kill switch could not cancel every %s order", mode.value)
                    failure = f" Some orders could not be cancelled: {exc}"
            message = (
                f"Kill switch: trading halted; {cancelled} open {mode.value} "
                f"order{'s' if cancelled != 1 else ''} cancelled.{failure}"
            )
            self._audit.record(AuditKind.KILL_SWITCH, message, mode=mode)
            self.status.emit(message)
            return cancelled

    @qasync.asyncSlot()
    async def lift_halt(self) -> None:
        await self.lift()

    async def lift(self) -> bool:
        """Trading resumes (the view has asked the trader first)."""
        if not self._halt.halted:
            return True
        async with self._kill_lock:
            lifted = HaltState(False)
            try:
                await self._worker.run(lambda s: save_halt(s, lifted))
            except Exception:
                log.exception("Lifting the halt failed")
                self.error.emit("The halt could not be lifted; trading stays halted.")
                return False
            self._halt = lifted
        self._audit.record(AuditKind.HALT_LIFTED, "Halt lifted; new orders are accepted again.", mode=self._current_mode())
        self.halted_changed.emit(False, "")
        self.status.emit("Halt lifted: new orders are accepted again.")
        return True

    # ---- background ---------------------------------------------------------------------------

    def _in_background(self, work: Awaitable[object]) -> None:
        self._background.start(work)

    async def flush(self) -> None:
        await self._background.settle()


class Admission:
    """One order's way through the gate: admitted (or refused) at once, then checked once.

    Use it as a context manager around the order's submission: leaving it without a ``check``
    (an error, a refused symbol) gives the order's place in the per-minute rate back.
    """

    def __init__(
        self, gate: RiskController | None, mode: TradingMode, denial: RiskDenial | None, account: str = ""
    ) -> None:
        self._gate = gate
        self._mode = mode
        self._account = account
        self.denial = denial
        self._open = gate is not None and denial is None

    @classmethod
    def ungated(cls) -> Admission:
        """For a controller without a gate (nothing is checked)."""
        return cls(None, TradingMode.PAPER, None)

    def check(
        self,
        request: OrderRequest,
        *,
        account: AccountSummary,
        positions: Mapping[str, Position],
        quotes: Mapping[str, Quote],
        open_orders: int,
    ) -> RiskDenial | None:
        """Every rule, once; call it right before the order is booked or shown for confirmation."""
        if self.denial is not None:
            return self.denial
        if self._gate is None:
            return None
        self.close()
        return self._gate.check(
            self._mode,
            request,
            account=account,
            positions=positions,
            quotes=quotes,
            open_orders=open_orders,
            account_key=self._account,
        )

    def close(self) -> None:
        if self._open and self._gate is not None:
            self._open = False
            self._gate._release(self._mode)

    def __enter__(self) -> Admission:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
