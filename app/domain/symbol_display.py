"""How a symbol reads to a trader: options as "AAPL 15 Jan 27 200 C", the OCC code kept for tooltips."""

from __future__ import annotations

from decimal import Decimal

from app.domain.symbols import SymbolError, parse_symbol


def _strike_text(strike: Decimal) -> str:
    if strike == strike.to_integral():
        return str(int(strike))
    return format(strike.normalize(), "f")


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
    return f"{option.underlying} {expiry.day} {expiry:%b %y} {_strike_text(option.strike)} {option.right.value}"


def symbol_tooltip(symbol: str) -> str:
    """The exact code behind a readable name: the OCC symbol for an option, empty for anything else."""
    try:
        instrument = parse_symbol(symbol)
    except SymbolError:
        return ""
    return f"OCC {instrument.symbol}" if instrument.is_option else ""
