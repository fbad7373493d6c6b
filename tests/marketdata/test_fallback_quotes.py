"""FallbackQuotes: the preferred source first, the fallback for what it can't price."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.domain.models import Quote
from app.marketdata.base import QuoteSource, QuoteUnavailable
from app.marketdata.fallback import FallbackQuotes

STAMP = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class Scripted:
    """A quote source answering from a dict, or failing when told to."""

    def __init__(self, name: str, prices: dict[str, str], *, fail: bool = False, delayed: bool = False) -> None:
        self.name = name
        self.delayed = delayed
        self.prices = prices
        self.fail = fail
        self.asked: list[list[str]] = []
        self.closed = False

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(symbols)
        self.asked.append(wanted)
        if self.fail:
            raise QuoteUnavailable(f"{self.name} is down")
        return {
            s: Quote(s, Decimal(p), Decimal(p), Decimal(p), STAMP) for s, p in self.prices.items() if s in wanted
        }

    async def close(self) -> None:
        self.closed = True


async def test_preferred_prices_win_and_only_missing_symbols_are_asked_of_the_fallback() -> None:
    broker = Scripted("broker", {"AAPL": "190"})
    cboe = Scripted("cboe", {"AAPL": "189", "MSFT": "410"}, delayed=True)
    source = FallbackQuotes(broker, cboe)
    assert isinstance(source, QuoteSource)
    quotes = await source.quotes(["AAPL", "MSFT", "ZZZZ"])
    assert {s: q.last for s, q in quotes.items()} == {"AAPL": Decimal("190"), "MSFT": Decimal("410")}
    assert cboe.asked == [["MSFT", "ZZZZ"]]
    assert source.delayed is False


async def test_a_preferred_source_without_data_falls_back_entirely() -> None:
    source = FallbackQuotes(Scripted("sandbox", {}, fail=True), Scripted("cboe", {"AAPL": "189"}))
    quotes = await source.quotes(["AAPL"])
    assert quotes["AAPL"].last == Decimal("189")


async def test_both_down_is_unavailable() -> None:
    source = FallbackQuotes(Scripted("a", {}, fail=True), Scripted("b", {}, fail=True))
    with pytest.raises(QuoteUnavailable):
        await source.quotes(["AAPL"])


async def test_close_leaves_the_fallback_open() -> None:
    broker, cboe = Scripted("broker", {}), Scripted("cboe", {})
    await FallbackQuotes(broker, cboe).close()
    assert broker.closed and not cboe.closed
