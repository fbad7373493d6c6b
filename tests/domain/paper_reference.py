"""A plain paper engine that looks at every open order on every call: the reference the indexed engine must match."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
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
    buying_power,
    commission,
    opening_quantities,
    opening_requirement,
    order_reserves,
)
from app.domain.paper_book import quote_floats
from app.domain.paper_engine import EngineUpdate, PaperError
from app.domain.paper_fills import Execution, Resting, Wait, evaluate, touch_price
from app.domain.paper_timing import expiry, option_close, usable_quote
from app.domain.ticks import fmt_money, fmt_price
from app.domain.validation import request_errors

@dataclass(slots=True)
class _Changes:
    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)

    def update(self, cash: Decimal) -> EngineUpdate:
        return EngineUpdate(tuple(self.orders.values()), tuple(self.fills), tuple(self.positions.values()), cash)


class ReferenceEngine:
    """The paper engine's rules applied the plain way: every open order is looked at on every call.

    The engine is pure: it never reads the clock or does I/O. Every call takes `now`, and the
    returned EngineUpdate says what to persist. Restore it after a restart from the persisted cash,
    positions (closed ones too, with quantity 0, so realized P&L survives) and orders.
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
        self._settings = settings
        self._cash = Decimal(cash)
        self._calendar = calendar or UsEquityCalendar()
        self._positions: dict[str, Position] = {}
        for position in positions:
            if position.symbol in self._positions:
                raise ValueError(f"Two positions in {position.symbol}.")
            self._positions[position.symbol] = position
        self._orders: dict[str, Order] = {order.client_order_id: order for order in orders}
        self._quotes: dict[str, Quote] = {}
        # Last wait kind per open order, so a moving quote does not rewrite the reason on every tick.
        self._waits: dict[str, Wait] = {}

    # --- state -------------------------------------------------------------------------------

    @property
    def settings(self) -> PaperSettings:
        return self._settings

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def calendar(self) -> UsEquityCalendar:
        return self._calendar

    @property
    def orders(self) -> dict[str, Order]:
        """Every order since the last reset, open and finished, by client order id."""
        return dict(self._orders)

    @property
    def open_orders(self) -> tuple[Order, ...]:
        """Orders still working, oldest first."""
        return tuple(sorted(self._open(), key=lambda o: o.queue_time))

    @property
    def positions(self) -> dict[str, Position]:
        """Positions by symbol; closed ones stay, with quantity 0, because they carry realized P&L."""
        return dict(self._positions)

    @property
    def buying_power(self) -> Decimal:
        """Buying power with short positions valued at the latest quotes the engine has seen."""
        return self._buying_power(self._quote_marks())

    def symbols_to_watch(self) -> frozenset[str]:
        """Symbols whose quotes the engine needs: open orders and open positions."""
        held = frozenset(symbol for symbol, p in self._positions.items() if p.quantity != 0)
        return frozenset(o.symbol for o in self._open()) | held

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
            buying_power=self._buying_power(marks),
            realized_pnl=sum((p.realized_pnl for p in self._positions.values()), ZERO),
            unrealized_pnl=unrealized,
        )

    # --- commands ----------------------------------------------------------------------------

    def submit(self, request: OrderRequest, now: datetime, quote: Quote | None) -> EngineUpdate:
        """Accept (or reject) an order and fill it at once if the market and the quote allow."""
        require_aware(now)
        previous: Quote | None = None
        stored = False
        if quote is not None:
            if quote.symbol != request.symbol:
                raise ValueError(f"A {quote.symbol} quote cannot price a {request.symbol} order.")
            previous = self._quotes.get(quote.symbol)
            stored = self._take_quote(quote)
        if request.client_order_id in self._orders:
            raise PaperError(f"An order with id {request.client_order_id} already exists.")
        changes = _Changes()
        self._expire_due(now, changes)
        if stored:
            self._recheck(request.symbol, previous, now, changes)
        order = Order(
            request=request, mode=TradingMode.PAPER, status=OrderStatus.NEW, created_at=now, updated_at=now
        )
        reason = self._rejection(order, now)
        if reason:
            self._record(replace(order, status=OrderStatus.REJECTED, status_reason=reason), changes)
            return changes.update(self._cash)
        self._orders[order.client_order_id] = order
        self._work(order, now, changes, announce=True)
        return changes.update(self._cash)

    def cancel(self, client_order_id: str, now: datetime) -> EngineUpdate:
        require_aware(now)
        order = self._orders.get(client_order_id)
        if order is None:
            raise PaperError(f"There is no paper order with id {client_order_id}.")
        if order.status.is_terminal:
            raise PaperError(f"The order is already {order.status.value}; it can no longer be canceled.")
        changes = _Changes()
        self._finish(order, OrderStatus.CANCELED, "canceled at your request", now, changes)
        return changes.update(self._cash)

    def replace(self, client_order_id: str, change: OrderChange, now: datetime) -> EngineUpdate:
        """Change a working order; a new price or a larger size sends it to the back of the queue."""
        require_aware(now)
        order = self._orders.get(client_order_id)
        if order is None or order.status.is_terminal:
            raise PaperError(f"There is no working paper order with id {client_order_id}.")
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
        current = list(self.open_orders)
        if requeue:
            after = [*(o for o in current if o.client_order_id != client_order_id), changed]
        else:
            after = [changed if o.client_order_id == client_order_id else o for o in current]
        opening_before = opening_quantities(current, self._positions)[client_order_id]
        opening_after = opening_quantities(after, self._positions)[client_order_id]
        if (
            changed.request.side is Side.SELL
            and opening_after > 0
            and opening_after > opening_before
            and not self._settings.allow_shorting
        ):
            raise PaperError(self._short_refusal(changed, opening_after))
        marks = self._quote_marks()
        power_before = self._buying_power(marks)
        reserves = order_reserves(after, self._positions, self._settings, self._quotes)
        power_after = buying_power(self._cash, self._positions.values(), reserves.values(), marks)
        if power_after < 0 and power_after < power_before:
            raise PaperError("Not enough buying power for the change.")
        if requeue:
            # The back of the queue: after every order placed or requeued before it.
            del self._orders[client_order_id]
        self._orders[client_order_id] = changed
        changes = _Changes()
        self._work(changed, now, changes, announce=True)
        return changes.update(self._cash)

    def on_quote(self, quote: Quote, now: datetime) -> EngineUpdate:
        """Work every open order in the quote's symbol: stops trigger, limits cross, waiting orders fill."""
        require_aware(now)
        previous = self._quotes.get(quote.symbol)
        stored = self._take_quote(quote)
        changes = _Changes()
        self._expire_due(now, changes)
        for order in self.open_orders:
            if order.symbol == quote.symbol:
                self._work(order, now, changes)
        if stored:
            self._recheck(quote.symbol, previous, now, changes)
        return changes.update(self._cash)

    def on_clock(self, now: datetime) -> EngineUpdate:
        """Expire what is due and re-work open orders (a session that opened, a quote that arrived early)."""
        require_aware(now)
        changes = _Changes()
        self._expire_due(now, changes)
        for order in self.open_orders:
            self._work(order, now, changes)
        return changes.update(self._cash)

    def reset(self, settings: PaperSettings) -> None:
        """Start over: the new settings' starting cash, no positions, no orders."""
        self._settings = settings
        self._cash = settings.starting_cash
        self._positions.clear()
        self._orders.clear()
        self._waits.clear()

    def apply_settings(self, settings: PaperSettings) -> None:
        """Change slippage, commissions or shorting without a reset; starting cash applies at the next reset."""
        self._settings = settings

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
        open_orders = [*self._open(), order]
        opening = opening_quantities(open_orders, self._positions)[order.client_order_id]
        if request.side is Side.SELL and opening > 0 and not self._settings.allow_shorting:
            return self._short_refusal(order, opening)
        reserves = order_reserves(open_orders, self._positions, self._settings, self._quotes)
        needed = reserves[order.client_order_id]
        available = self._buying_power(self._quote_marks())
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

    def _work(self, order: Order, now: datetime, changes: _Changes, *, announce: bool = False) -> None:
        outcome = self._assess(order, now)
        if isinstance(outcome, Execution):
            self._fill(order, outcome, now, changes)
            return
        previous = self._waits.get(order.client_order_id)
        self._waits[order.client_order_id] = outcome.wait
        if announce or previous != outcome.wait or outcome.stop_triggered != order.stop_triggered:
            updated = replace(
                order, status_reason=outcome.reason, stop_triggered=outcome.stop_triggered, updated_at=now
            )
            self._record(updated, changes)

    def _assess(self, order: Order, now: datetime) -> Execution | Resting:
        quote = usable_quote(self._calendar, order, self._quotes.get(order.symbol), now)
        if isinstance(quote, Resting):
            return quote
        return evaluate(order, quote, self._settings.slippage_bps)

    def _fill(self, order: Order, execution: Execution, now: datetime, changes: _Changes) -> None:
        request = order.request
        instrument = request.instrument
        quantity = order.remaining_quantity
        price = execution.price
        fee = commission(self._settings, instrument, quantity)
        before = self._positions.get(order.symbol)
        after = apply_fill(
            before, instrument=instrument, side=request.side, quantity=quantity, price=price, fee=fee
        )
        held = before.quantity if before else ZERO
        if after.quantity < min(held, ZERO) and not self._settings.allow_shorting:
            reason = "rejected at the fill: it would sell short, and short selling is off in the paper settings"
            self._finish(order, OrderStatus.REJECTED, reason, now, changes)
            return
        flow = quantity * price * instrument.multiplier
        cash_after = self._cash - flow - fee if request.side is Side.BUY else self._cash + flow - fee
        marks = self._quote_marks()
        power_before = self._buying_power(marks, excluding=order.client_order_id)
        power_after = self._buying_power(
            marks,
            cash=cash_after,
            positions={**self._positions, order.symbol: after},
            excluding=order.client_order_id,
        )
        # A fill that leaves buying power negative is refused unless it improves it (closing a position).
        if power_after < 0 and power_after < power_before:
            reason = (
                f"rejected at the fill: it needed {fmt_money(power_before - power_after)} of buying power "
                f"at {fmt_price(price)} and {fmt_money(power_before)} was available"
            )
            self._finish(order, OrderStatus.REJECTED, reason, now, changes)
            return
        self._cash = cash_after
        self._positions[order.symbol] = after
        fill = Fill(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=request.side,
            quantity=quantity,
            price=price,
            commission=fee,
            filled_at=now,
            fill_id=f"{order.client_order_id}-1",
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
        self._record(filled, changes)
        changes.fills.append(fill)
        changes.positions[order.symbol] = after

    def _expire_due(self, now: datetime, changes: _Changes) -> None:
        for order in self.open_orders:
            due = expiry(self._calendar, order)
            if due is not None and now >= due[0]:
                self._finish(order, OrderStatus.EXPIRED, due[1], now, changes)

    def _finish(self, order: Order, status: OrderStatus, reason: str, now: datetime, changes: _Changes) -> None:
        self._waits.pop(order.client_order_id, None)
        self._record(replace(order, status=status, status_reason=reason, updated_at=now), changes)

    def _record(self, order: Order, changes: _Changes) -> None:
        self._orders[order.client_order_id] = order
        changes.orders[order.client_order_id] = order

    def _recheck(self, symbol: str, previous: Quote | None, now: datetime, changes: _Changes) -> None:
        """Orders whose reserve the new quote raised, newest first, are rejected while buying power is negative."""
        current = self._quotes[symbol]
        open_orders = self.open_orders
        opening = opening_quantities(open_orders, self._positions)
        grown = [
            o for o in open_orders
            if o.symbol == symbol and opening[o.client_order_id] > 0 and quote_floats(o)
            and opening_requirement(o, opening[o.client_order_id], self._settings, current)
            > opening_requirement(o, opening[o.client_order_id], self._settings, previous)
        ]
        for order in reversed(grown):
            power = self.buying_power
            if power >= 0:
                return
            needed = order_reserves(self._open(), self._positions, self._settings, self._quotes)[order.client_order_id]
            touched = touch_price(current, order.request.side)
            at = f"at {touched[0]} {fmt_price(touched[1])} " if touched else ""
            reason = (
                f"rejected when priced: {at}it needs {fmt_money(needed)} of buying power "
                f"and {fmt_money(power + needed)} is available"
            )
            self._finish(order, OrderStatus.REJECTED, reason, now, changes)

    # --- helpers -----------------------------------------------------------------------------

    def _open(self) -> list[Order]:
        return [o for o in self._orders.values() if not o.status.is_terminal]

    def _take_quote(self, quote: Quote) -> bool:
        require_aware(quote.timestamp)
        current = self._quotes.get(quote.symbol)
        if current is None or quote.timestamp >= current.timestamp:
            self._quotes[quote.symbol] = quote
            return True
        return False

    def _quote_marks(self) -> dict[str, Decimal]:
        return {symbol: q.mark for symbol, q in self._quotes.items() if q.mark is not None}

    def _buying_power(
        self,
        marks: Mapping[str, Decimal],
        *,
        cash: Decimal | None = None,
        positions: Mapping[str, Position] | None = None,
        excluding: str = "",
    ) -> Decimal:
        held = self._positions if positions is None else positions
        others = [o for o in self._open() if o.client_order_id != excluding]
        reserves = order_reserves(others, held, self._settings, self._quotes)
        return buying_power(self._cash if cash is None else cash, held.values(), reserves.values(), marks)
