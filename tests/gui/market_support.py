"""A quote feed for the market-data GUI tests: exact timestamps, extra fields and failures per asset class."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from app.domain.models import Quote
from app.domain.symbols import parse_symbol
from app.marketdata.base import QuoteUnavailable


class StampedQuotes:
    """Serves the quotes set on it as they are; ``fail_options``/``fail_symbols`` make those requests fail."""

    name = "Test feed"
    delayed = False

    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}
        self.fail_options = False
        self.fail_symbols: set[str] = set()
        self.requests: list[list[str]] = []

    def set(
        self,
        symbol: str,
        *,
        bid: str | None,
        ask: str | None,
        last: str | None,
        at: datetime,
        bid_size: str | None = None,
        ask_size: str | None = None,
        prev_close: str | None = None,
        volume: str | None = None,
    ) -> None:
        d = lambda v: Decimal(v) if v is not None else None  # noqa: E731
        self._quotes[symbol] = Quote(
            symbol=symbol, bid=d(bid), ask=d(ask), last=d(last), timestamp=at,
            bid_size=d(bid_size), ask_size=d(ask_size), prev_close=d(prev_close), volume=d(volume),
        )

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(symbols)
        self.requests.append(wanted)
        options = [s for s in wanted if parse_symbol(s).is_option]
        if self.fail_options and options:
            raise QuoteUnavailable("Option quotes are unavailable right now.", failed=options)
        failing = [s for s in wanted if s in self.fail_symbols]
        found = {s: self._quotes[s] for s in wanted if s in self._quotes and s not in self.fail_symbols}
        if failing:
            raise QuoteUnavailable(f"No answer for {', '.join(failing)}.", partial=found, failed=failing)
        return found

    async def close(self) -> None:
        return None
