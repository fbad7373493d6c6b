"""Paper account arithmetic: settings, commissions, average-cost positions and cash-account buying power."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from app.domain.models import AssetClass, Instrument, Order, OrderType, Position, Quote, Side
from app.domain.paper_fills import BPS, touch_price
from app.domain.symbols import parse_symbol
from app.domain.ticks import PENNY

# Reg T: a short sale needs 50% of its value on top of the proceeds, so a short position holds 150%.
SHORT_INITIAL_MARGIN = Decimal("0.5")
SHORT_POSITION_RESERVE = Decimal("1.5")
# Average cost keeps eight places: enough that rounding never shows in cents, short enough to read.
AVERAGE_COST_PLACES = Decimal("0.00000001")
ZERO = Decimal(0)

_MONEY_FIELDS = (
    "starting_cash",
    "slippage_bps",
    "commission_per_order",
    "commission_per_share",
    "commission_per_contract",
)


@dataclass(frozen=True, slots=True)
class PaperSettings:
    """How the paper account behaves. Money in dollars, slippage in basis points (1 bp = 0.01%)."""

    starting_cash: Decimal = Decimal("100000")
    slippage_bps: Decimal = Decimal(0)
    commission_per_order: Decimal = Decimal(0)
    commission_per_share: Decimal = Decimal(0)
    commission_per_contract: Decimal = Decimal(0)
    allow_shorting: bool = False

    def __post_init__(self) -> None:
        for name in _MONEY_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
                raise TypeError(f"PaperSettings.{name} must be a Decimal, not {type(value).__name__}.")
            value = Decimal(value)
            if not value.is_finite() or value < 0:
                raise ValueError(f"PaperSettings.{name} cannot be negative (got {value}).")
            object.__setattr__(self, name, value)
        if self.slippage_bps >= BPS:
            raise ValueError(f"Slippage must be below {BPS} bps (100%); got {self.slippage_bps}.")


def commission(settings: PaperSettings, instrument: Instrument, quantity: Decimal) -> Decimal:
    """Per-order charge plus per share or per contract, rounded to the cent."""
    per_unit = settings.commission_per_contract if instrument.is_option else settings.commission_per_share
    return (settings.commission_per_order + per_unit * quantity).quantize(PENNY, rounding=ROUND_HALF_UP)


def apply_fill(
    position: Position | None,
    *,
    instrument: Instrument,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal,
) -> Position:
    """The position after a fill, by average cost.

    Opening commissions go into the average cost; closing commissions come off the realized P&L.
    A fill that closes and reverses (a flip) books its whole commission against the closing part,
    and the new side opens at the fill price.
    """
    held = position.quantity if position else ZERO
    average = position.average_cost if position else ZERO
    realized = position.realized_pnl if position else ZERO
    multiplier = instrument.multiplier
    signed = quantity if side is Side.BUY else -quantity
    after = held + signed
    if held == 0 or (held > 0) == (signed > 0):
        fee_per_unit = fee / (quantity * multiplier)
        effective = price + fee_per_unit if side is Side.BUY else price - fee_per_unit
        average = ((abs(held) * average + quantity * effective) / abs(after)).quantize(
            AVERAGE_COST_PLACES, rounding=ROUND_HALF_EVEN
        )
    else:
        closing = min(quantity, abs(held))
        direction = 1 if held > 0 else -1
        realized += (price - average) * closing * direction * multiplier - fee
        if after == 0:
            average = ZERO
        elif (after > 0) != (held > 0):
            average = price
    return Position(
        symbol=instrument.symbol,
        asset_class=instrument.asset_class,
        quantity=after,
        average_cost=average,
        realized_pnl=realized,
    )


def position_requirement(position: Position, mark: Decimal | None) -> Decimal:
    """Cash a position holds back: 150% of a short stock's value, strike x 100 for a written option."""
    if position.quantity >= 0:
        return ZERO
    short = -position.quantity
    if position.asset_class is AssetClass.OPTION:
        return option_strike(position.symbol) * position.multiplier * short
    price = mark if mark is not None and mark > 0 else position.average_cost
    return SHORT_POSITION_RESERVE * short * price


def opening_quantities(open_orders: Iterable[Order], positions: Mapping[str, Position]) -> dict[str, Decimal]:
    """How much of each open order opens or adds to a position rather than closing one.

    Holdings are matched to open orders in time priority (oldest first): with 100 shares held, a
    second sell of 100 while the first is still open would open a short.
    """
    closable: dict[tuple[str, Side], Decimal] = {}
    opening: dict[str, Decimal] = {}
    for order in sorted(open_orders, key=lambda o: o.queue_time):
        side = order.request.side
        key = (order.symbol, side)
        if key not in closable:
            held = positions[order.symbol].quantity if order.symbol in positions else ZERO
            closable[key] = max(-held, ZERO) if side is Side.BUY else max(held, ZERO)
        remaining = order.remaining_quantity
        closing = min(remaining, closable[key])
        closable[key] -= closing
        opening[order.client_order_id] = remaining - closing
    return opening


def order_reserves(
    open_orders: Iterable[Order],
    positions: Mapping[str, Position],
    settings: PaperSettings,
    quotes: Mapping[str, Quote],
) -> dict[str, Decimal]:
    """What each open order holds back from buying power, by client order id (closing parts hold nothing)."""
    orders = list(open_orders)
    opening = opening_quantities(orders, positions)
    return {
        order.client_order_id: opening_requirement(
            order, opening[order.client_order_id], settings, quotes.get(order.symbol)
        )
        for order in orders
    }


def opening_requirement(order: Order, opening: Decimal, settings: PaperSettings, quote: Quote | None) -> Decimal:
    """Buying power an order needs for the part of it that opens or adds to a position."""
    if opening <= 0:
        return ZERO
    request = order.request
    instrument = request.instrument
    fee = commission(settings, instrument, order.remaining_quantity)
    if request.side is Side.BUY:
        return opening * _buy_reserve_price(order, settings, quote) * instrument.multiplier + fee
    if instrument.is_option:
        return option_strike(instrument.symbol) * instrument.multiplier * opening + fee
    return SHORT_INITIAL_MARGIN * opening * _sell_reserve_price(order, quote) + fee


def buying_power(
    cash: Decimal,
    positions: Iterable[Position],
    reserves: Iterable[Decimal],
    marks: Mapping[str, Decimal],
) -> Decimal:
    """Cash less what short positions and open orders hold back."""
    held_back = sum((position_requirement(p, marks.get(p.symbol)) for p in positions), ZERO)
    return cash - held_back - sum(reserves, ZERO)


@lru_cache(maxsize=1024)
def option_strike(symbol: str) -> Decimal:
    option = parse_symbol(symbol).option
    if option is None:
        raise ValueError(f"{symbol} is not an option symbol.")
    return option.strike


def _buy_reserve_price(order: Order, settings: PaperSettings, quote: Quote | None) -> Decimal:
    request = order.request
    if request.order_type.needs_limit and request.limit_price is not None:
        return request.limit_price
    touched = touch_price(quote, Side.BUY) if quote is not None else None
    market = touched[1] if touched else ZERO
    if request.order_type is OrderType.STOP and request.stop_price is not None:
        market = max(market, request.stop_price)
    return market * (1 + settings.slippage_bps / BPS)


def _sell_reserve_price(order: Order, quote: Quote | None) -> Decimal:
    request = order.request
    touched = touch_price(quote, Side.SELL) if quote is not None else None
    market = touched[1] if touched else ZERO
    if request.order_type.needs_limit and request.limit_price is not None:
        return max(request.limit_price, market)
    if request.order_type is OrderType.STOP and request.stop_price is not None:
        return request.stop_price
    return market


def price_rose(previous: Quote | None, quote: Quote) -> bool:
    """Whether the ask side (what buys reserve at) or the bid side (short sales) is higher than before."""
    if previous is None:
        return True
    new = _touch(quote.ask, quote.last)
    if new is not None:
        old = _touch(previous.ask, previous.last)
        if old is None or new > old:
            return True
    new = _touch(quote.bid, quote.last)
    if new is not None:
        old = _touch(previous.bid, previous.last)
        if old is None or new > old:
            return True
    return False


def reserve_basis(order: Order, quote: Quote | None) -> Decimal:
    """The price a quote-priced order reserves at (see opening_requirement); what it holds back
    rises exactly when this does."""
    if order.request.side is Side.BUY:
        market = _touch(quote.ask, quote.last) if quote is not None else None
    else:
        market = _touch(quote.bid, quote.last) if quote is not None else None
    return max(market if market is not None else ZERO, reserve_floor(order))


def reserve_floor(order: Order) -> Decimal:
    """The least a quote-priced order reserves at, whatever the quote: a buy stop's stop, a sell's limit, else 0.

    `reserve_basis` is the touch price raised to this floor, so a quote that touches at or under it
    cannot raise what the order holds back.
    """
    request = order.request
    if request.side is Side.BUY:
        if request.order_type is OrderType.STOP and request.stop_price is not None:
            return request.stop_price
        return ZERO
    if request.order_type.needs_limit and request.limit_price is not None:
        return request.limit_price
    return ZERO


def may_raise_reserves(quote: Quote, buy_floor: Decimal | None, sell_floor: Decimal | None) -> bool:
    """Whether `quote` can raise what some quote-priced order holds back, given the lowest floor of the
    buys and of the sells among them (None when a side has none): only a touch above a floor can."""
    if buy_floor is not None:
        touched = _touch(quote.ask, quote.last)
        if touched is not None and touched > buy_floor:
            return True
    if sell_floor is not None:
        touched = _touch(quote.bid, quote.last)
        if touched is not None and touched > sell_floor:
            return True
    return False


def _touch(first: Decimal | None, second: Decimal | None) -> Decimal | None:
    if first is not None and first > ZERO:
        return first
    if second is not None and second > ZERO:
        return second
    return None
