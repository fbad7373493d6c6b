"""The paper-trading controller: order ticket -> engine -> database -> views, and the quote/clock loop.

Every engine step runs on the app's event loop under one lock and is persisted through the
database worker before the views hear of it, so what the trader sees is what a restart restores.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import qasync
from PySide6.QtCore import QObject, Signal

from app.controller.entry_quote import UNVERIFIED, EntryQuote, judge_entry, look_up
from app.controller.risk_controller import Admission, RiskController
from app.controller.day_views import day_positions, with_day
from app.controller.views import PositionView
from app.domain.day_change import TodayTrades, day_start, trading_day
from app.domain.market_calendar import local_date
from app.domain.models import AccountSummary, Order, OrderRequest, OrderStatus, Quote, TradingMode
from app.domain.order_change import change_summary, changed_request, order_change_from_form
from app.domain.paper_engine import EngineUpdate, PaperEngine, PaperError, PaperSettings
from app.domain.risk import RiskDenial
from app.domain.settings_validation import SettingsError, parse_paper_settings
from app.domain.validation import TicketError, order_request_from_ticket
from app.marketdata.base import QuoteSource
from app.storage.fills_repository import fills_since
from app.storage.paper_repository import PaperState, load_paper_state, reset_paper_account, save_paper_update
from app.storage.settings_repository import load_paper_settings, save_paper_settings
from app.storage.worker import DatabaseWorker

log = logging.getLogger(__name__)

QUOTE_TIMEOUT_SECONDS = 10.0

class PaperTradingController(QObject):
    #: Orders created or changed by one engine step (never the whole list).
    orders_upserted = Signal(list)
    #: Executions booked by one engine step.
    fills_recorded = Signal(list)
    #: The journal's paper orders were replaced (a reset, or a reload after a failed save).
    journal_reset = Signal()
    positions_changed = Signal(list)
    account_changed = Signal(object)
    settings_changed = Signal(object)
    settings_saved = Signal()
    ticket_rejected = Signal(dict)
    #: Paper settings refused: field -> what is wrong, in plain words (every field at once).
    settings_rejected = Signal(dict)
    order_placed = Signal(str)
    order_rejected = Signal(str)
    #: Emitted after every ticket submission, whatever its outcome, so the ticket can take the next one.
    submission_finished = Signal()
    quotes_status = Signal(str)
    error = Signal(str)
    #: A change of a working order was refused: field -> what is wrong ('' for the order as a whole).
    change_rejected = Signal(dict)
    #: A change was made (client order id, a sentence for the trader).
    order_changed = Signal(str, str)

    def __init__(
        self,
        worker: DatabaseWorker,
        quotes: QuoteSource,
        clock: Callable[[], datetime],
        *,
        poll_interval: float = 5.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._quotes = quotes
        self._clock = clock
        self._poll_interval = poll_interval
        self._engine: PaperEngine | None = None
        self._marks: dict[str, Decimal] = {}
        #: Previous closes from the quotes, and today's executions: the day P&L's two references.
        self._prev_closes: dict[str, Decimal] = {}
        self._today = TodayTrades()
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None
        self._polling = False
        self._risk: RiskController | None = None
        #: The positions last emitted: an account revaluation that leaves them as they were emits none.
        self._shown_positions: list[PositionView] | None = None

    # ---- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the saved account and start following quotes."""
        await self._load()
        self._emit_account()
        if self._poller is None:
            self._polling = True
            self._poller = asyncio.ensure_future(self._poll_forever())

    async def stop(self) -> None:
        # Off before the cancel: a poll whose cancellation is swallowed on the way still ends at its next turn.
        self._polling = False
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            self._poller = None

    def set_quote_source(self, quotes: QuoteSource) -> None:
        """A connected broker's market data replaces the default source."""
        self._quotes = quotes

    @property
    def engine(self) -> PaperEngine:
        if self._engine is None:
            raise RuntimeError("the paper account is not loaded yet")
        return self._engine

    async def _load(self) -> None:
        settings = await self._worker.run(load_paper_settings)
        now = self._clock()
        state: PaperState = await self._worker.run(lambda s: load_paper_state(s, settings.starting_cash, now))
        self._engine = PaperEngine(settings, cash=state.cash, positions=state.positions, orders=state.orders)
        since = day_start(now)
        today = TodayTrades(trading_day(now))
        today.add(await self._worker.run(lambda s: fills_since(s, since, TradingMode.PAPER)))
        self._today = today
        self.settings_changed.emit(settings)

    # ---- slots --------------------------------------------------------------------------------

    @qasync.asyncSlot(dict)
    async def submit_ticket(self, ticket: dict[str, object]) -> None:
        try:
            await self.submit(ticket)
        finally:
            self.submission_finished.emit()

    async def submit(self, ticket: Mapping[str, object]) -> str | None:
        """Validate and place one paper order; returns its client order id, None when refused."""
        try:
            request = order_request_from_ticket(ticket, today=local_date(self._clock()))
        except TicketError as exc:
            self.ticket_rejected.emit(dict(exc.errors))
            return None
        with self._admit() as admission:
            if admission.denial is not None:
                self.ticket_rejected.emit({"risk": admission.denial.message})
                return None
            entry = await self._entry_quote(request)
            if entry.refusal:
                self.ticket_rejected.emit({"symbol": entry.refusal})
                return None
            async with self._lock:
                if (denial := self._risk_check(admission, request, entry.quote)) is not None:
                    self.ticket_rejected.emit({"risk": denial.message})
                    return None
                update = self.engine.submit(request, self._clock(), entry.quote)
                if entry.unverified:
                    update = _mark_unverified(update, request.client_order_id)
                if not await self._persist(update):
                    return None
        self._emit_update(update)
        placed = next(o for o in update.orders if o.client_order_id == request.client_order_id)
        if placed.status is OrderStatus.REJECTED:
            self.order_rejected.emit(f"Order rejected: {placed.status_reason}")
        else:
            self.order_placed.emit(request.client_order_id)
        return request.client_order_id

    @qasync.asyncSlot(str)
    async def cancel_order(self, client_order_id: str) -> None:
        await self.cancel(client_order_id)

    async def cancel(self, client_order_id: str) -> bool:
        async with self._lock:
            try:
                update = self.engine.cancel(client_order_id, self._clock())
            except PaperError as exc:
                self.error.emit(str(exc))
                return False
            if not await self._persist(update):
                return False
        self._emit_update(update)
        return True

    @qasync.asyncSlot(str, dict)
    async def change_order(self, client_order_id: str, values: dict[str, object]) -> None:
        await self.change(client_order_id, values)

    async def change(self, client_order_id: str, values: Mapping[str, object]) -> bool:
        """Change a working paper order's quantity, limit or stop (the modify form's values as typed).

        The change passes the same risk checks as a new order; a refusal changes nothing and says why.
        """
        with self._admit() as admission:
            async with self._lock:
                now = self._clock()
                order = self.engine.orders.get(client_order_id)
                if order is None:
                    self.change_rejected.emit(
                        {"": "That paper order is no longer working (filled, expired or canceled); nothing was changed."}
                    )
                    return False
                try:
                    change = order_change_from_form(order, values, today=local_date(now))
                except TicketError as exc:
                    self.change_rejected.emit(dict(exc.errors))
                    return False
                denial = admission.denial or self._change_risk_check(admission, order, changed_request(order.request, change))
                if denial is not None:
                    self.change_rejected.emit({"": denial.message})
                    return False
                try:
                    update = self.engine.replace(client_order_id, change, now)
                except PaperError as exc:
                    self.change_rejected.emit({"": str(exc)})
                    return False
                if not await self._persist(update):
                    self.change_rejected.emit({"": "The change could not be saved; nothing was changed."})
                    return False
        self._emit_update(update)
        self.order_changed.emit(client_order_id, f"Order {client_order_id} changed: {change_summary(order, change)}.")
        return True

    def _change_risk_check(self, admission: Admission, order: Order, request: OrderRequest) -> RiskDenial | None:
        """The changed order against the pre-trade limits, counted as the one open order it already is."""
        engine = self.engine
        quote = engine.quote(request.symbol)
        return admission.check(
            request,
            account=engine.summary(self._marks),
            positions=engine.positions,
            quotes={request.symbol: quote} if quote is not None else {},
            open_orders=engine.open_order_count - 1,
        )

    @qasync.asyncSlot()
    async def cancel_all_orders(self) -> None:
        await self.cancel_all()

    async def cancel_all(self) -> int:
        """Cancel every working paper order once; returns how many were cancelled."""
        cancelled = 0
        async with self._lock:
            for order in self.engine.open_orders:
                try:
                    update = self.engine.cancel(order.client_order_id, self._clock())
                except PaperError:
                    continue
                if not await self._persist(update):
                    break
                cancelled += 1
                self._emit_update(update)
        return cancelled

    @qasync.asyncSlot(dict)
    async def save_settings(self, values: dict[str, object]) -> None:
        await self.apply_settings(values)

    async def apply_settings(self, values: Mapping[str, object]) -> bool:
        try:
            settings = parse_paper_settings(values)
        except SettingsError as exc:
            self.settings_rejected.emit(exc.errors)
            return False
        async with self._lock:
            try:
                await self._worker.run(lambda s: save_paper_settings(s, settings))
            except Exception:
                log.exception("Saving paper settings failed")
                self.error.emit("The settings could not be saved; nothing was changed.")
                return False
            self.engine.apply_settings(settings)
        self.settings_changed.emit(settings)
        self.settings_saved.emit()
        self._emit_account()
        return True

    @qasync.asyncSlot()
    async def reset_account(self) -> None:
        await self.reset()

    async def reset(self) -> bool:
        """Start over with the configured starting cash (the view asks for confirmation first)."""
        async with self._lock:
            settings = self.engine.settings
            now = self._clock()
            try:
                await self._worker.run(lambda s: reset_paper_account(s, settings.starting_cash, now))
            except Exception:
                log.exception("Resetting the paper account failed")
                self.error.emit("The paper account could not be reset; nothing was changed.")
                return False
            self.engine.reset(settings)
            self._marks.clear()
            self._today = TodayTrades(trading_day(now))
        self.journal_reset.emit()
        self._emit_account()
        return True

    # ---- quotes and clock ---------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while self._polling:
            try:
                await self.refresh()
            except Exception:
                log.exception("Paper quote refresh failed")
            if self._polling:
                await asyncio.sleep(self._poll_interval)

    async def refresh(self) -> None:
        """One cycle: fresh quotes for watched symbols, work resting orders, expire at the close."""
        symbols = sorted(self.engine.symbols_to_watch())
        quotes = await self._fetch_quotes(symbols) if symbols else {}
        updates: list[EngineUpdate] = []
        async with self._lock:
            now = self._clock()
            for quote in quotes.values():
                update = self.engine.on_quote(quote, now)
                if await self._persist(update):
                    updates.append(update)
            update = self.engine.on_clock(now)
            if await self._persist(update):
                updates.append(update)
        for update in updates:
            self._emit_orders(update)
        if updates or quotes:
            self._emit_account()

    async def _fetch_quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return (await self._lookup(symbols))[0]

    async def _lookup(self, symbols: Iterable[str]) -> tuple[dict[str, Quote], frozenset[str]]:
        """Quotes, and the symbols whose quote could not be fetched (as opposed to symbols the source lacks).

        A failure for some symbols (an option chain, one asset class) keeps every quote that did arrive.
        """
        wanted = list(symbols)
        found = await look_up(self._quotes, wanted, QUOTE_TIMEOUT_SECONDS)
        quotes, unreachable, failure = found.quotes, found.unreachable, found.failure
        for symbol, quote in quotes.items():
            if quote.mark is not None:
                self._marks[symbol] = quote.mark
            if quote.prev_close is not None:
                self._prev_closes[symbol] = quote.prev_close
        if failure and not quotes:
            self.quotes_status.emit(f"Quotes unavailable: {failure}")
            return quotes, unreachable
        missing = [s for s in wanted if s not in quotes and s not in unreachable]
        delayed = " (delayed)" if getattr(self._quotes, "delayed", False) else ""
        status = f"Quotes: {self._quotes.name}{delayed}, updated {self._clock().astimezone():%H:%M:%S %Z}"
        if missing:
            status += f"; no quote for {', '.join(missing)}"
        if unreachable:
            status += f"; unavailable for {', '.join(sorted(unreachable))}: {failure}"
        self.quotes_status.emit(status)
        return quotes, unreachable

    async def _entry_quote(self, request: OrderRequest) -> EntryQuote:
        """The quote a new order is checked against, or why its symbol is refused at entry."""
        quotes, unreachable = await self._lookup([request.symbol])
        return judge_entry(request, quotes, unreachable, self._quotes.name)

    def _risk_check(self, admission: Admission, request: OrderRequest, quote: Quote | None) -> RiskDenial | None:
        engine = self.engine
        return admission.check(
            request,
            account=engine.summary(self._marks),
            positions=engine.positions,
            quotes={request.symbol: quote} if quote is not None else {},
            open_orders=engine.open_order_count,
        )

    def _admit(self) -> Admission:
        return self._risk.admit(TradingMode.PAPER) if self._risk is not None else Admission.ungated()

    def set_risk_gate(self, risk: RiskController) -> None:
        """Every paper order passes the shared pre-trade checks before it reaches the engine."""
        self._risk = risk
        risk.register_canceller(TradingMode.PAPER, self.cancel_all)

    # ---- persistence and views ----------------------------------------------------------------

    async def _persist(self, update: EngineUpdate) -> bool:
        """Write what changed; on failure reload the last saved state so memory never runs ahead."""
        if not update:
            return False
        try:
            await self._worker.write(
                lambda c: save_paper_update(
                    c, cash=update.cash, orders=update.orders, fills=update.fills, positions=update.positions
                )
            )
        except Exception:
            log.exception("Saving a paper update failed")
            self.error.emit("The paper account could not be saved; the last saved state was restored.")
            await self._load()
            self.journal_reset.emit()
            self._emit_account()
            return False
        return True

    def _emit_update(self, update: EngineUpdate) -> None:
        self._emit_orders(update)
        self._emit_account()

    def _emit_orders(self, update: EngineUpdate) -> None:
        if update.orders:
            self.orders_upserted.emit(list(update.orders))
        if update.fills:
            self._today.add(update.fills)
            self.fills_recorded.emit(list(update.fills))

    def _emit_account(self) -> None:
        """Positions and the account summary: bounded by holdings, not by the order history."""
        engine = self.engine
        day = self._today.day
        self._today.roll(self._clock())
        if day is not None and self._today.day != day:
            # A new day: yesterday's previous closes are two sessions old now.
            self._prev_closes.clear()
        held = [(position, self._marks.get(symbol)) for symbol, position in sorted(engine.positions.items())]
        measured = day_positions(held, self._prev_closes, self._today)
        if measured.views != self._shown_positions:
            # An order that rests changes no holding: the positions' views hear only of a change.
            self._shown_positions = measured.views
            self.positions_changed.emit(measured.views)
        summary: AccountSummary = with_day(engine.summary(self._marks), measured.pnls)
        self.account_changed.emit(summary)



def _with_reason(update: EngineUpdate, client_order_id: str, reason: str) -> EngineUpdate:
    orders = tuple(
        replace(o, status_reason=reason) if o.client_order_id == client_order_id else o for o in update.orders
    )
    return replace(update, orders=orders)


def _mark_unverified(update: EngineUpdate, client_order_id: str) -> EngineUpdate:
    """A limit order accepted while quotes were unreachable says so until the engine next describes it."""
    for order in update.orders:
        if order.client_order_id == client_order_id and not order.status.is_terminal:
            reason = f"{UNVERIFIED}; {order.status_reason}" if order.status_reason else UNVERIFIED
            return _with_reason(update, client_order_id, reason)
    return update
