"""Price increments: tick sizes, conservative rounding and how prices read in messages."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
ONE_DOLLAR = Decimal(1)


def tick_size(price: Decimal, *, is_option: bool = False) -> Decimal:
    """The minimum price increment: a cent at $1 and above, 1/100 cent below (SEC Rule 612); options a cent.

    Options on many classes quote in nickels above $3; a cent is what every penny-pilot class and
    every broker we connect accepts, so the paper engine and the ticket use it too.
    """
    if is_option or price >= ONE_DOLLAR:
        return PENNY
    return SUB_PENNY


def is_on_tick(price: Decimal, *, is_option: bool = False) -> bool:
    return price % tick_size(price, is_option=is_option) == 0


def round_to_tick(price: Decimal, *, is_option: bool = False, up: bool) -> Decimal:
    """Round onto the tick grid, up (what a buyer pays) or down (what a seller receives).

    The tick is chosen from the rounded price, so 0.99995 rounded up becomes 1.0000 rather than
    jumping to a cent grid it was never on.
    """
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    tick = tick_size(price, is_option=is_option)
    rounded = price.quantize(tick, rounding=rounding)
    if not is_option and rounded >= ONE_DOLLAR and tick == SUB_PENNY:
        rounded = rounded.quantize(PENNY, rounding=rounding)
    return rounded


def fmt_price(price: Decimal) -> str:
    """A price as a trader reads it: two decimals, four below a dollar."""
    places = SUB_PENNY if Decimal(0) < abs(price) < ONE_DOLLAR else PENNY
    return f"{_quantize(price, places):,}"


def fmt_money(amount: Decimal) -> str:
    """An amount of dollars with thousands separators: $19,010.00 or -$250.50."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${_quantize(abs(amount), PENNY):,}"


def _quantize(value: Decimal, places: Decimal) -> Decimal:
    """Quantize with enough precision for any finite value: formatting a message must never raise."""
    if not value.is_finite():
        return value
    with localcontext() as context:
        context.prec = max(28, value.adjusted() + 8)
        return value.quantize(places)
