"""Pre-trade risk checks: pure functions of an order, the account, positions, quotes, limits and the clock.

Every order, paper or live, passes ``check_order`` before anything is sent or booked. A refusal is a
``RiskDenial`` that names the rule and the numbers, in the trader's words. Limits are inclusive: an
order exactly at a limit passes, one unit past it is refused.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.models import AccountSummary, OrderRequest, OrderType, Position, Quote, Side
from app.domain.ticks import fmt_money, fmt_price

ZERO = Decimal(0)
HUNDRED = Decimal(100)
RATE_WINDOW = timedelta(minutes=1)
#: Past the daily loss limit only reducing orders go through; at this multiple of it, nothing does.
HALT_MULTIPLE = Decimal("1.5")


class RiskRule(enum.Enum):
    """Which check refused an order."""

    HALTED = "halted"
    MAX_QUANTITY = "max_order_quantity"
    MAX_NOTIONAL = "max_order_notional"
    PRICE_BAND = "price_band_pct"
    MAX_OPEN_ORDERS = "max_open_orders"
    ORDER_RATE = "max_orders_per_minute"
    DAILY_LOSS = "daily_loss_limit"
    NO_PRICE = "no_price"


class LossState(enum.Enum):
    """Where the account stands against its daily loss limit."""

    NORMAL = "normal"
    REDUCE_ONLY = "reduce_only"
    HALTED = "halted"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The trader's limits; see docs/safety.md for what each one does and its default."""

    max_order_quantity: Decimal = Decimal(5_000)
    max_order_notional: Decimal = Decimal(50_000)
    price_band_pct: Decimal = Decimal(10)
    max_open_orders: int = 50
    max_orders_per_minute: int = 20
    daily_loss_limit: Decimal = Decimal(5_000)

    def __post_init__(self) -> None:
        errors = limit_errors(self)
        if errors:
            raise RiskLimitsError(errors)


class RiskLimitsError(ValueError):
    """Limits that can't be used; ``errors`` maps each field to a message a trader reads."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


LIMIT_FIELDS = (
    "max_order_quantity",
    "max_order_notional",
    "price_band_pct",
    "max_open_orders",
    "max_orders_per_minute",
    "daily_loss_limit",
)
_WHOLE_FIELDS = frozenset({"max_open_orders", "max_orders_per_minute"})
_LABELS = {
    "max_order_quantity": "The largest order quantity",
    "max_order_notional": "The largest order value",
    "price_band_pct": "The price band",
    "max_open_orders": "The number of open orders",
    "max_orders_per_minute": "The orders per minute",
    "daily_loss_limit": "The daily loss limit",
}
# Upper bounds keep every limit a number a person could mean (and keep the arithmetic exact).
_CEILINGS = {
    "max_order_quantity": Decimal(10_000_000),
    "max_order_notional": Decimal(1_000_000_000),
    "price_band_pct": Decimal(100),
    "max_open_orders": Decimal(10_000),
    "max_orders_per_minute": Decimal(10_000),
    "daily_loss_limit": Decimal(1_000_000_000),
}


def limit_errors(limits: RiskLimits) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in LIMIT_FIELDS:
        value = getattr(limits, name)
        if isinstance(value, (bool, float)) or not isinstance(value, (int, Decimal)):
            errors[name] = f"{_LABELS[name]} must be a number."
            continue
        problem = _value_problem(name, Decimal(value))
        if problem:
            errors[name] = problem
    return errors


def _value_problem(name: str, number: Decimal) -> str:
    if not number.is_finite() or number <= 0:
        return f"{_LABELS[name]} must be more than zero."
    if number > _CEILINGS[name]:
        return f"{_LABELS[name]} can be at most {_CEILINGS[name]:,}."
    if name in _WHOLE_FIELDS and number != number.to_integral_value():
        return f"{_LABELS[name]} must be a whole number."
    return ""


def parse_limits(values: Mapping[str, object]) -> RiskLimits:
    """Limits from what the trader typed in Settings; raises RiskLimitsError naming each bad field."""
    errors: dict[str, str] = {}
    parsed: dict[str, Decimal] = {}
    for name in LIMIT_FIELDS:
        text = str(values.get(name, "") or "").strip().replace(",", "").removeprefix("$").removesuffix("%").strip()
        if not text:
            errors[name] = f"{_LABELS[name]} is required."
        elif not text.isascii() or not _is_plain_number(text):
            errors[name] = f"'{str(values.get(name)).strip()[:24]}' is not a number."
        else:
            number = Decimal(text)
            problem = _value_problem(name, number)
            if problem:
                errors[name] = problem
            else:
                parsed[name] = number
    if errors:
        raise RiskLimitsError(errors)
    candidate: dict[str, object] = {
        name: int(number) if name in _WHOLE_FIELDS else number for name, number in parsed.items()
    }
    return RiskLimits(**candidate)  # type: ignore[arg-type]


def _is_plain_number(text: str) -> bool:
    body = text.removeprefix("-")
    whole, _, fraction = body.partition(".")
    if not (whole or fraction) or len(body) > 30:
        return False
    return (not whole or whole.isdigit()) and (not fraction or fraction.isdigit())


def limits_to_dict(limits: RiskLimits) -> dict[str, str]:
    return {name: str(getattr(limits, name)) for name in LIMIT_FIELDS}


def limits_from_dict(raw: Mapping[str, object]) -> RiskLimits:
    """Saved limits; a field missing or unreadable in storage falls back to its safe default."""
    defaults = RiskLimits()
    values: dict[str, object] = {}
    for name in LIMIT_FIELDS:
        default = getattr(defaults, name)
        try:
            number = Decimal(str(raw.get(name, default)))
            values[name] = int(number) if name in _WHOLE_FIELDS else number
        except (ArithmeticError, ValueError):
            values[name] = default
    try:
        return RiskLimits(**values)  # type: ignore[arg-type]
    except RiskLimitsError:
        return defaults


@dataclass(frozen=True, slots=True)
class RiskDenial:
    """Why an order was refused: the rule, a sentence with the numbers, and the ticket field it concerns."""

    rule: RiskRule
    message: str
    field: str = "risk"


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the checks look at besides the order. ``now`` and ``recent_orders`` are aware datetimes."""

    account: AccountSummary
    positions: Mapping[str, Position]
    quotes: Mapping[str, Quote]
    now: datetime
    open_orders: int = 0
    recent_orders: Sequence[datetime] = ()
    day_start_equity: Decimal | None = None
    halt_reason: str = ""


def check_order(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    """The first rule the order breaks, or None when every check passes."""
    if context.halt_reason:
        return RiskDenial(RiskRule.HALTED, f"Trading is halted ({context.halt_reason}); new orders are refused.")
    for check in (_daily_loss, _order_rate, _open_orders, _quantity, _price_band, _notional):
        denial = check(request, limits, context)
        if denial is not None:
            return denial
    return None


def check_rate(limits: RiskLimits, now: datetime, recent_orders: Sequence[datetime]) -> RiskDenial | None:
    """Only the rate rule: a cheap gate that refuses a burst before any quote is fetched."""
    count = orders_in_window(now, recent_orders)
    if count >= limits.max_orders_per_minute:
        return RiskDenial(
            RiskRule.ORDER_RATE,
            f"{count} orders in the last minute reached your limit of {limits.max_orders_per_minute} per minute; "
            "this order was refused, not queued.",
        )
    return None


def orders_in_window(now: datetime, recent_orders: Sequence[datetime]) -> int:
    start = now - RATE_WINDOW
    return sum(1 for at in recent_orders if start < at <= now)


def daily_loss(day_start_equity: Decimal | None, equity: Decimal) -> Decimal:
    """Loss since the session started (realized and unrealized); zero or less means no loss."""
    return ZERO if day_start_equity is None else day_start_equity - equity


def loss_state(limits: RiskLimits, day_start_equity: Decimal | None, equity: Decimal) -> LossState:
    loss = daily_loss(day_start_equity, equity)
    if loss >= limits.daily_loss_limit * HALT_MULTIPLE:
        return LossState.HALTED
    if loss >= limits.daily_loss_limit:
        return LossState.REDUCE_ONLY
    return LossState.NORMAL


def reference_price(request: OrderRequest, quote: Quote | None) -> Decimal | None:
    """The price an order's value is judged at: its limit, else its stop, else the side of the market it takes."""
    if request.order_type.needs_limit and request.limit_price is not None:
        return request.limit_price
    if request.order_type is OrderType.STOP and request.stop_price is not None:
        return request.stop_price
    if quote is None:
        return None
    touch = quote.ask if request.side is Side.BUY else quote.bid
    if touch is not None and touch > 0:
        return touch
    return quote.mark if quote.mark is not None and quote.mark > 0 else None


def order_value(request: OrderRequest, quote: Quote | None) -> Decimal | None:
    price = reference_price(request, quote)
    return None if price is None else request.quantity * price * request.instrument.multiplier


def reduces_position(request: OrderRequest, positions: Mapping[str, Position]) -> bool:
    """True when the whole order closes part of what is held (a sell of a long, a buy of a short)."""
    position = positions.get(request.symbol)
    held = position.quantity if position is not None else ZERO
    if request.side is Side.SELL:
        return held > 0 and request.quantity <= held
    return held < 0 and request.quantity <= -held


# ---- the rules, each a function of (request, limits, context) ------------------------------------


def _daily_loss(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    state = loss_state(limits, context.day_start_equity, context.account.equity)
    loss = daily_loss(context.day_start_equity, context.account.equity)
    if state is LossState.HALTED:
        return RiskDenial(
            RiskRule.DAILY_LOSS,
            f"Today's loss of {fmt_money(loss)} is past {fmt_money(limits.daily_loss_limit * HALT_MULTIPLE)} "
            f"(1.5 x your {fmt_money(limits.daily_loss_limit)} daily loss limit): trading is halted until the next "
            "session.",
        )
    if state is LossState.REDUCE_ONLY and not reduces_position(request, context.positions):
        return RiskDenial(
            RiskRule.DAILY_LOSS,
            f"Today's loss of {fmt_money(loss)} reached your {fmt_money(limits.daily_loss_limit)} daily loss limit: "
            "only orders that reduce a position are accepted until the next session.",
        )
    return None


def _order_rate(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    return check_rate(limits, context.now, context.recent_orders)


def _open_orders(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    if context.open_orders >= limits.max_open_orders:
        return RiskDenial(
            RiskRule.MAX_OPEN_ORDERS,
            f"You have {context.open_orders} open orders, your limit is {limits.max_open_orders}; "
            "cancel one or wait for fills before placing another.",
        )
    return None


def _quantity(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    if request.quantity > limits.max_order_quantity:
        unit = "contracts" if request.instrument.is_option else "shares"
        return RiskDenial(
            RiskRule.MAX_QUANTITY,
            f"Quantity {request.quantity:,} {unit} exceeds your {limits.max_order_quantity:,} per-order limit.",
            "quantity",
        )
    return None


def _price_band(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    quote = context.quotes.get(request.symbol)
    last = _last_price(quote)
    if last is None:
        return None
    band = last * limits.price_band_pct / HUNDRED
    for field, label, price in (
        ("limit_price", "limit", request.limit_price if request.order_type.needs_limit else None),
        ("stop_price", "stop", request.stop_price if request.order_type.needs_stop else None),
    ):
        if price is not None and abs(price - last) > band:
            away = abs(price - last) / last * HUNDRED
            return RiskDenial(
                RiskRule.PRICE_BAND,
                f"The {label} price {fmt_price(price)} is {away.quantize(Decimal('0.1'))}% away from the last price "
                f"{fmt_price(last)}; your price band allows {limits.price_band_pct.normalize():f}%.",
                field,
            )
    return None


def _notional(request: OrderRequest, limits: RiskLimits, context: RiskContext) -> RiskDenial | None:
    value = order_value(request, context.quotes.get(request.symbol))
    if value is None:
        return RiskDenial(
            RiskRule.NO_PRICE,
            f"There is no current price for {request.symbol}, so this market order's value can't be checked; "
            "use a limit order or try again when quotes are available.",
        )
    if value > limits.max_order_notional:
        return RiskDenial(
            RiskRule.MAX_NOTIONAL,
            f"Order value {_whole_money(value)} exceeds your {_whole_money(limits.max_order_notional)} "
            "per-order limit.",
            "quantity",
        )
    return None


def _last_price(quote: Quote | None) -> Decimal | None:
    if quote is None:
        return None
    for price in (quote.last, quote.mark):
        if price is not None and price > 0:
            return price
    return None


def _whole_money(amount: Decimal) -> str:
    """$61,200 for whole dollars, $61,200.50 otherwise."""
    text = fmt_money(amount)
    return text.removesuffix(".00")
