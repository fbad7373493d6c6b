"""Symbol parsing: equity tickers and OCC option symbols (root, expiry, right, strike)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from app.domain.models import AssetClass, Instrument, OptionDetails, OptionRight

_EQUITY = re.compile(r"^[A-Z][A-Z0-9]{0,5}([./][A-Z]{1,2})?$", re.ASCII)
# OCC: root (1-6 chars, padded with spaces to 6 in the official form), YYMMDD, C/P, strike x 1000 (8 digits).
_OCC = re.compile(r"^(?P<root>[A-Z][A-Z0-9]{0,5}) *(?P<date>[0-9]{6})(?P<right>[CP])(?P<strike>[0-9]{8})$", re.ASCII)


class SymbolError(ValueError):
    """The text is not a symbol we can trade."""


def parse_symbol(text: str) -> Instrument:
    """Turn what the trader typed into an Instrument, or raise SymbolError with a readable reason."""
    stripped = (text or "").strip()
    if not stripped:
        raise SymbolError("Enter a symbol.")
    if not stripped.isascii():
        # Upper-casing would turn look-alikes into tickers ("ſpy" -> "SPY"); symbols are plain ASCII.
        raise SymbolError(f"'{stripped[:24]}' is not a valid symbol: use plain letters and digits, e.g. AAPL.")
    cleaned = stripped.upper()
    occ = _OCC.match(cleaned)
    if occ:
        return Instrument(symbol=compact_occ(cleaned), asset_class=AssetClass.OPTION, option=_option_details(occ))
    if _EQUITY.match(cleaned):
        return Instrument(symbol=cleaned, asset_class=AssetClass.EQUITY)
    raise SymbolError(
        f"'{text.strip()}' is not a valid symbol: use a ticker such as AAPL or an OCC option symbol "
        "such as AAPL250117C00150000."
    )


def _option_details(match: re.Match[str]) -> OptionDetails:
    raw = match.group("date")
    try:
        expiry = date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    except ValueError as exc:
        raise SymbolError(f"The option symbol has an invalid expiry date ({raw}).") from exc
    strike = Decimal(int(match.group("strike"))) / 1000
    if strike <= 0:
        raise SymbolError("The option symbol has a zero strike.")
    return OptionDetails(
        underlying=match.group("root"),
        expiry=expiry,
        right=OptionRight(match.group("right")),
        strike=strike.normalize() if strike == strike.to_integral() else strike,
    )


def compact_occ(symbol: str) -> str:
    """OCC symbol without the padding spaces: 'AAPL  250117C00150000' -> 'AAPL250117C00150000'."""
    return symbol.replace(" ", "").upper()


def padded_occ(symbol: str) -> str:
    """OCC symbol with the root padded to six characters, as Tastytrade and the OCC spell it."""
    compact = compact_occ(symbol)
    return f"{compact[:-15]:<6}{compact[-15:]}"


def option_symbol(underlying: str, expiry: date, right: OptionRight, strike: Decimal) -> str:
    """Build the compact OCC symbol from its parts."""
    millis = int((strike * 1000).to_integral_value())
    return f"{underlying.upper()}{expiry:%y%m%d}{right.value}{millis:08d}"
