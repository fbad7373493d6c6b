"""Display-ready quote and watchlist records the market-data controller hands to the views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.models import Quote
from app.domain.quote_age import Freshness
from app.domain.symbol_display import describe_symbol, symbol_tooltip


@dataclass(frozen=True, slots=True)
class QuoteView:
    """One symbol's latest quote as shown: prices, where it came from, and whether it is current.

    ``quote`` is None while nothing has arrived (``error`` then says why, if anything failed).
    A stale quote keeps its prices but ``stale`` is True and ``age`` says how old it is.
    """

    symbol: str
    quote: Quote | None
    source: str = ""
    stale: bool = False
    age: str = ""
    error: str = ""

    @property
    def display(self) -> str:
        return describe_symbol(self.symbol)

    @property
    def tooltip(self) -> str:
        return symbol_tooltip(self.symbol)

    @property
    def bid(self) -> Decimal | None:
        return self.quote.bid if self.quote else None

    @property
    def ask(self) -> Decimal | None:
        return self.quote.ask if self.quote else None

    @property
    def last(self) -> Decimal | None:
        return self.quote.last if self.quote else None

    @property
    def timestamp(self) -> datetime | None:
        return self.quote.timestamp if self.quote else None

    @property
    def volume(self) -> Decimal | None:
        return self.quote.volume if self.quote else None

    @property
    def change(self) -> Decimal | None:
        if self.quote is None or self.quote.prev_close is None:
            return None
        price = self.quote.last if self.quote.last is not None else self.quote.mark
        return None if price is None else price - self.quote.prev_close

    @property
    def change_percent(self) -> Decimal | None:
        change = self.change
        if change is None or self.quote is None or not self.quote.prev_close:
            return None
        return change / self.quote.prev_close * 100


def quote_view(symbol: str, quote: Quote | None, source: str, fresh: Freshness | None, error: str = "") -> QuoteView:
    return QuoteView(
        symbol=symbol,
        quote=quote,
        source=source,
        stale=bool(fresh and fresh.stale),
        # The age is shown only when stale; a current quote's view does not change as it ages.
        age=fresh.age_text if fresh and fresh.stale else "",
        error=error,
    )


@dataclass(frozen=True, slots=True)
class WatchlistsView:
    """The list names, the one on screen and its symbols in order."""

    names: tuple[str, ...]
    active: str
    symbols: tuple[str, ...]
