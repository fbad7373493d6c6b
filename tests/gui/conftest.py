"""GUI fixtures: the whole app on a temporary data dir, a fixed market clock and an in-memory quote feed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.models import Quote
from app.paths import AppPaths
from tests.gui.market_support import StampedQuotes

# Tuesday 24 November 2026, 10:30 in New York: the regular session is open.
SESSION_NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


class ScriptedQuotes:
    """A quote feed the test steers: it serves exactly the quotes set on it, stamped a minute ago."""

    name = "test feed"
    delayed = False

    def __init__(self, clock: "FixedClock") -> None:
        self._clock = clock
        self._quotes: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
        self._prev_closes: dict[str, Decimal] = {}
        self.requests: list[list[str]] = []

    def set(self, symbol: str, bid: str, ask: str, last: str, prev_close: str | None = None) -> None:
        self._quotes[symbol] = (Decimal(bid), Decimal(ask), Decimal(last))
        if prev_close is not None:
            self._prev_closes[symbol] = Decimal(prev_close)

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(symbols)
        self.requests.append(wanted)
        stamp = self._clock() - timedelta(minutes=1)
        return {
            s: Quote(symbol=s, bid=b, ask=a, last=l, timestamp=stamp, prev_close=self._prev_closes.get(s))
            for s in wanted
            if s in self._quotes
            for (b, a, l) in [self._quotes[s]]
        }

    async def close(self) -> None:
        return None


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SESSION_NOW)


@pytest.fixture
def feed(clock: FixedClock) -> ScriptedQuotes:
    return ScriptedQuotes(clock)


@pytest.fixture
def stamped() -> StampedQuotes:
    """A feed serving quotes exactly as set (timestamps and extra fields included), for the market-data views."""
    return StampedQuotes()


@pytest.fixture
def app_paths(tmp_path: Path) -> Iterator[AppPaths]:
    yield AppPaths(tmp_path / "data").ensure()
