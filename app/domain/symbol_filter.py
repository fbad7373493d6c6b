"""Matching what a trader types against symbols in either form: the OCC code or the readable "AAPL 15 Jan 27 200 C".

A filter matches a symbol when the symbol, or its readable name, starts with the text (case and runs of
spaces ignored). ``readable_globs`` turns a readable prefix into SQLite GLOB patterns over compact OCC
symbols that match exactly the same options, so the journal filters in SQL with the rule
``symbol_matches`` applies to one order in memory.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from itertools import product

from app.domain.symbol_display import MONTHS, describe_symbol

_ROOT = re.compile(r"^[A-Z][A-Z0-9]{0,5}$", re.ASCII)
_MONTHS = tuple(name.upper() for name in MONTHS)
_D = "[0-9]"
_NONZERO = "[1-9]"


def normalize_filter(text: str) -> str:
    """Upper case with single spaces: how filter text is compared."""
    return " ".join((text or "").upper().split())


def symbol_matches(symbol: str, text: str) -> bool:
    """True when ``symbol`` or its readable name starts with ``text`` (already normalized)."""
    if not text or symbol.startswith(text):
        return True
    return " " in text and describe_symbol(symbol).upper().startswith(text)


def readable_globs(text: str) -> tuple[str, ...]:
    """GLOB patterns matching the compact OCC symbols whose readable name starts with ``text`` (normalized).

    Empty for text of one word (a plain prefix serves it) or text no readable name can start with.
    The last word may be cut short ("AAPL 15 J" matches January, June and July); earlier words are whole.
    """
    words = text.split(" ")
    if len(words) < 2 or len(words) > 6 or not _ROOT.match(words[0]):
        return ()
    root, parts = words[0], words[1:]
    slots: list[list[str]] = [[_D * 2], [_D * 2], [_D * 2], ["[CP]"], [_D * 8]]  # year, month, day, right, strike
    readers = (_day, _month, _year, _strike, _right)
    positions = (2, 1, 0, 4, 3)
    for number, (word, read) in enumerate(zip(parts, readers, strict=False)):
        whole = number < len(parts) - 1
        choices = read(word, whole)
        if not choices:
            return ()
        slots[positions[number]] = choices
    return tuple(root + "".join(parts_) for parts_ in product(*slots))


def _day(word: str, whole: bool) -> list[str]:
    if not word.isdigit() or word.startswith("0"):
        return []
    if whole or len(word) == 2:
        return [f"{int(word):02d}"] if 1 <= int(word) <= 31 and len(word) <= 2 else []
    return [f"0{word}"] + ([f"{word}{_D}"] if word in "123" else [])


def _month(word: str, whole: bool) -> list[str]:
    if whole:
        return [f"{_MONTHS.index(word) + 1:02d}"] if word in _MONTHS else []
    return [f"{n + 1:02d}" for n, name in enumerate(_MONTHS) if name.startswith(word)]


def _year(word: str, whole: bool) -> list[str]:
    if not word.isdigit() or len(word) > 2:
        return []
    if whole or len(word) == 2:
        return [word] if len(word) == 2 else []
    return [f"{word}{_D}"]


def _right(word: str, _whole: bool) -> list[str]:
    return [word] if word in ("C", "P") else []


def _strike(word: str, whole: bool) -> list[str]:
    """The 8-digit strike (dollars x 1000) of every strike whose text, as the readable name writes it, fits."""
    if whole:
        return _whole_strike(word)
    whole_part, dot, fraction = word.partition(".")
    if not whole_part.isdigit() or (fraction and not fraction.isdigit()) or len(whole_part) > 5:
        return []
    if len(whole_part) > 1 and whole_part.startswith("0"):
        return []
    if not dot:
        lengths = [1] if whole_part == "0" else range(len(whole_part), 6)
        return [f"{'0' * (5 - n)}{whole_part}{_D * (n - len(whole_part))}{_D * 3}" for n in lengths]
    head = f"{int(whole_part):05d}"
    return [head + tail for tail in _fractions(fraction)]


def _fractions(start: str) -> list[str]:
    """Three decimal digits that, written without trailing zeros, are not empty and start with ``start``."""
    if len(start) > 3 or (len(start) == 3 and start.endswith("0")):
        return []
    rest = 3 - len(start)
    if rest == 0:
        return [start]
    if start and not start.endswith("0"):
        return [start + _D * rest]
    # After a zero (or nothing) some later digit must be non-zero, or the text would stop before it.
    return [start + "0" * k + _NONZERO + _D * (rest - k - 1) for k in range(rest)]


def _whole_strike(word: str) -> list[str]:
    try:
        strike = Decimal(word)
    except InvalidOperation:
        return []
    millis = strike * 1000
    if strike <= 0 or millis != millis.to_integral_value() or millis >= 10**8:
        return []
    canonical = str(int(strike)) if strike == strike.to_integral() else format(strike.normalize(), "f")
    return [f"{int(millis):08d}"] if canonical == word else []
