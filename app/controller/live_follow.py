"""Following live orders at the broker: reconciliation, status polling, unknown outcomes and the live account view.

One ``LiveFollower`` follows the active account. Every change to a live order goes through
``apply``/``store`` under one lock, is written to the journal, and only then emitted as
``orders_upserted([order])`` — so a poll, a pushed IBKR event and a reconciliation reporting the same
execution record it once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from dataclasses import replace as with_values
from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import QObject, Signal

from app.brokers.base import AccountInfo, BrokerError, BrokerOrder, RateLimited
from app.controller.day_views import day_positions, with_day
from app.controller.live_views import LiveSession, account_summary, position_view, report_of
from app.domain.day_change import TodayTrades, day_start, trading_day
from app.domain.live_orders import (
    BrokerReport,
    apply_report,
    backoff_delay,
    mark_not_followed,
    mark_not_found,
    mark_unknown,
    NOT_FOUND_REASON,
)
from app.domain.models import Fill, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce, TradingMode
from app.domain.symbols import SymbolError, parse_symbol
from app.storage.fills_repository import fills_since
from app.storage.live_journal import (
    known_order_keys,
    load_followed_orders,
    load_open_live_orders,
    record_pending,
    save_live_update,
    settle_commission,
)
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

#: A reconciliation that keeps failing is retried on a doubling delay up to this many seconds.
RECONCILE_BACKOFF_CAP = 60.0

AuditHook = Callable[[str, Order], None]
#: The previous session's close of each symbol the source knows (the reference of the day P&L).
PreviousCloses = Callable[[list[str]], Awaitable[Mapping[str, Decimal]]]


@dataclass
class _Resolution:
    """An order whose outcome is unknown: when it was first unknown, how often the broker was asked."""

    since: float
    attempts: int = 0
    next_at: float = 0.0


class LiveFollower(QObject):
    orders_upserted = Signal(list)
    fills_recorded = Signal(list)
    #: Fills already shown whose commission the broker reported later: the Fills table updates their rows.
    fills_corrected = Signal(list)
    positions_changed = Signal(list)
    account_changed = Signal(object)
    positions_status = Signal(str)
    #: (reconciled, reason): live entry may open only after a successful reconciliation.
    reconciled = Signal(bool, str)

    def __init__(
        self,
        worker: DatabaseWorker,
        clock: Callable[[], datetime],
        *,
        verify: Callable[[], Awaitable[AccountInfo]],
        check_health: Callable[[], Awaitable[bool]],
        poll_interval: float = 1.0,
        account_interval: float = 30.0,
        not_found_after: float = 600.0,
        previous_closes: PreviousCloses | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._clock = clock
        self._verify = verify
        self._check_health = check_health
        self.poll_interval = poll_interval
        self.account_interval = account_interval
        self.not_found_after = not_found_after
        self.audit_hooks: list[AuditHook] = []
        self._previous_closes = previous_closes
        self._sleep = sleep
        #: Reconciliations failed in a row; the retry waits longer after each, and this resets on success.
        self.reconcile_failures = 0
        self._prev_closes: dict[str, Decimal] = {}
        self._today = TodayTrades()
        self._session: LiveSession | None = None
        self._orders: dict[str, Order] = {}
        self._resolving: dict[str, _Resolution] = {}
        #: The broker's last total commission per order, so a repeated report does not read the journal.
        self._commissions: dict[str, Decimal] = {}
        self._lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._events: set[asyncio.Task[object]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._is_reconciled = False
        self._account_due = 0.0
        #: When a change of an order was last applied: a poll that read the broker before then is stale for it.
        self._changed_at: dict[str, float] = {}

    # ---- life cycle -------------------------------------------------------------------------

    @property
    def session(self) -> LiveSession | None:
        return self._session

    @property
    def is_reconciled(self) -> bool:
        return self._session is not None and self._is_reconciled

    def followed(self) -> list[Order]:
        return list(self._orders.values())

    def order(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def is_unresolved(self, client_order_id: str) -> bool:
        """Sent but never answered: only the broker can say whether it exists."""
        order = self._orders.get(client_order_id)
        return client_order_id in self._resolving or (order is not None and order.status is OrderStatus.UNKNOWN)

    async def start(self, session: LiveSession) -> bool:
        """Follow a freshly verified account: reconcile first, then keep following until stopped."""
        await self.stop(mark=False)
        self._session = session
        subscribe = getattr(session.broker, "add_order_listener", None)
        if subscribe is not None:
            self._unsubscribe = subscribe(self._on_broker_event)
        self.reconcile_failures = 0
        ok = await self.reconcile()
        if self._session is session and self._loop_task is None:
            first_wait = self.poll_interval if ok else self._reconcile_backoff()
            self._loop_task = asyncio.ensure_future(self._follow_forever(session, first_wait))
        return ok

    async def stop(self, *, mark: bool = True) -> None:
        """Stop following (connection gone): open live orders stay at the broker, shown as not followed."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        # The session ends before its tasks are cancelled: a task whose cancellation is swallowed on the way
        # (a library that catches it) still finds its session gone at its next step and returns, so the
        # wait below always ends.
        was_following = self._session is not None
        self._session = None
        task, self._loop_task = self._loop_task, None
        pending = [t for t in (task, *self._events) if t is not None and t is not asyncio.current_task()]
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._is_reconciled = False
        self._resolving.clear()
        self._changed_at.clear()
        self._commissions.clear()
        if mark and was_following:
            await self.mark_not_followed()
        self._orders.clear()

    async def mark_not_followed(self) -> None:
        """Every open live order in the journal is shown as not followed until the next reconciliation."""
        try:
            open_orders = await self._worker.run(load_open_live_orders)
        except Exception:
            log.exception("Reading open live orders failed")
            return
        now = self._clock()
        changed = [marked for o in open_orders if (marked := mark_not_followed(o, now)) is not o]
        if not changed:
            return
        await self._worker.run(lambda s: [save_live_update(s, o) for o in changed])
        self.orders_upserted.emit(changed)

    # ---- journal ----------------------------------------------------------------------------

    async def record_pending(self, order: Order) -> None:
        """Commit the row of an order about to be sent (the caller sends only after this returned)."""
        async with self._lock:
            await self._worker.run(lambda s: record_pending(s, order))
            self._orders[order.client_order_id] = order
        self.orders_upserted.emit([order])

    async def apply(self, client_order_id: str, report: BrokerReport) -> Order | None:
        """Apply one broker report to a followed order; written and emitted only when it changed something."""
        async with self._lock:
            current = self._orders.get(client_order_id)
            if current is None:
                # Finished while this report waited for the lock (IBKR's commission report right after the last
                # fill): only the commission is left to book.
                late = await self._settle_commission(client_order_id, report.commission)
                if late:
                    self.fills_corrected.emit(late)
                return None
            update = apply_report(current, report)
            if not update.changed:
                corrected = await self._settle_commission(client_order_id, report.commission)
                if corrected:
                    self.fills_corrected.emit(corrected)
                return current
            if client_order_id in self._resolving and update.order.status is not OrderStatus.UNKNOWN:
                self._resolving.pop(client_order_id, None)
                self.audit("resolved", update.order)
            fills = await self._write(update.order, update.fills)
            corrected = await self._settle_commission(client_order_id, report.commission)
        recorded_ids = {f.fill_id for f in fills}
        fresh = {f.fill_id: f for f in corrected if f.fill_id in recorded_ids}
        self._publish(update.order, [fresh.get(f.fill_id, f) for f in fills])
        older = [f for f in corrected if f.fill_id not in recorded_ids]
        if older:
            self.fills_corrected.emit(older)
        return update.order

    async def apply_change(self, client_order_id: str, request: OrderRequest, report: BrokerReport) -> Order | None:
        """The broker accepted a change: the order takes the changed size and prices (as far as the broker
        reports them, its own) and the broker's answer; always written, so the journal records the change."""
        async with self._lock:
            current = self._orders.get(client_order_id)
            if current is None:
                return None
            update = apply_report(with_values(current, request=request), report)
            order = with_values(
                update.order,
                broker_order_id=report.broker_order_id or update.order.broker_order_id,
                updated_at=max(update.order.updated_at, report.updated_at),
            )
            fills = await self._write(order, update.fills)
            self._changed_at[client_order_id] = time.monotonic()
        self._publish(order, fills)
        return order

    async def book_commission(self, client_order_id: str, total: Decimal) -> None:
        """A commission the broker reported after the order ended (IBKR's report follows the last fill)."""
        async with self._lock:
            corrected = await self._settle_commission(client_order_id, total)
        if corrected:
            self.fills_corrected.emit(corrected)

    async def _settle_commission(self, client_order_id: str, total: Decimal | None) -> list[Fill]:
        """Called under the lock; the journal is read only when the broker's total changed since last seen."""
        if total is None or self._commissions.get(client_order_id) == total:
            return []
        corrected = await self._worker.run(lambda s: settle_commission(s, client_order_id, total))
        if corrected is None:
            # No fill booked yet: the report that books it carries the total again.
            return []
        self._commissions[client_order_id] = total
        return corrected

    async def replace(self, order: Order) -> None:
        """Store a state the app decided (unknown, not found), never one that loses broker facts."""
        async with self._lock:
            if order.client_order_id not in self._orders:
                return
            await self._write(order, ())
        self._publish(order, [])

    async def _write(self, order: Order, fills: tuple[Fill, ...] | list[Fill]) -> list[Fill]:
        recorded = await self._worker.run(lambda s: save_live_update(s, order, fills))
        if order.status.is_terminal:
            self._orders.pop(order.client_order_id, None)
            self._resolving.pop(order.client_order_id, None)
            self._changed_at.pop(order.client_order_id, None)
        else:
            self._orders[order.client_order_id] = order
        return recorded

    def _publish(self, order: Order, fills: list[Fill]) -> None:
        self.orders_upserted.emit([order])
        if fills:
            self._today.add(fills)
            self.fills_recorded.emit(fills)
            self._account_due = 0.0

    def resolve_later(self, client_order_id: str) -> None:
        """Ask the broker about this order on a backoff until it proves what happened."""
        if client_order_id not in self._resolving:
            self._resolving[client_order_id] = _Resolution(since=time.monotonic())

    def audit(self, event: str, order: Order) -> None:
        for hook in self.audit_hooks:
            try:
                hook(event, order)
            except Exception:
                log.exception("An audit hook failed on %s", event)

    # ---- reconciliation ---------------------------------------------------------------------

    async def reconcile(self) -> bool:
        """Bring the journal and the account view to the broker's state; live entry opens only if this works."""
        session = self._session
        if session is None:
            return False
        broker = session.broker
        try:
            reports = await broker.list_orders()
        except BrokerError as exc:
            return self._not_reconciled(f"Could not read your orders at {session.broker_name}: {exc}")
        followed = await self._worker.run(lambda s: load_followed_orders(s, session.broker_key, session.account_last4))
        await self._load_today(session)
        async with self._lock:
            self._orders = {o.client_order_id: o for o in followed}
        by_client = {r.client_order_id: r for r in reports if r.client_order_id}
        by_broker = {r.broker_order_id: r for r in reports if r.broker_order_id}
        for order in followed:
            found = by_client.get(order.client_order_id) or (
                by_broker.get(order.broker_order_id) if order.broker_order_id else None
            )
            if found is None:
                try:
                    found = await broker.get_order(order.client_order_id)
                except BrokerError as exc:
                    return self._not_reconciled(f"Could not check order {order.client_order_id}: {exc}")
            if found is not None:
                await self.apply(order.client_order_id, report_of(found))
            else:
                await self.replace(mark_unknown(order, self._clock()))
                self.resolve_later(order.client_order_id)
        await self._adopt_external(session, reports)
        refreshed = await self.refresh_account()
        if self._session is not session:
            # The connection ended while this ran (disconnect, shutdown): nothing is left to reconcile.
            return False
        if not refreshed:
            return self._not_reconciled(
                f"Positions at {session.broker_name} could not be read; they are unknown, not flat."
            )
        self._is_reconciled = True
        self.reconcile_failures = 0
        self.reconciled.emit(True, "")
        return True

    def _not_reconciled(self, reason: str) -> bool:
        log.warning("Reconciliation incomplete: %s", reason)
        self._is_reconciled = False
        self.reconciled.emit(False, reason)
        return False

    async def _adopt_external(self, session: LiveSession, reports: list[BrokerOrder]) -> None:
        """Orders placed outside the app become external rows: shown and followed, never cancelled by us."""
        known = await self._worker.run(
            lambda s: known_order_keys(
                s, session.broker_key, [r.client_order_id for r in reports], [r.broker_order_id for r in reports]
            )
        )
        adopted: list[Order] = []
        for report in reports:
            if report.client_order_id in known or report.broker_order_id in known:
                continue
            order = external_order(report, session)
            if order is None:
                continue
            async with self._lock:
                await self._write(order, ())
            adopted.append(order)
        if adopted:
            self.orders_upserted.emit(adopted)

    # ---- following --------------------------------------------------------------------------

    def _on_broker_event(self, pushed: BrokerOrder) -> None:
        """A broker that pushes order updates (IBKR): applied as soon as it arrives."""
        cid = pushed.client_order_id
        if cid not in self._orders:
            if cid and pushed.commission is not None and pushed.filled_quantity > 0:
                self.spawn(self.book_commission(cid, pushed.commission))
            return
        self.spawn(self.apply(cid, report_of(pushed)))

    async def updates_written(self) -> None:
        """Returns once every report being applied now is in the journal and in ``order``."""
        async with self._lock:
            pass

    def spawn(self, work: Awaitable[object]) -> None:
        """Follow-up work on this account's orders: cancelled when following stops."""
        task = asyncio.ensure_future(work)
        self._events.add(task)
        task.add_done_callback(self._events.discard)

    async def _follow_forever(self, session: LiveSession, first_wait: float) -> None:
        delay = first_wait
        while True:
            await self._sleep(delay)
            if self._session is not session:
                return
            delay = self.poll_interval
            try:
                if not self._is_reconciled:
                    if not await self.reconcile():
                        delay = self._reconcile_backoff()
                else:
                    await self.poll_once()
            except RateLimited as exc:
                delay = max(delay, exc.retry_after)
                log.info("Broker rate limit: following orders again in %.1fs", delay)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The broker did not answer as it should: is the connection still true? Verify now.
                if isinstance(exc, BrokerError):
                    log.warning("Following live orders: %s", exc)
                else:
                    log.exception("Following live orders failed")
                if not self._is_reconciled:
                    delay = self._reconcile_backoff()
                if not await self._check_health():
                    return
            if self._session is not session:
                return

    def _reconcile_backoff(self) -> float:
        """The wait before the next attempt after a failed reconciliation: doubling from the poll interval, capped."""
        self.reconcile_failures += 1
        delay = backoff_delay(self.reconcile_failures - 1, base=self.poll_interval, cap=RECONCILE_BACKOFF_CAP)
        log.info("Reconciliation failed %d time(s) in a row; trying again in %.1fs", self.reconcile_failures, delay)
        return delay

    async def poll_once(self) -> None:
        """One cycle: working orders from the broker's open list, unknown ones by id when due, the account."""
        session = self._session
        if session is None:
            return
        working = [o for cid, o in self._orders.items() if cid not in self._resolving]
        if working:
            asked = time.monotonic()
            reports = await session.broker.list_orders()
            by_client = {r.client_order_id: r for r in reports if r.client_order_id}
            by_broker = {r.broker_order_id: r for r in reports if r.broker_order_id}
            for order in working:
                if self._changed_at.get(order.client_order_id, 0.0) > asked:
                    continue
                found = by_client.get(order.client_order_id) or by_broker.get(order.broker_order_id or "")
                if found is None:
                    found = await session.broker.get_order(order.client_order_id)
                if found is not None:
                    await self.apply(order.client_order_id, report_of(found))
        await self._resolve_due(session)
        if time.monotonic() >= self._account_due:
            await self.refresh_account()

    async def _resolve_due(self, session: LiveSession) -> None:
        now = time.monotonic()
        for cid, state in list(self._resolving.items()):
            if now < state.next_at:
                continue
            found = await session.broker.get_order(cid)
            if found is not None:
                await self.apply(cid, report_of(found))
                continue
            state.attempts += 1
            state.next_at = now + backoff_delay(state.attempts)
            order = self._orders.get(cid)
            if order is not None and now - state.since >= self.not_found_after and order.status_reason != NOT_FOUND_REASON:
                await self.replace(mark_not_found(order, self._clock()))

    async def _load_today(self, session: LiveSession) -> None:
        """Today's executions in this account from the journal: the day P&L counts them from their price."""
        now = self._clock()
        since = day_start(now)
        fills = await self._worker.run(
            lambda s: fills_since(
                s, since, TradingMode.LIVE, broker=session.broker_key, account_last4=session.account_last4
            )
        )
        today = TodayTrades(trading_day(now))
        today.add(fills)
        if today.day != self._today.day:
            self._prev_closes.clear()
        self._today = today

    async def _fetch_prev_closes(self, symbols: list[str]) -> None:
        """Previous closes of symbols not looked up yet today; they do not change during the day."""
        if self._previous_closes is None:
            return
        missing = sorted({s for s in symbols if s not in self._prev_closes})
        if not missing:
            return
        try:
            found = await self._previous_closes(missing)
        except Exception as exc:
            log.info("Previous closes for the day P&L unavailable: %s", exc)
            return
        self._prev_closes.update(found)

    async def refresh_account(self) -> bool:
        """The broker's cash, buying power and positions; a failed positions read is reported as unknown."""
        session = self._session
        if session is None:
            return False
        self._account_due = time.monotonic() + self.account_interval
        try:
            info = await self._verify()
            positions = await session.broker.positions()
        except BrokerError as exc:
            self.positions_status.emit(f"Positions unknown — {session.broker_name} did not answer: {exc}")
            return False
        held = [position_view(p) for p in sorted(positions, key=lambda p: p.symbol) if p.quantity != 0]
        day = self._today.day
        self._today.roll(self._clock())
        if self._today.day != day:
            self._prev_closes.clear()
        await self._fetch_prev_closes([v.symbol for v in held] + sorted(self._today.symbols()))
        measured = day_positions(((v.position, v.mark) for v in held), self._prev_closes, self._today)
        self.positions_changed.emit(measured.views)
        self.account_changed.emit(with_day(account_summary(info, measured.views), measured.pnls))
        self.positions_status.emit(
            f"Positions from {session.broker_name} …{session.account_last4}, {self._clock().astimezone():%H:%M:%S}"
        )
        return True


def external_order(report: BrokerOrder, session: LiveSession) -> Order | None:
    """An order placed outside the app, as a journal row of the account it belongs to."""
    try:
        instrument = parse_symbol(report.symbol)
    except SymbolError:
        log.warning("An outside order for %s can't be shown: unknown symbol format", report.symbol)
        return None
    client_id = report.client_order_id or f"ext-{session.broker_key}-{report.broker_order_id}"
    quantity = report.quantity if report.quantity is not None else report.filled_quantity
    request = OrderRequest(
        instrument=instrument,
        side=report.side or Side.BUY,
        quantity=quantity,
        order_type=report.order_type or (OrderType.LIMIT if report.limit_price is not None else OrderType.MARKET),
        time_in_force=report.time_in_force or TimeInForce.DAY,
        limit_price=report.limit_price,
        stop_price=report.stop_price,
        client_order_id=client_id[:64],
    )
    reason = "placed outside TradeBridge" + ("" if report.side else " (side not reported by the broker)")
    return Order(
        request=request,
        mode=TradingMode.LIVE,
        status=report.status,
        created_at=report.updated_at,
        updated_at=report.updated_at,
        filled_quantity=report.filled_quantity,
        average_fill_price=report.average_fill_price,
        broker_order_id=report.broker_order_id,
        status_reason=report.reason or reason,
        broker=session.broker_key,
        account_last4=session.account_last4,
        external=True,
    )
