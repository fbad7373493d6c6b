"""The quote a new order is checked against at entry, paper and live alike, or why its symbol is refused.

A symbol the quote source answers for but does not know is refused. When the source can't be
reached, market and stop orders are refused (their value can't be checked) and a limit order may go
on, marked "unverified symbol".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.domain.models import OrderRequest, Quote
from app.marketdata.base import QuoteSource, QuoteUnavailable

UNVERIFIED = "unverified symbol"


@dataclass(frozen=True, slots=True)
class EntryQuote:
    """What the entry check found for a new order's symbol."""

    quote: Quote | None
    refusal: str = ""
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class QuoteLookup:
    """Quotes that arrived, the symbols whose quote could not be fetched, and why (empty when none failed).

    A symbol in neither is one the source answered for and does not know.
    """

    quotes: dict[str, Quote]
    unreachable: frozenset[str]
    failure: str = ""


async def look_up(source: QuoteSource, symbols: Iterable[str], timeout: float) -> QuoteLookup:
    """Ask ``source``; a failure for some symbols (an option chain, one asset class) keeps every quote that arrived."""
    wanted = list(symbols)
    try:
        quotes = await asyncio.wait_for(source.quotes(wanted), timeout)
    except QuoteUnavailable as exc:
        quotes = dict(exc.partial)
        unreachable = frozenset(exc.failed) or frozenset(s for s in wanted if s not in quotes)
        return QuoteLookup(quotes, unreachable, str(exc) or "the quote source failed")
    except asyncio.TimeoutError:
        return QuoteLookup({}, frozenset(wanted), "the quote source did not answer in time")
    return QuoteLookup(dict(quotes), frozenset())


def judge_entry(
    request: OrderRequest, quotes: Mapping[str, Quote], unreachable: frozenset[str], source_name: str
) -> EntryQuote:
    """The entry decision for ``request`` from one lookup of its symbol."""
    symbol = request.symbol
    if symbol in quotes:
        return EntryQuote(quotes[symbol])
    if symbol not in unreachable:
        return EntryQuote(None, refusal=f"{symbol} is not a symbol {source_name} knows; check the symbol.")
    if not request.order_type.needs_limit:
        return EntryQuote(
            None,
            refusal=(
                f"Quotes can't be reached right now, so {symbol} can't be checked: market and stop orders are "
                "refused until quotes are back. A limit order may rest, marked unverified symbol."
            ),
        )
    return EntryQuote(None, unverified=True)
