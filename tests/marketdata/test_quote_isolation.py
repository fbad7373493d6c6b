"""One asset class never takes another down: broker quotes per class, fallback keeps what arrived."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.brokers.base import BrokerUnavailable, Environment
from app.domain.models import Quote
from app.marketdata.base import QuoteUnavailable
from app.marketdata.broker_quotes import BrokerQuoteSource
from app.marketdata.fallback import FallbackQuotes

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
OPTION = "AAPL270115C00200000"


def quote(symbol: str, bid: str, ask: str) -> Quote:
    return Quote(symbol=symbol, bid=Decimal(bid), ask=Decimal(ask), last=None, timestamp=AT)


class OptionShyBroker:
    """Like a sandbox without option data: any request that names an option fails as a whole."""

    name = "Tradier"
    environment = Environment.PAPER

    def __init__(self) -> None:
        self.book = {"AAPL": quote("AAPL", "212.76", "212.89"), "MSFT": quote("MSFT", "450.01", "450.20")}
        self.calls: list[list[str]] = []

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        asked = list(symbols)
        self.calls.append(asked)
        if any(len(s) > 6 for s in asked):
            raise BrokerUnavailable("Tradier answered with an error (500).")
        return {s: self.book[s] for s in asked if s in self.book}


class ScriptedSource:
    def __init__(self, name: str, book: dict[str, Quote], failing: Iterable[str] = ()) -> None:
        self.name = name
        self.delayed = True
        self.book = book
        self.failing = set(failing)

    async def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        wanted = list(symbols)
        found = {s: self.book[s] for s in wanted if s in self.book}
        failed = [s for s in wanted if s in self.failing]
        if failed:
            raise QuoteUnavailable(f"{self.name} failed.", partial=found, failed=failed)
        return found

    async def close(self) -> None:
        return None


async def test_a_failing_option_keeps_the_stock_quotes() -> None:
    broker = OptionShyBroker()
    source = BrokerQuoteSource(broker)  # type: ignore[arg-type]

    with pytest.raises(QuoteUnavailable) as raised:
        await source.quotes(["AAPL", OPTION, "MSFT"])

    assert raised.value.partial == broker.book
    assert raised.value.failed == (OPTION,)
    assert broker.calls == [["AAPL", OPTION, "MSFT"], ["AAPL", "MSFT"], [OPTION]]


async def test_after_one_mixed_failure_each_class_is_asked_on_its_own() -> None:
    broker = OptionShyBroker()
    source = BrokerQuoteSource(broker)  # type: ignore[arg-type]
    with pytest.raises(QuoteUnavailable):
        await source.quotes(["AAPL", OPTION])
    broker.calls.clear()

    with pytest.raises(QuoteUnavailable):
        await source.quotes(["AAPL", OPTION])

    assert broker.calls == [["AAPL"], [OPTION]]
    assert await source.quotes(["MSFT"]) == {"MSFT": broker.book["MSFT"]}


async def test_a_single_class_failure_is_reported_whole() -> None:
    source = BrokerQuoteSource(OptionShyBroker())  # type: ignore[arg-type]
    with pytest.raises(QuoteUnavailable) as raised:
        await source.quotes([OPTION])
    assert raised.value.partial == {} and raised.value.failed == ()


async def test_fallback_keeps_what_arrived_and_names_what_failed() -> None:
    aapl = quote("AAPL", "212.76", "212.89")
    preferred = ScriptedSource("broker", {"AAPL": aapl}, failing=[OPTION])
    fallback = ScriptedSource("cboe", {}, failing=[OPTION])

    with pytest.raises(QuoteUnavailable) as raised:
        await FallbackQuotes(preferred, fallback).quotes(["AAPL", OPTION, "ZZZZZZ"])

    assert raised.value.partial == {"AAPL": aapl}
    assert raised.value.failed == (OPTION,)


async def test_fallback_prices_what_the_broker_could_not() -> None:
    aapl = quote("AAPL", "212.76", "212.89")
    option = quote(OPTION, "10.00", "10.20")
    preferred = ScriptedSource("broker", {"AAPL": aapl}, failing=[OPTION])
    fallback = ScriptedSource("cboe", {OPTION: option})

    assert await FallbackQuotes(preferred, fallback).quotes(["AAPL", OPTION]) == {"AAPL": aapl, OPTION: option}
