"""How a symbol reads to a trader: options as "AAPL 15 Jan 27 200 C", the OCC code kept for tooltips."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from app.domain.symbols import SymbolError, parse_symbol

#: Month names as the readable name writes them, whatever the computer's language (strftime's %b follows it).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _strike_text(strike: Decimal) -> str:
    if strike == strike.to_integral():
        return str(int(strike))
    return format(strike.normalize(), "f")


@lru_cache(maxsize=4096)
def describe_symbol(symbol: str) -> str:
    """The readable name of a symbol: an OCC option becomes "AAPL 15 Jan 27 200 C"; anything else is unchanged.

    Every table, the ticket, the watchlist and the chart title use this, with ``symbol_tooltip``
    giving the exact OCC code, so a trader never has to decode ``AAPL270115C00200000`` by eye.
    """
    try:
        instrument = parse_symbol(symbol)
    except SymbolError:
        return symbol
    option = instrument.option
    if option is None:
        return instrument.symbol
    expiry = option.expiry
    month = MONTHS[expiry.month - 1]
    return f"{option.underlying} {expiry.day} {month} {expiry:%y} {_strike_text(option.strike)} {option.right.value}"


@lru_cache(maxsize=4096)
def symbol_tooltip(symbol: str) -> str:
    """The exact code behind a readable name: the OCC symbol for an option, empty for anything else."""
    try:
        instrument = parse_symbol(symbol)
    except SymbolError:
        return ""
    return f"OCC {instrument.symbol}" if instrument.is_option else ""


def symbol_with_code(symbol: str) -> str:
    """The readable name with the OCC code after it, for text a trader may paste to a broker's desk."""
    readable = describe_symbol(symbol)
    return readable if readable == symbol else f"{readable} ({symbol})"


@lru_cache(maxsize=4096)
def symbol_sort_key(symbol: str) -> tuple[str, str, str, Decimal]:
    """Sorts symbols as a trader reads them: by underlying, then expiry, right and strike (a stock before its options)."""
    try:
        instrument = parse_symbol(symbol)
    except SymbolError:
        return (symbol.upper(), "", "", Decimal(0))
    option = instrument.option
    if option is None:
        return (instrument.symbol, "", "", Decimal(0))
    return (option.underlying, option.expiry.isoformat(), option.right.value, option.strike)
