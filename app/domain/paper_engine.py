"""The paper-trading engine: accepts orders, works them against quotes and the clock, keeps cash and positions."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from app.domain.market_calendar import UsEquityCalendar, describe_time, local_date, require_aware
from app.domain.models import (
    AccountSummary,
    Fill,
    Order,
    OrderChange,
    OrderRequest,
    OrderStatus,
    Position,
    Quote,
    Side,
    TradingMode,
)
from app.domain.order_change import change_errors, changed_request, changes_priority
from app.domain.paper_account import (
    ZERO,
    PaperSettings,
    apply_fill,
    commission,
    may_raise_reserves,
    opening_quantities,
    opening_requirement,
    price_rose,
    reserve_basis,
)
from app.domain.paper_book import Entry, OrderBook, Starts, SymbolBook, entry_key, phase_of
from app.domain.paper_fills import Execution, Resting, evaluate, touch_price
from app.domain.paper_holds import Holds
from app.domain.paper_timing import (
    expiry,
    expiry_time,
    option_close,
    phase_bounds,
    quote_in_session,
    session_start,
)
from app.domain.ticks import fmt_money, fmt_price
from app.domain.validation import request_errors

__all__ = ["EngineUpdate", "PaperEngine", "PaperError", "PaperSettings"]

logger = logging.getLogger(__name__)


class PaperError(Exception):
    """A request the engine cannot carry out, such as cancelling an order that is no longer working."""


@dataclass(frozen=True, slots=True)
class EngineUpdate:
    """What one engine call changed: orders in their new state, new fills, changed positions, cash after."""

    orders: tuple[Order, ...]
    fills: tuple[Fill, ...]
    positions: tuple[Position, ...]
    cash: Decimal

    def __bool__(self) -> bool:
        return bool(self.orders or self.fills or self.positions)


class _Changes:
    """What the current engine call changed; one per engine, emptied at the start of every call."""

    __slots__ = ("orders", "fills", "positions", "_idle")

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.positions: dict[str, Position] = {}
        self._idle: EngineUpdate | None = None

    def begin(self) -> _Changes:
        if self.orders or self.fills or self.positions:
            self.orders = {}
            self.fills = []
            self.positions = {}
        return self

    def update(self, cash: Decimal) -> EngineUpdate:
        if self.orders or self.fills or self.positions:
            return EngineUpdate(tuple(self.orders.values()), tuple(self.fills), tuple(self.positions.values()), cash)
        # Nothing changed: most quotes. The same immutable answer serves every one of them.
        idle = self._idle
        if idle is None or idle.cash is not cash:
            idle = self._idle = EngineUpdate((), (), (), cash)
        return idle


class PaperEngine:
    """A simulated cash account; see docs/paper-trading.md for every rule it applies.

    The engine is pure: it never reads the clock or does I/O. Every call takes `now`, and the
    returned EngineUpdate says what to persist. It holds only working orders: an order that fills,
    expires, is canceled or rejected appears once in an update and is then released, so memory and
    the cost of each call follow the open orders, never the history. Restore it after a restart
    from the persisted cash, positions (closed ones too, with quantity 0, so realized P&L survives)
    and working orders.
    """

    def __init__(
        self,
        settings: PaperSettings,
        *,
        cash: Decimal,
        positions: Iterable[Position] = (),
        orders: Iterable[Order] = (),
        calendar: UsEquityCalendar | None = None,
    ) -> None:
        if isinstance(cash, float):
            raise TypeError("Paper cash must be a Decimal, not float.")
        self._cash = Decimal(cash)
        self._calendar = calendar or UsEquityCalendar()
        self._positions: dict[str, Position] = {}
        for position in positions:
            if position.symbol in self._positions:
                raise ValueError(f"Two positions in {position.symbol}.")
            self._positions[position.symbol] = position
        self._shorts = {symbol for symbol, p in self._positions.items() if p.quantity < 0}
        self._quotes: dict[str, Quote] = {}
        self._book = OrderBook()
        self._holds = Holds(settings, self._book, self._positions, self._shorts, self._quotes)
        self._changes = _Changes()
        self._starts_at: tuple[datetime, datetime, Starts] | None = None
        for order in orders:
            if not order.status.is_terminal:
                self._book.add(order, expiry_time(self._calendar, order))

    # --- state -------------------------------------------------------------------------------

    @property
    def settings(self) -> PaperSettings:
        return self._holds.settings

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def calendar(self) -> UsEquityCalendar:
        return self._calendar

    @property
    def orders(self) -> dict[str, Order]:
        """Working orders by client order id (finished ones are in the journal, not here)."""
        return {client_order_id: entry.order for client_order_id, entry in self._book.entries.items()}

    @property
    def open_orders(self) -> tuple[Order, ...]:
        """Orders still working, oldest first."""
        return tuple(entry.order for entry in sorted(self._book.entries.values(), key=entry_key))

    @property
    def open_order_count(self) -> int:
        """How many orders are working, without ordering them."""
        return len(self._book.entries)

    @property
    def positions(self) -> dict[str, Position]:
        """Positions by symbol; closed ones stay, with quantity 0, because they carry realized P&L."""
        return dict(self._positions)

    @property
    def buying_power(self) -> Decimal:
        """Buying power with short positions valued at the latest quotes the engine has seen."""
        return self._holds.buying_power(self._cash)

    def quote(self, symbol: str) -> Quote | None:
        """The latest quote the engine has taken for ``symbol``."""
        return self._quotes.get(symbol)

    def symbols_to_watch(self) -> frozenset[str]:
        """Symbols whose quotes the engine needs: open orders and open positions."""
        held = frozenset(symbol for symbol, p in self._positions.items() if p.quantity != 0)
        return frozenset(self._book.symbols) | held

    def summary(self, marks: Mapping[str, Decimal]) -> AccountSummary:
        """Cash, equity and P&L with positions valued at `marks` (average cost where a mark is missing)."""
        market_value = ZERO
        unrealized = ZERO
        for position in self._positions.values():
            mark = marks.get(position.symbol)
            value = position.market_value(mark if mark is not None else position.average_cost)
            market_value += value if value is not None else ZERO
            unrealized += position.unrealized_pnl(mark) or ZERO
        return AccountSummary(
            cash=self._cash,
            equity=self._cash + market_value,
            buying_power=self._cash - self._holds.position_hold(marks) - self._holds.order_hold(),
            realized_pnl=sum((p.realized_pnl for p in self._positions.values()), ZERO),
            unrealized_pnl=unrealized,
        )

    # --- commands ----------------------------------------------------------------------------

    def submit(self, request: OrderRequest, now: datetime, quote: Quote | None) -> EngineUpdate:
        """Accept (or reject) an order and fill it at once if the market and the quote allow."""
        require_aware(now)
        previous: Quote | None = None
        requoted = False
        if quote is not None:
            if quote.symbol != request.symbol:
                raise ValueError(f"A {quote.symbol} quote cannot price a {request.symbol} order.")
            previous = self._quotes.get(quote.symbol)
            requoted = self._take_quote(quote, previous, self._book.symbols.get(quote.symbol))
            if requoted:
                self._book.requoted.add(quote.symbol)
        if request.client_order_id in self._book:
            raise PaperError(f"An order with id {request.client_order_id} already exists.")
        changes = self._changes.begin()
        self._expire_due(now, changes)
        if requoted:
            self._recheck_reserves(request.symbol, previous, now, changes)
        order = Order(
            request=request, mode=TradingMode.PAPER, status=OrderStatus.NEW, created_at=now, updated_at=now
        )
        reason = self._rejection(order, now)
        if reason:
            logger.info("paper order %s rejected: %s", order.client_order_id, reason)
            changes.orders[order.client_order_id] = replace(order, status=OrderStatus.REJECTED, status_reason=reason)
            return changes.update(self._cash)
        entry = self._book.add(order, expiry_time(self._calendar, order))
        self._work(entry, now, self._starts(now), changes, announce=True)
        return changes.update(self._cash)

    def cancel(self, client_order_id: str, now: datetime) -> EngineUpdate:
        require_aware(now)
        entry = self._book.get(client_order_id)
        if entry is None:
            raise PaperError(
                f"There is no working paper order with id {client_order_id}; "
                "it may already have filled, expired or been canceled."
            )
        changes = self._changes.begin()
        self._finish(entry, OrderStatus.CANCELED, "canceled at your request", now, changes)
        return changes.update(self._cash)

    def replace(self, client_order_id: str, change: OrderChange, now: datetime) -> EngineUpdate:
        """Change a working order's quantity, limit or stop in place, under the same id.

        A new price or a larger size puts the order at the back of the queue, as a broker would; a
        smaller size keeps its place. The quantity stays above what has filled. The changed order
        must fit the buying power as a new order would (a change that frees buying power always
        fits), and is worked at once: a limit moved through the market fills. A refusal raises
        PaperError and changes nothing.
        """
        require_aware(now)
        entry = self._book.get(client_order_id)
        if entry is None:
            raise PaperError(
                f"There is no working paper order with id {client_order_id}; "
                "it may already have filled, expired or been canceled, so it can't be changed."
            )
        order = entry.order
        due = expiry(self._calendar, order)
        if due is not None and now >= due[0]:
            raise PaperError(f"The order can no longer be changed: it {due[1]}.")
        problems = change_errors(order, change, today=local_date(now))
        if problems:
            raise PaperError(" ".join(problems.values()))
        requeue = changes_priority(order, change)
        changed = replace(
            order,
            request=changed_request(order.request, change),
            queued_at=now if requeue else order.queued_at,
            updated_at=now,
        )
        refusal = self._change_refusal(entry, changed, requeue)
        if refusal:
            raise PaperError(refusal)
        logger.info("paper order %s changed", client_order_id)
        changes = self._changes.begin()
        entry = self._book.change(entry, changed, expiry_time(self._calendar, changed), requeue=requeue)
        self._work(entry, now, self._starts(now), changes, announce=True)
        return changes.update(self._cash)

    def _change_refusal(self, entry: Entry, changed: Order, requeue: bool) -> str:
        """Why the changed order no longer fits the account ('' when it does), judged as the book would hold it."""
        symbol = changed.symbol
        book = self._book.symbols[symbol]
        if requeue:
            orders = [*(e.order for e in book.by_age() if e is not entry), changed]
        else:
            orders = [changed if e is entry else e.order for e in book.by_age()]
        opening = opening_quantities(orders, self._positions)
        before = self._holds.opening(book)[changed.client_order_id]
        after = opening[changed.client_order_id]
        if changed.request.side is Side.SELL and after > 0 and after > before and not self.settings.allow_shorting:
            return self._short_refusal(changed, after)
        quote = self._quotes.get(symbol)
        held = sum((opening_requirement(o, opening[o.client_order_id], self.settings, quote) for o in orders), ZERO)
        power_before = self._holds.buying_power(self._cash)
        power_after = self._cash - self._holds.position_hold() - (self._holds.order_hold(skip=symbol) + held)
        if power_after < 0 and power_after < power_before:
            needed = opening_requirement(changed, after, self.settings, quote)
            return (
                f"Not enough buying power for the change: the order would need {fmt_money(needed)} "
                f"and {fmt_money(power_after + needed)} is available."
            )
        return ""

    def on_quote(self, quote: Quote, now: datetime) -> EngineUpdate:
        """Work the open orders the quote can move: stops it triggers, limits it crosses, orders waiting for it."""
        require_aware(now)
        symbol = quote.symbol
        quotes = self._quotes
        working = self._book
        previous = quotes.get(symbol)
        book = working.symbols.get(symbol)
        requoted = self._take_quote(quote, previous, book)
        changes = self._changes.begin()
        expires = working.next_expiry
        if expires is not None and expires <= now:
            self._expire_due(now, changes)
            book = working.symbols.get(symbol)
        if book is None:
            return changes.update(self._cash)
        if working.requoted:
            working.requoted.discard(symbol)
        cached = self._starts_at
        starts = cached[2] if cached is not None and cached[0] <= now < cached[1] else self._starts(now)
        acting = book.acting(quote if requoted else quotes[symbol], starts)
        if acting:
            entries = working.entries
            for entry in acting:
                if entries.get(entry.client_order_id) is entry:
                    self._work(entry, now, starts, changes)
        if requoted:
            if book.opening is None:
                self._holds.opening(book)
            if book.floating and may_raise_reserves(quote, *book.floors):
                self._recheck_reserves(symbol, previous, now, changes)
        return changes.update(self._cash)

    def on_clock(self, now: datetime) -> EngineUpdate:
        """Expire what is due and work what the clock can move (a session that opened or closed)."""
        require_aware(now)
        changes = self._changes.begin()
        self._expire_due(now, changes)
        starts = self._starts(now)
        for entry in self._book.acting_on_clock(self._quotes, starts):
            if self._book.get(entry.client_order_id) is entry:
                self._work(entry, now, starts, changes)
        return changes.update(self._cash)

    def reset(self, settings: PaperSettings) -> None:
        """Start over: the new settings' starting cash, no positions, no orders."""
        self._holds.settings = settings
        self._cash = settings.starting_cash
        self._positions.clear()
        self._shorts.clear()
        self._book.clear()

    def apply_settings(self, settings: PaperSettings) -> None:
        """Change slippage, commissions or shorting without a reset; starting cash applies at the next reset."""
        self._holds.settings = settings
        for book in self._book.symbols.values():
            book.held_back = None

    # --- order handling ----------------------------------------------------------------------

    def _rejection(self, order: Order, now: datetime) -> str:
        request = order.request
        problems = request_errors(request, today=local_date(now))
        if problems:
            return " ".join(problems.values())
        option = request.instrument.option
        if option is not None:
            ends = option_close(self._calendar, option.expiry)
            if now >= ends:
                return f"{request.symbol} expired at {describe_time(ends)}; it no longer trades."
        book = self._book.symbols.get(order.symbol)
        orders = [*(e.order for e in book.by_age()), order] if book else [order]
        opening = opening_quantities(orders, self._positions)[order.client_order_id]
        if request.side is Side.SELL and opening > 0 and not self.settings.allow_shorting:
            return self._short_refusal(order, opening)
        needed = opening_requirement(order, opening, self.settings, self._quotes.get(order.symbol))
        available = self._holds.buying_power(self._cash)
        # An order that only closes needs nothing, so it goes through even when buying power is negative.
        if needed > 0 and needed > available:
            return (
                f"Not enough buying power: this order needs {fmt_money(needed)} "
                f"and {fmt_money(available)} is available."
            )
        return ""

    def _short_refusal(self, order: Order, opening: Decimal) -> str:
        request = order.request
        if request.instrument.is_option:
            return (
                f"Selling {request.symbol} you do not hold would write the option; "
                "writing options needs short selling enabled in the paper settings."
            )
        held = self._positions[order.symbol].quantity if order.symbol in self._positions else ZERO
        if held < 0:
            return (
                f"You are short {-held:,} {request.symbol}; selling {request.quantity:,} more would add to the "
                "short, and short selling is off in the paper settings."
            )
        committed = held - (request.quantity - opening)
        pledged = f" ({committed:,} already in open sell orders)" if committed > 0 else ""
        return (
            f"You hold {held:,} {request.symbol}{pledged}; selling {request.quantity:,} would sell "
            "short, and short selling is off in the paper settings."
        )

    def _work(self, entry: Entry, now: datetime, starts: Starts, changes: _Changes, *, announce: bool = False) -> None:
        order = entry.order
        extended = order.request.extended_hours
        outcome = quote_in_session(self._calendar, order, self._quotes.get(order.symbol), now, starts[extended])
        if not isinstance(outcome, Resting):
            outcome = evaluate(order, outcome, self.settings.slippage_bps)
        if isinstance(outcome, Execution):
            self._fill(entry, outcome, now, changes)
            return
        previous = entry.wait
        if announce or previous != outcome.wait or outcome.stop_triggered != order.stop_triggered:
            order = replace(order, status_reason=outcome.reason, stop_triggered=outcome.stop_triggered, updated_at=now)
            changes.orders[order.client_order_id] = order
        self._book.worked(entry, outcome.wait, phase_of(starts, extended), order)

    def _fill(self, entry: Entry, execution: Execution, now: datetime, changes: _Changes) -> None:
        order = entry.order
        request = order.request
        instrument = request.instrument
        symbol = order.symbol
        quantity = order.remaining_quantity
        price = execution.price
        fee = commission(self.settings, instrument, quantity)
        before = self._positions.get(symbol)
        after = apply_fill(
            before, instrument=instrument, side=request.side, quantity=quantity, price=price, fee=fee
        )
        held = before.quantity if before else ZERO
        if after.quantity < min(held, ZERO) and not self.settings.allow_shorting:
            reason = "rejected at the fill: it would sell short, and short selling is off in the paper settings"
            self._finish(entry, OrderStatus.REJECTED, reason, now, changes)
            return
        flow = quantity * price * instrument.multiplier
        cash_after = self._cash - flow - fee if request.side is Side.BUY else self._cash + flow - fee
        others = self._holds.order_hold(skip=symbol)
        client_order_id = order.client_order_id
        holds = self._holds
        power_before = self._cash - holds.position_hold() - (others + holds.symbol_hold(symbol, client_order_id))
        power_after = cash_after - holds.position_hold(swap=after) - (
            others + holds.symbol_hold(symbol, client_order_id, after)
        )
        # A fill that leaves buying power negative is refused unless it improves it (closing a position).
        if power_after < 0 and power_after < power_before:
            reason = (
                f"rejected at the fill: it needed {fmt_money(power_before - power_after)} of buying power "
                f"at {fmt_price(price)} and {fmt_money(power_before)} was available"
            )
            self._finish(entry, OrderStatus.REJECTED, reason, now, changes)
            return
        self._cash = cash_after
        self._positions[symbol] = after
        if after.quantity < 0:
            self._shorts.add(symbol)
        else:
            self._shorts.discard(symbol)
        fill = Fill(
            client_order_id=client_order_id,
            symbol=symbol,
            side=request.side,
            quantity=quantity,
            price=price,
            commission=fee,
            filled_at=now,
            fill_id=f"{client_order_id}-1",
        )
        filled = replace(
            order,
            status=OrderStatus.FILLED,
            filled_quantity=order.filled_quantity + quantity,
            average_fill_price=price,
            stop_triggered=execution.stop_triggered,
            status_reason=f"filled at {fmt_price(price)}",
            updated_at=now,
        )
        logger.info("paper fill %s: %s %s %s @ %s", client_order_id, request.side.value, quantity, symbol, price)
        changes.orders[client_order_id] = filled
        self._book.remove(entry)
        changes.fills.append(fill)
        changes.positions[symbol] = after

    def _expire_due(self, now: datetime, changes: _Changes) -> None:
        for entry in self._book.due(now):
            due = expiry(self._calendar, entry.order)
            assert due is not None
            self._finish(entry, OrderStatus.EXPIRED, due[1], now, changes)

    def _finish(self, entry: Entry, status: OrderStatus, reason: str, now: datetime, changes: _Changes) -> None:
        order = entry.order
        logger.info("paper order %s %s: %s", order.client_order_id, status.value, reason)
        changes.orders[order.client_order_id] = replace(order, status=status, status_reason=reason, updated_at=now)
        self._book.remove(entry)

    def _recheck_reserves(self, symbol: str, previous: Quote | None, now: datetime, changes: _Changes) -> None:
        """Reject orders a new price made too big for the account, newest first, until buying power is not negative.

        An order placed without a price (a market order before any quote) or one priced at a moving
        quote reserves what the last quote said. When a quote raises that, the order is checked again,
        as a broker checks a held order at the open. What each order holds back only grows with the
        ask (buys) or the bid (short sales), so a quote that raises neither needs no look.
        """
        book = self._book.symbols.get(symbol)
        quote = self._quotes.get(symbol)
        if book is None or quote is None or not price_rose(previous, quote):
            return
        self._holds.opening(book)
        if not book.floating:
            return
        grown = [
            book.entries[i]
            for i in book.floating
            if reserve_basis(book.entries[i].order, quote) > reserve_basis(book.entries[i].order, previous)
        ]
        if not grown:
            return
        after = self._holds.floating_reserves(symbol, quote)
        power = self._holds.buying_power(self._cash)
        for entry in sorted(grown, key=entry_key, reverse=True):
            if power >= 0:
                return
            needed = after[entry.client_order_id]
            touched = touch_price(quote, entry.order.request.side)
            at = f"at {touched[0]} {fmt_price(touched[1])} " if touched else ""
            reason = (
                f"rejected when priced: {at}it needs {fmt_money(needed)} of buying power "
                f"and {fmt_money(power + needed)} is available"
            )
            self._finish(entry, OrderStatus.REJECTED, reason, now, changes)
            power = self._holds.buying_power(self._cash)

    # --- quotes and the clock ---------------------------------------------------------------

    def _take_quote(self, quote: Quote, current: Quote | None, book: SymbolBook | None) -> bool:
        """Keep `quote` unless it is older than the `current` one; `book` holds the symbol's orders, if any."""
        stamp = require_aware(quote.timestamp)
        if current is not None and stamp < current.timestamp:
            return False
        self._quotes[quote.symbol] = quote
        if book is not None:
            if book.opening is None:
                self._holds.opening(book)
            if book.floating:
                book.held_back = None
        return True

    def _starts(self, now: datetime) -> Starts:
        """When the sessions open at `now` began, for regular and extended-hours orders.

        They change only at a session's open or close or at midnight, so the answer is kept for the
        stretch of time around `now` in which it holds.
        """
        cached = self._starts_at
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[2]
        starts = (
            session_start(self._calendar, now, extended=False),
            session_start(self._calendar, now, extended=True),
        )
        since, until = phase_bounds(self._calendar, now)
        self._starts_at = (since, until, starts)
        return starts

